package inspect

import (
	"context"
	"testing"

	"stride/graph"
	"stride/importers/onnx"
	"stride/tensor"
)

// seed builds the lecture's example: 32x32x3 input, 10 filters of 5x5,
// stride 1, pad 2, then a 2x2 max pool of stride 2.
func seed() *graph.Graph {
	g := graph.New("seed")
	g.Opsets[""] = 13
	g.Inputs = []*graph.Value{{Name: "data", Type: graph.Type{DType: tensor.Float32, Ranked: true,
		Shape: []graph.Dim{graph.Sym("N"), graph.Fixed(3), graph.Fixed(32), graph.Fixed(32)}}}}
	g.Initializers["w"] = tensor.Zeros(tensor.Float32, 10, 3, 5, 5)
	g.Initializers["b"] = tensor.Zeros(tensor.Float32, 10)
	conv := &graph.Node{Name: "conv", Op: "Conv", Inputs: []string{"data", "w", "b"}, Outputs: []string{"conv"}}
	conv.SetAttr("kernel_shape", graph.IntsAttr(5, 5))
	conv.SetAttr("strides", graph.IntsAttr(1, 1))
	conv.SetAttr("pads", graph.IntsAttr(2, 2, 2, 2))
	pool := &graph.Node{Name: "pool", Op: "MaxPool", Inputs: []string{"conv"}, Outputs: []string{"pool"}}
	pool.SetAttr("kernel_shape", graph.IntsAttr(2, 2))
	pool.SetAttr("strides", graph.IntsAttr(2, 2))
	g.Nodes = []*graph.Node{conv, pool}
	g.Outputs = []*graph.Value{{Name: "pool"}}
	return g
}

