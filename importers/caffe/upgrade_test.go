package caffe

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"stride/proto/caffepb"
	"stride/runtime"
	"stride/tensor"
)

const v1Net = `name: "v1"
input: "data"
input_dim: 1 input_dim: 1 input_dim: 6 input_dim: 6
layers { name: "conv" type: CONVOLUTION bottom: "data" top: "conv"
  blobs_lr: 1 blobs_lr: 2 weight_decay: 1 weight_decay: 0
  convolution_param { num_output: 2 kernel_size: 3 weight_filler { type: "gaussian" std: 0.5 } bias_filler { type: "gaussian" std: 0.1 } } }
layers { name: "relu" type: RELU bottom: "conv" top: "conv" }
layers { name: "fc" type: INNER_PRODUCT bottom: "conv" top: "fc"
  inner_product_param { num_output: 3 weight_filler { type: "xavier" } } }
layers { name: "prob" type: SOFTMAX bottom: "fc" top: "prob" }
`

const v2Net = `name: "v1"
input: "data"
input_dim: 1 input_dim: 1 input_dim: 6 input_dim: 6
layer { name: "conv" type: "Convolution" bottom: "data" top: "conv"
  param { lr_mult: 1 decay_mult: 1 } param { lr_mult: 2 decay_mult: 0 }
  convolution_param { num_output: 2 kernel_size: 3 weight_filler { type: "gaussian" std: 0.5 } bias_filler { type: "gaussian" std: 0.1 } } }
layer { name: "relu" type: "ReLU" bottom: "conv" top: "conv" }
layer { name: "fc" type: "InnerProduct" bottom: "conv" top: "fc"
  inner_product_param { num_output: 3 weight_filler { type: "xavier" } } }
layer { name: "prob" type: "Softmax" bottom: "fc" top: "prob" }
`

func runNet(t *testing.T, n *Net, seed uint64) map[string]*tensor.Tensor {
	t.Helper()
	s, err := runtime.NewSession(n.Graph)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rng := rand.New(rand.NewPCG(seed, 1))
	in := map[string]*tensor.Tensor{}
	for _, v := range n.Graph.Inputs {
		shape, _ := v.Type.Static()
		x := tensor.Zeros(tensor.Float32, shape...)
		for i := range x.F32() {
			x.F32()[i] = float32(rng.NormFloat64())
		}
		in[v.Name] = x
	}
	out, err := s.Run(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestUpgradeV1(t *testing.T) {
	n1, err := ImportText("v1.prototxt", []byte(v1Net), Options{Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	n2, err := ImportText("v2.prototxt", []byte(v2Net), Options{Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	conv := n1.Layer("conv")
	if conv.Type != "Convolution" || conv.Line != 4 || conv.Params[1].LrMult != 2 || conv.Params[1].DecayMult != 0 {
		t.Errorf("conv upgraded to %+v", conv)
	}
	a, b := runNet(t, n1, 9)["prob"].F32(), runNet(t, n2, 9)["prob"].F32()
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("V1 and current nets differ: %v vs %v", a, b)
		}
	}
}

// A V1 caffemodel stores blobs in the legacy 4-D form (inner-product
// weights as 1 x 1 x N x K); they load into the current shapes.
func TestLegacyCaffemodel(t *testing.T) {
	legacy := func(num, ch, h, w int32, n int) *caffepb.BlobProto {
		bp := &caffepb.BlobProto{Num: proto.Int32(num), Channels: proto.Int32(ch), Height: proto.Int32(h), Width: proto.Int32(w)}
		for i := 0; i < n; i++ {
			bp.Data = append(bp.Data, float32(i)/100)
		}
		return bp
	}
	model := &caffepb.NetParameter{Name: proto.String("v1"), Layers: []*caffepb.V1LayerParameter{
		{Name: proto.String("conv"), Type: caffepb.V1LayerParameter_CONVOLUTION.Enum(),
			Blobs: []*caffepb.BlobProto{legacy(2, 1, 3, 3, 18), legacy(1, 1, 1, 2, 2)}},
		{Name: proto.String("fc"), Type: caffepb.V1LayerParameter_INNER_PRODUCT.Enum(),
			Blobs: []*caffepb.BlobProto{legacy(1, 1, 3, 32, 96), legacy(1, 1, 1, 3, 3)}},
	}}
	data, err := proto.Marshal(model)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "v1.caffemodel")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	n, err := ImportText("v1.prototxt", []byte(v1Net), Options{Weights: path})
	if err != nil {
		t.Fatal(err)
	}
	fc := n.Layer("fc").Params[0]
	if !fc.FromWeights || !tensor.SameShape(fc.Data.Shape, []int{3, 32}) || fc.Data.F32()[95] != 0.95 {
		t.Errorf("fc weights %v %v", fc.Data.Shape, fc.Data.F32()[95])
	}
	runNet(t, n, 1)
}

const v0Net = `name: "v0"
input: "data"
input_dim: 1 input_dim: 1 input_dim: 5 input_dim: 5
layers { layer { name: "pad1" type: "padding" pad: 1 } bottom: "data" top: "pad1" }
layers { layer { name: "conv1" type: "conv" num_output: 2 kernelsize: 3 stride: 1 biasterm: false
  weight_filler { type: "gaussian" std: 0.1 } blobs_lr: 3 } bottom: "pad1" top: "conv1" }
layers { layer { name: "pool1" type: "pool" pool: AVE kernelsize: 2 stride: 2 } bottom: "conv1" top: "pool1" }
layers { layer { name: "fc" type: "innerproduct" num_output: 4 } bottom: "pool1" top: "fc" }
`

func TestUpgradeV0(t *testing.T) {
	n, err := ImportText("v0.prototxt", []byte(v0Net), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(n.Layers) != 4 { // input, conv1, pool1, fc: the padding layer is folded
		t.Fatalf("%d layers", len(n.Layers))
	}
	conv := n.Layer("conv1")
	if conv.Bottoms[0] != "data" || conv.Proto.GetConvolutionParam().GetPad()[0] != 1 || len(conv.Params) != 1 || conv.Params[0].LrMult != 3 {
		t.Errorf("conv1 upgraded to %v", conv.Proto)
	}
	if conv.Line != 5 {
		t.Errorf("conv1 line %d, want 5", conv.Line)
	}
	if s := n.Layer("pool1").TopShapes[0]; !tensor.SameShape(s, []int{1, 2, 3, 3}) {
		t.Errorf("pool1 shape %v", s)
	}
	runNet(t, n, 2)
}
