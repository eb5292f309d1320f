package caffe

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"stride/proto/caffepb"
)

// FuzzImportText feeds arbitrary text to the prototxt parser and the
// importer: errors are fine, panics are not.
func FuzzImportText(f *testing.F) {
	for _, s := range []string{inPlaceNet, v1Net, v0Net, input4} {
		f.Add([]byte(s))
	}
	for _, p := range []string{"layer_zoo/deploy.prototxt", "googlenet/deploy.prototxt"} {
		if data, err := os.ReadFile(filepath.Join(refDir, p)); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := ImportText("fuzz.prototxt", data, Options{MaxParams: 1 << 20})
		if err != nil && strings.Contains(err.Error(), "panic") {
			t.Fatal(err)
		}
		if err == nil && n.Graph == nil {
			t.Fatal("no graph and no error")
		}
	})
}

// FuzzDecodeWeights feeds arbitrary bytes to the caffemodel decoder, then
// uses the result as the weights of a small net.
func FuzzDecodeWeights(f *testing.F) {
	seed := &caffepb.NetParameter{Layer: []*caffepb.LayerParameter{
		{Name: proto.String("conv"), Type: proto.String("Convolution"), Blobs: []*caffepb.BlobProto{
			blob([]int64{2, 4, 3, 3}, 72), blob([]int64{2}, 2)}},
	}}
	data, err := proto.Marshal(seed)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	legacy := &caffepb.NetParameter{Layers: []*caffepb.V1LayerParameter{
		{Name: proto.String("conv"), Type: caffepb.V1LayerParameter_CONVOLUTION.Enum(), Blobs: []*caffepb.BlobProto{
			{Num: proto.Int32(2), Channels: proto.Int32(4), Height: proto.Int32(3), Width: proto.Int32(3), Data: make([]float32, 72)}}},
	}}
	if data, err = proto.Marshal(legacy); err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	net, err := ParseNetText("net", []byte(input4+`layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 2 kernel_size: 3 } }`))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := DecodeWeights(data)
		if err != nil {
			return
		}
		_, err = ImportProto(proto.Clone(net).(*caffepb.NetParameter), w, Options{MaxParams: 1 << 20})
		if err != nil && strings.Contains(err.Error(), "panic") {
			t.Fatal(err)
		}
	})
}

// FuzzLayerParams imports small nets whose layer parameters and input
// sizes are fuzzed numbers, reaching the shape rules that text mutation
// rarely does.
func FuzzLayerParams(f *testing.F) {
	f.Add(int64(3), int64(2), int64(1), int64(7), int64(6), int64(2), int64(-1))
	f.Add(int64(1), int64(3), int64(0), int64(3), int64(3), int64(0), int64(2))
	f.Add(int64(0), int64(0), int64(0), int64(1), int64(1), int64(-1), int64(5))
	f.Fuzz(func(t *testing.T, k, s, p, h, w, n, axis int64) {
		u := func(v int64) int64 { return min(max(v, -v), 1<<32-1) }
		in := fmt.Sprintf("layer { name: \"d\" type: \"Input\" top: \"d\" input_param { shape { dim: 2 dim: 3 dim: %d dim: %d } } }\n", h, w)
		layers := []string{
			fmt.Sprintf(`pooling_param { pool: AVE kernel_size: %d stride: %d pad: %d }`, u(k), u(s), u(p)),
			fmt.Sprintf(`pooling_param { pool: MAX kernel_h: %d kernel_w: %d stride_h: %d stride_w: %d pad_h: %d pad_w: %d round_mode: FLOOR }`, u(k), u(n), u(s), u(s), u(p), u(n)),
		}
		nets := []string{
			in + `layer { name: "l" type: "Pooling" bottom: "d" top: "l" ` + layers[0] + " }",
			in + `layer { name: "l" type: "Pooling" bottom: "d" top: "l" ` + layers[1] + " }",
			in + fmt.Sprintf(`layer { name: "l" type: "Convolution" bottom: "d" top: "l" convolution_param { num_output: %d kernel_size: %d stride: %d pad: %d dilation: %d group: %d axis: %d } }`, u(n), u(k), u(s), u(p), u(n), u(axis), axis),
			in + fmt.Sprintf(`layer { name: "l" type: "Deconvolution" bottom: "d" top: "l" convolution_param { num_output: %d kernel_size: %d stride: %d pad: %d } }`, u(n), u(k), u(s), u(p)),
			in + fmt.Sprintf(`layer { name: "l" type: "Reshape" bottom: "d" top: "l" reshape_param { shape { dim: %d dim: %d dim: %d } axis: %d num_axes: %d } }`, n, k, s, axis, p),
			in + fmt.Sprintf(`layer { name: "l" type: "InnerProduct" bottom: "d" top: "l" inner_product_param { num_output: %d axis: %d transpose: true } }`, u(n), axis),
			in + fmt.Sprintf(`layer { name: "l" type: "Flatten" bottom: "d" top: "l" flatten_param { axis: %d end_axis: %d } }`, axis, n),
			in + fmt.Sprintf(`layer { name: "l" type: "Slice" bottom: "d" top: "a" top: "b" slice_param { axis: %d slice_point: %d } }`, axis, u(k)),
			in + fmt.Sprintf(`layer { name: "l" type: "Crop" bottom: "d" bottom: "d" top: "l" crop_param { axis: %d offset: %d } }`, axis, u(k)),
			in + fmt.Sprintf(`layer { name: "l" type: "ArgMax" bottom: "d" top: "l" argmax_param { top_k: %d axis: %d out_max_val: true } }`, u(k), axis),
			in + fmt.Sprintf(`layer { name: "l" type: "Tile" bottom: "d" top: "l" tile_param { axis: %d tiles: %d } }`, axis, n),
			in + fmt.Sprintf(`layer { name: "l" type: "Scale" bottom: "d" top: "l" scale_param { axis: %d num_axes: %d bias_term: true } }`, axis, n),
			in + fmt.Sprintf(`layer { name: "l" type: "Reduction" bottom: "d" top: "l" reduction_param { axis: %d operation: MEAN } }`, axis),
			in + fmt.Sprintf(`layer { name: "l" type: "LRN" bottom: "d" top: "l" lrn_param { local_size: %d norm_region: WITHIN_CHANNEL } }`, u(k)),
			in + fmt.Sprintf(`layer { name: "l" type: "Softmax" bottom: "d" top: "l" softmax_param { axis: %d } }`, axis),
			in + fmt.Sprintf(`layer { name: "l" type: "Concat" bottom: "d" bottom: "d" top: "l" concat_param { axis: %d } }`, axis),
		}
		for _, net := range nets {
			_, err := ImportText("fuzz.prototxt", []byte(net), Options{MaxParams: 1 << 20})
			if err != nil && strings.Contains(err.Error(), "panic") {
				t.Fatalf("%s\n%v", net, err)
			}
		}
	})
}