func TestSeedLayer(t *testing.T) {
	r, err := Analyze(context.Background(), seed(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.ShapeError != "" {
		t.Fatal(r.ShapeError)
	}
	if len(r.Layers) != 2 {
		t.Fatalf("%d layers", len(r.Layers))
	}
	c := r.Layers[0]
	if c.Volume.String() != "32 x 32 x 10" || c.Params != 760 || c.ParamsFormula != "10 x (5*5*3 + 1)" {
		t.Errorf("conv: volume %v, params %d = %s", c.Volume, c.Params, c.ParamsFormula)
	}
	if c.MACs != 32*32*10*5*5*3 {
		t.Errorf("conv mult-adds %d", c.MACs)
	}
	if c.Receptive.String() != "5x5" || !eq(c.Kernel, 5, 5) || !eq(c.Stride, 1, 1) || !eq(c.Pad, 2, 2, 2, 2) {
		t.Errorf("conv: rf %v kernel %v stride %v pad %v", c.Receptive, c.Kernel, c.Stride, c.Pad)
	}
	p := r.Layers[1]
	if p.Volume.String() != "16 x 16 x 10" || p.Params != 0 || p.Receptive.String() != "6x6" {
		t.Errorf("pool: %v, params %d, rf %v", p.Volume, p.Params, p.Receptive)
	}
	if r.Params != 760 || r.Inputs[0].Volume.String() != "32 x 32 x 3" || r.Inputs[0].Layout != "NCHW" {
		t.Errorf("totals: %d params, input %v %s", r.Params, r.Inputs[0].Volume, r.Inputs[0].Layout)
	}
}

func eq(v []int, want ...int) bool {
	if len(v) != len(want) {
		return false
	}
	for i := range v {
		if v[i] != want[i] {
			return false
		}
	}
	return true
}

// W2 = (W1 - F + 2P)/S + 1 for several strides and pads; SAME padding
// is resolved to numbers.
func TestOutputVolumeFormula(t *testing.T) {
	for _, c := range []struct{ w1, f, s, p int }{{32, 5, 1, 2}, {227, 11, 4, 0}, {7, 3, 2, 1}, {28, 5, 1, 0}} {
		g := seed()
		g.Inputs[0].Type.Shape[2], g.Inputs[0].Type.Shape[3] = graph.Fixed(c.w1), graph.Fixed(c.w1)
		g.Initializers["w"] = tensor.Zeros(tensor.Float32, 10, 3, c.f, c.f)
		n := g.Nodes[0]
		n.SetAttr("kernel_shape", graph.IntsAttr(int64(c.f), int64(c.f)))
		n.SetAttr("strides", graph.IntsAttr(int64(c.s), int64(c.s)))
		n.SetAttr("pads", graph.IntsAttr(int64(c.p), int64(c.p), int64(c.p), int64(c.p)))
		g.Nodes = g.Nodes[:1]
		g.Outputs = []*graph.Value{{Name: "conv"}}
		r, err := Analyze(context.Background(), g, Options{})
		if err != nil || r.ShapeError != "" {
			t.Fatal(err, r.ShapeError)
		}
		w2 := (c.w1-c.f+2*c.p)/c.s + 1
		if v := r.Layers[0].Volume; v.W != w2 || v.H != w2 || v.D != 10 {
			t.Errorf("%+v: volume %v, want %d x %d x 10", c, v, w2, w2)
		}
	}
	g := seed()
	n := g.Nodes[0]
	delete(n.Attrs, "pads")
	n.SetAttr("auto_pad", graph.StringAttr("SAME_UPPER"))
	r, err := Analyze(context.Background(), g, Options{})
	if err != nil || r.ShapeError != "" {
		t.Fatal(err, r.ShapeError)
	}
	if !eq(r.Layers[0].Pad, 2, 2, 2, 2) {
		t.Errorf("SAME_UPPER pads %v", r.Layers[0].Pad)
	}
}

func TestConvNetJS(t *testing.T) {
	m, err := onnx.Load("../testdata/models/convnetjs_cifar10.onnx")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Analyze(context.Background(), m.Graph, Options{})
	if err != nil || r.ShapeError != "" {
		t.Fatal(err, r.ShapeError)
	}
	want := []struct {
		op, vol, rf string
		params      int64
	}{
		{"Conv", "32 x 32 x 16", "5x5", 1216}, {"Relu", "32 x 32 x 16", "5x5", 0}, {"MaxPool", "16 x 16 x 16", "6x6", 0},
		{"Conv", "16 x 16 x 20", "14x14", 8020}, {"Relu", "16 x 16 x 20", "14x14", 0}, {"MaxPool", "8 x 8 x 20", "16x16", 0},
		{"Conv", "8 x 8 x 20", "32x32", 10020}, {"Relu", "8 x 8 x 20", "32x32", 0}, {"MaxPool", "4 x 4 x 20", "36x36", 0},
		{"Flatten", "1 x 1 x 320", "all", 0}, {"Gemm", "1 x 1 x 10", "all", 3210}, {"Softmax", "1 x 1 x 10", "all", 0},
	}
	if len(r.Layers) != len(want) {
		t.Fatalf("%d layers, want %d", len(r.Layers), len(want))
	}
	for i, w := range want {
		l := r.Layers[i]
		if l.Op != w.op || l.Volume.String() != w.vol || l.Receptive.String() != w.rf || l.Params != w.params {
			t.Errorf("layer %d: %s %v rf %v params %d, want %+v", i+1, l.Op, l.Volume, l.Receptive, l.Params, w)
		}
	}
	if r.Params != 22466 || r.Layers[10].ParamsFormula != "10 x (320 + 1)" {
		t.Errorf("params %d, fc %q", r.Params, r.Layers[10].ParamsFormula)
	}
	if r.Opset != 13 || r.Producer != "pytorch" {
		t.Errorf("opset %d producer %q", r.Opset, r.Producer)
	}
	maps, err := ConvMaps(m.Graph)
	if err != nil || len(maps) != 3 {
		t.Fatalf("ConvMaps: %v, %d", err, len(maps))
	}
	if len(maps[0].After) != 1 || maps[0].After[0] != "Relu" {
		t.Errorf("first conv followed by %v", maps[0].After)
	}
}

// Nodes that came from one source layer form one row named after its last
// node (a Caffe layer's top); a model that cannot run still reports what
// its file declares.
func TestGroupingAndFallback(t *testing.T) {
	g := seed()
	g.Nodes[0].Source = "layer conv (line 3)"
	relu := &graph.Node{Name: "conv_relu", Op: "Relu", Inputs: []string{"conv"}, Outputs: []string{"r"}, Source: "layer conv (line 3)"}
	g.Nodes = []*graph.Node{g.Nodes[0], relu, g.Nodes[1]}
	g.Nodes[2].Inputs[0] = "r"
	r, err := Analyze(context.Background(), g, Options{})
	if err != nil || r.ShapeError != "" {
		t.Fatal(err, r.ShapeError)
	}
	if l := r.Layers[0]; len(r.Layers) != 2 || l.Op != "Conv+Relu" || l.Name != "conv_relu" || l.Output != "r" || l.Params != 760 {
		t.Errorf("grouped layer %+v", r.Layers[0])
	}
	g.Nodes = append(g.Nodes, &graph.Node{Name: "odd", Op: "NoSuchOp", Inputs: []string{"pool"}, Outputs: []string{"z"}})
	g.Outputs = []*graph.Value{{Name: "z"}}
	g.ValueInfo["pool"] = &graph.Value{Name: "pool", Type: graph.TensorType(tensor.Float32, 1, 10, 16, 16)}
	r, err = Analyze(context.Background(), g, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.ShapeError == "" || r.Layers[1].Volume.String() != "16 x 16 x 10" || r.Params != 760 {
		t.Errorf("fallback: %q, %v, %d", r.ShapeError, r.Layers[1].Volume, r.Params)
	}
}

// A model with a fixed batch of 4 runs as such; mult-adds are per image.
func TestFixedBatch(t *testing.T) {
	g := seed()
	g.Inputs[0].Type.Shape[0] = graph.Fixed(4)
	r, err := Analyze(context.Background(), g, Options{})
	if err != nil || r.ShapeError != "" {
		t.Fatal(err, r.ShapeError)
	}
	if r.Batch != 4 || r.Layers[0].MACs != 768000 || r.Layers[0].Shape[0] != 4 {
		t.Errorf("batch %d, mult-adds %d, shape %v", r.Batch, r.Layers[0].MACs, r.Layers[0].Shape)
	}
}

// An explicit Pad before a pool in the same source layer adds to the
// layer's pads; the layer keeps the pool's name.
func TestPadGroup(t *testing.T) {
	g := seed()
	pool := g.Nodes[1]
	pool.Op, pool.Source, pool.Inputs[0] = "AveragePool", "layer \"pool\" (line 9)", "padded"
	g.Initializers["pads"] = tensor.From([]int{8}, []int64{0, 0, 1, 1, 0, 0, 1, 1})
	pad := &graph.Node{Name: "pool/pad", Op: "Pad", Inputs: []string{"conv", "pads"}, Outputs: []string{"padded"}, Source: pool.Source}
	g.Nodes = []*graph.Node{g.Nodes[0], pad, pool}
	r, err := Analyze(context.Background(), g, Options{})
	if err != nil || r.ShapeError != "" {
		t.Fatal(err, r.ShapeError)
	}
	l := r.Layers[1]
	if l.Name != "pool" || l.Op != "AveragePool" || !eq(l.Pad, 1, 1, 1, 1) || l.Volume.String() != "17 x 17 x 10" {
		t.Errorf("layer %+v", l)
	}
}

// Volumes are W x H x D: a 30-wide, 20-high NHWC input reads the same as
// its NCHW transpose.
func TestNHWCAndRectangles(t *testing.T) {
	g := seed()
	g.Inputs[0] = &graph.Value{Name: "nhwc", Type: graph.Type{DType: tensor.Float32, Ranked: true,
		Shape: []graph.Dim{graph.Sym("N"), graph.Fixed(20), graph.Fixed(30), graph.Fixed(3)}}}
	tr := &graph.Node{Name: "t", Op: "Transpose", Inputs: []string{"nhwc"}, Outputs: []string{"data"}}
	tr.SetAttr("perm", graph.IntsAttr(0, 3, 1, 2))
	g.Nodes = append([]*graph.Node{tr}, g.Nodes...)
	r, err := Analyze(context.Background(), g, Options{})
	if err != nil || r.ShapeError != "" {
		t.Fatal(err, r.ShapeError)
	}
	if in := r.Inputs[0]; in.Volume.String() != "30 x 20 x 3" || in.Layout != "NHWC" {
		t.Errorf("input %v %s", in.Volume, in.Layout)
	}
	if l := r.Layers[0]; l.Op != "Transpose" || l.Volume.String() != "30 x 20 x 3" {
		t.Errorf("transpose: %v", l.Volume)
	}
	if l := r.Layers[1]; l.Volume.String() != "30 x 20 x 10" || l.Receptive.String() != "5x5" {
		t.Errorf("conv: %v %v", l.Volume, l.Receptive)
	}
}
