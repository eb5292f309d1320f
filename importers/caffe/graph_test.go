package caffe

import (
	"context"
	"strings"
	"testing"

	"stride/graph"
	"stride/runtime"
	"stride/tensor"
)

func importString(t *testing.T, text string, opts Options) *Net {
	t.Helper()
	n, err := ImportText("test.prototxt", []byte(text), opts)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func nodeNamed(g *graph.Graph, name string) *graph.Node {
	for _, n := range g.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

const inPlaceNet = `name: "inplace"
layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 2 dim: 5 dim: 5 } } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 3 kernel_size: 3 pad: 1 weight_filler { type: "gaussian" std: 1 } } }
layer { name: "bn1" type: "BatchNorm" bottom: "conv1" top: "conv1" }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "drop1" type: "Dropout" bottom: "conv1" top: "conv1" }
layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
`

// In-place layers: the blob's name goes to its final value, earlier values
// are named after the layer that overwrites them, nodes after layers.
func TestInPlaceNaming(t *testing.T) {
	n := importString(t, inPlaceNet, Options{Seed: 3})
	g := n.Graph
	conv := nodeNamed(g, "conv1")
	bn := nodeNamed(g, "bn1")
	relu := nodeNamed(g, "relu1")
	if conv == nil || bn == nil || relu == nil {
		t.Fatalf("nodes %v", n.Layer("conv1").Nodes)
	}
	if conv.Outputs[0] != "conv1/pre_bn1" || bn.Outputs[0] != "conv1/pre_relu1" || relu.Outputs[0] != "conv1" {
		t.Errorf("values: conv %v, bn %v, relu %v", conv.Outputs, bn.Outputs, relu.Outputs)
	}
	if conv.Source != `layer "conv1" (line 3)` {
		t.Errorf("source %q", conv.Source)
	}
	if pool := nodeNamed(g, "pool1"); pool.Inputs[0] != "conv1" {
		t.Errorf("pool reads %v", pool.Inputs)
	}
	// Each version can be asked for; "conv1" is the value after ReLU.
	sel, err := n.SelectOutputs([]string{"conv1", "conv1/pre_relu1"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := runtime.NewSession(sel)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	x := tensor.Zeros(tensor.Float32, 1, 2, 5, 5)
	for i := range x.F32() {
		x.F32()[i] = float32(i%7) - 3
	}
	out, err := s.RunList(context.Background(), map[string]*tensor.Tensor{"data": x})
	if err != nil {
		t.Fatal(err)
	}
	neg := false
	for i, v := range out[1].F32() {
		want := max(v, 0)
		if out[0].F32()[i] != want {
			t.Fatalf("conv1[%d] = %v, want relu(%v)", i, out[0].F32()[i], v)
		}
		neg = neg || v < 0
	}
	if !neg {
		t.Error("test input gives no negative pre-ReLU value")
	}
	if _, err := n.SelectOutputs([]string{"nope"}); err == nil {
		t.Error("unknown output accepted")
	}
}

func attrInts(n *graph.Node, name string) []int64 {
	v, _ := n.AttrInts(name, nil)
	return v
}

// Caffe's rounded-up pooling is expressed with explicit end pads.
func TestPoolingStructure(t *testing.T) {
	net := `layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 1 dim: 7 dim: 6 } } }
layer { name: "max" type: "Pooling" bottom: "data" top: "max" pooling_param { pool: MAX kernel_size: 3 stride: 2 } }
layer { name: "ave" type: "Pooling" bottom: "data" top: "ave" pooling_param { pool: AVE kernel_size: 3 stride: 2 pad: 1 } }
layer { name: "ave_np" type: "Pooling" bottom: "data" top: "ave_np" pooling_param { pool: AVE kernel_size: 2 stride: 2 } }
layer { name: "floor" type: "Pooling" bottom: "data" top: "floor" pooling_param { pool: MAX kernel_size: 3 stride: 2 round_mode: FLOOR } }
`
	n := importString(t, net, Options{})
	g := n.Graph
	mp := nodeNamed(g, "max")
	// H: 7 -> ceil(4/2)+1 = 3, no overhang; W: 6 -> ceil(3/2)+1 = 3, one column of overhang.
	if mp.Op != "MaxPool" || !sameInt64s(attrInts(mp, "pads"), []int64{0, 0, 0, 1}) || n.Layer("max").TopShapes[0][3] != 3 {
		t.Errorf("max: %s pads %v shape %v", mp.Op, attrInts(mp, "pads"), n.Layer("max").TopShapes[0])
	}
	// AVE with pad 1: H 7 -> ceil(6/2)+1 = 4 (windows end at 7+1: no overhang), W 6 -> ceil(5/2)+1 = 4,
	// last window starts at 6-1 = 5 < 6+1, overhang 1 beyond the padded width: explicit Pad, then
	// AveragePool not counting its own pads.
	ave := nodeNamed(g, "ave")
	pad := nodeNamed(g, "ave/pad")
	if pad == nil || ave.Op != "AveragePool" || !sameInt64s(attrInts(ave, "pads"), []int64{0, 0, 0, 1}) {
		t.Errorf("ave: pad node %v, pads %v", pad, attrInts(ave, "pads"))
	}
	if c, _ := ave.AttrInt("count_include_pad", -1); c != 0 {
		t.Errorf("ave count_include_pad %d", c)
	}
	np := nodeNamed(g, "ave_np")
	if c, _ := np.AttrInt("count_include_pad", -1); c != 0 || !sameInt64s(attrInts(np, "pads"), []int64{0, 0, 1, 0}) {
		t.Errorf("ave_np: %v", np.Attrs)
	}
	if s := n.Layer("floor").TopShapes[0]; s[2] != 3 || s[3] != 2 {
		t.Errorf("floor shape %v", s)
	}
}

func sameInt64s(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A train_val net: TEST phase by default, data layers become inputs, loss
// and accuracy layers are dropped with a note, the unused label input is
// left out; TRAIN picks the other data layer and keeps Dropout.
func TestTrainValNet(t *testing.T) {
	net := `name: "tv"
layer { name: "d" type: "Data" top: "data" top: "label" include { phase: TRAIN }
  data_param { source: "train_lmdb" batch_size: 8 } transform_param { scale: 0.00390625 } }
layer { name: "d" type: "Data" top: "data" top: "label" include { phase: TEST }
  data_param { source: "test_lmdb" batch_size: 4 } transform_param { scale: 0.00390625 } }
layer { name: "fc" type: "InnerProduct" bottom: "data" top: "fc" inner_product_param { num_output: 3 } }
layer { name: "drop" type: "Dropout" bottom: "fc" top: "fc" }
layer { name: "acc" type: "Accuracy" bottom: "fc" bottom: "label" top: "acc" include { phase: TEST } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "fc" bottom: "label" top: "loss" }
`
	_, err := ImportText("tv.prototxt", []byte(net), Options{})
	if err == nil || !strings.Contains(err.Error(), "--input-shape data=") {
		t.Fatalf("got %v, want a request for the data shape", err)
	}
	n := importString(t, net, Options{InputShapes: map[string][]int{"data": {4, 1, 5, 5}}})
	if len(n.Graph.Inputs) != 1 || n.Graph.Inputs[0].Name != "data" || len(n.Outputs) != 1 || n.Outputs[0] != "fc" {
		t.Errorf("inputs %v outputs %v", n.Inputs, n.Outputs)
	}
	notes := strings.Join(n.Notes, "\n")
	for _, want := range []string{`layer "acc" (Accuracy, line 8) dropped`, `layer "loss" (SoftmaxWithLoss, line 9) dropped`, "scale by 0.00390625", `input "label" is not used`, "excluded in the TEST phase"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	if nodeNamed(n.Graph, "drop") != nil {
		t.Error("in-place Dropout in TEST should add no node")
	}
	tr := importString(t, net, Options{Phase: Train, InputShapes: map[string][]int{"data": {8, 1, 5, 5}}})
	if d := nodeNamed(tr.Graph, "drop"); d == nil || d.Op != "Dropout" {
		t.Error("TRAIN phase lost Dropout")
	}
	if s := tr.Layer("fc").TopShapes[0]; s[0] != 8 {
		t.Errorf("TRAIN fc shape %v", s)
	}
}

func TestStagesAndLevels(t *testing.T) {
	net := `layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 1 dim: 2 } } }
layer { name: "a" type: "ReLU" bottom: "x" top: "y" include { stage: "s1" } }
layer { name: "b" type: "Sigmoid" bottom: "x" top: "y" exclude { stage: "s1" } }
layer { name: "c" type: "TanH" bottom: "y" top: "z" include { min_level: 2 } }
layer { name: "d" type: "AbsVal" bottom: "y" top: "z" include { max_level: 1 } }
`
	for _, c := range []struct {
		opts     Options
		yOp, zOp string
	}{
		{Options{}, "Sigmoid", "Abs"},
		{Options{Stages: []string{"s1"}}, "Relu", "Abs"},
		{Options{Level: 2}, "Sigmoid", "Tanh"},
	} {
		n := importString(t, net, c.opts)
		prod := n.Graph.Producers()
		if prod["y"].Op != c.yOp || prod["z"].Op != c.zOp {
			t.Errorf("%+v: y by %s, z by %s", c.opts, prod["y"].Op, prod["z"].Op)
		}
	}
}

// Layers naming the same ParamSpec share one blob.
func TestSharedParams(t *testing.T) {
	net := `layer { name: "in" type: "Input" top: "a" top: "b" input_param { shape { dim: 2 dim: 4 } } }
layer { name: "fa" type: "InnerProduct" bottom: "a" top: "fa" param { name: "w" } param { name: "bias" }
  inner_product_param { num_output: 3 weight_filler { type: "gaussian" } } }
layer { name: "fb" type: "InnerProduct" bottom: "b" top: "fb" param { name: "w" } param { name: "bias" }
  inner_product_param { num_output: 3 weight_filler { type: "gaussian" } } }
`
	n := importString(t, net, Options{})
	pa, pb := n.Layer("fa").Params, n.Layer("fb").Params
	if pa[0] != pb[0] || pa[0].Value == "" || pa[0].Value != pb[0].Value {
		t.Errorf("weights not shared: %v %v", pa[0].Value, pb[0].Value)
	}
	if got := n.NumParams(); got != 15 {
		t.Errorf("NumParams %d, want 15", got)
	}
}

// Filler initialisation is reproducible and depends on the seed.
func TestFillerSeeds(t *testing.T) {
	a := importString(t, inPlaceNet, Options{Seed: 1}).Layer("conv1").Params[0].Data.F32()
	b := importString(t, inPlaceNet, Options{Seed: 1}).Layer("conv1").Params[0].Data.F32()
	c := importString(t, inPlaceNet, Options{Seed: 2}).Layer("conv1").Params[0].Data.F32()
	same := true
	for i := range a {
		if a[i] != b[i] {
			t.Fatal("same seed, different weights")
		}
		same = same && a[i] == c[i]
	}
	if same {
		t.Error("different seeds, same weights")
	}
}

func TestSummary(t *testing.T) {
	n := importString(t, inPlaceNet, Options{})
	var b strings.Builder
	if err := n.WriteSummary(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"conv1 [1x3x5x5]", "pool1 [1x3x3x3]", "[3x2x3x3], [3]", "inputs: data [1x2x5x5]", "outputs: pool1 [1x3x3x3]"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, b.String())
		}
	}
	if got := strings.Join(n.Blobs(), ","); got != "data,conv1,pool1" {
		t.Errorf("blobs %s", got)
	}
}

func TestSupportedLayerTypes(t *testing.T) {
	got := strings.Join(SupportedLayerTypes(), " ")
	for _, want := range []string{"Convolution", "Deconvolution", "Pooling", "InnerProduct", "ReLU", "PReLU", "ELU",
		"Sigmoid", "TanH", "AbsVal", "Power", "Exp", "Log", "BNLL", "Threshold", "LRN", "BatchNorm", "Scale",
		"Bias", "Eltwise", "Concat", "Slice", "Split", "Flatten", "Reshape", "Crop", "Dropout", "Softmax",
		"ArgMax", "Silence", "Input", "Data", "ImageData", "HDF5Data", "MemoryData", "DummyData"} {
		if !strings.Contains(" "+got+" ", " "+want+" ") {
			t.Errorf("%s is not supported", want)
		}
	}
}
