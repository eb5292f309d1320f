package caffe

import (
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
