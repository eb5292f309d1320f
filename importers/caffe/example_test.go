package caffe_test

import (
	"fmt"

	"stride/importers/caffe"
	"stride/importers/onnx"
)

// Import translates a Caffe net and its trained weights into the op graph,
// which runs on the runtime or is written out as ONNX.
func ExampleImport() {
	net, err := caffe.Import("../../testdata/caffe/lenet-pretrained/lenet.prototxt",
		caffe.Options{Weights: "../../testdata/caffe/lenet-pretrained/lenet_iter_10000.caffemodel"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, l := range net.Layers {
		fmt.Println(l.Name, l.Type, l.TopShapes[0])
	}
	if _, err := onnx.Encode(net.Graph); err != nil {
		fmt.Println(err)
	}
	// Output:
	// data Input [64 1 28 28]
	// conv1 Convolution [64 20 24 24]
	// pool1 Pooling [64 20 12 12]
	// conv2 Convolution [64 50 8 8]
	// pool2 Pooling [64 50 4 4]
	// ip1 InnerProduct [64 500]
	// relu1 ReLU [64 500]
	// ip2 InnerProduct [64 10]
	// prob Softmax [64 10]
}
