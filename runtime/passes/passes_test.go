package passes_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"stride/graph"
	"stride/runtime"
	"stride/runtime/passes"
	"stride/tensor"
)

func randT(r *rand.Rand, shape ...int) *tensor.Tensor {
	t := tensor.Zeros(tensor.Float32, shape...)
	for i := range t.F32() {
		t.F32()[i] = float32(r.Float64()*2 - 1)
	}
	return t
}

func posT(r *rand.Rand, shape ...int) *tensor.Tensor {
	t := randT(r, shape...)
	for i, v := range t.F32() {
		t.F32()[i] = 0.5 + float32(math.Abs(float64(v)))
	}
	return t
}

// builder assembles small test graphs.
type builder struct {
	g *graph.Graph
	r *rand.Rand
}

func newBuilder() *builder {
	g := graph.New("t")
	g.Opsets[""] = 17
	g.Inputs = []*graph.Value{{Name: "x", Type: graph.Type{DType: tensor.Float32, Shape: []graph.Dim{graph.Sym("N"), graph.Fixed(3), graph.Fixed(8), graph.Fixed(8)}, Ranked: true}}}
	return &builder{g: g, r: rand.New(rand.NewPCG(1, 2))}
}

func (b *builder) init(name string, t *tensor.Tensor) string {
	b.g.Initializers[name] = t
	return name
}

func (b *builder) node(op string, out string, in ...string) *graph.Node {
	n := &graph.Node{Name: out, Op: op, Inputs: in, Outputs: []string{out}}
	b.g.Nodes = append(b.g.Nodes, n)
	return n
}

func (b *builder) conv(out, in string, cin, cout int) *graph.Node {
	n := b.node("Conv", out, in, b.init(out+"_w", randT(b.r, cout, cin, 3, 3)), b.init(out+"_b", randT(b.r, cout)))
	n.SetAttr("pads", graph.IntsAttr(1, 1, 1, 1))
	return n
}

func (b *builder) output(names ...string) {
	for _, n := range names {
		b.g.Outputs = append(b.g.Outputs, &graph.Value{Name: n})
	}
}

// runBoth runs the graph with and without optimisation and requires equal
// outputs (within float rounding) and, when wantNodes >= 0, that the
// optimised graph has that many nodes.
func runBoth(t *testing.T, g *graph.Graph, wantNodes int) {
	t.Helper()
	x := randT(rand.New(rand.NewPCG(3, 4)), 2, 3, 8, 8)
	in := map[string]*tensor.Tensor{"x": x}
	var results [2][]*tensor.Tensor
	for i, opt := range []bool{false, true} {
		s, err := runtime.NewSession(g, runtime.WithOptimize(opt), runtime.WithThreads(2))
		if err != nil {
			t.Fatal(err)
		}
		out, err := s.RunList(context.Background(), in)
		s.Close()
		if err != nil {
			t.Fatal(err)
		}
		results[i] = out
	}
	for k := range results[0] {
		a, b := results[0][k].F32(), results[1][k].F32()
		for i := range a {
			if d := math.Abs(float64(a[i] - b[i])); d > 1e-4*(1+math.Abs(float64(a[i]))) {
				t.Fatalf("output %d element %d: %v unoptimised, %v optimised", k, i, a[i], b[i])
			}
		}
	}
	opt, err := passes.Optimize(g)
	if err != nil {
		t.Fatal(err)
	}
	if wantNodes >= 0 && len(opt.Nodes) != wantNodes {
		var ops []string
		for _, n := range opt.Nodes {
			ops = append(ops, n.Op)
		}
		t.Fatalf("optimised graph has %d nodes %v, want %d", len(opt.Nodes), ops, wantNodes)
	}
}

func fused() bool {
	g := newBuilder()
	g.conv("c", "x", 3, 4)
	g.node("Relu", "y", "c")
	g.output("y")
	opt, _ := passes.Optimize(g.g)
	return len(opt.Nodes) == 1
}

func TestFoldConvBatchNorm(t *testing.T) {
	b := newBuilder()
	b.conv("c", "x", 3, 4)
	b.node("BatchNormalization", "bn", "c", b.init("g", posT(b.r, 4)), b.init("beta", randT(b.r, 4)), b.init("m", randT(b.r, 4)), b.init("v", posT(b.r, 4)))
	b.output("bn")
	runBoth(t, b.g, 1)
}

func TestFoldConvAffine(t *testing.T) {
	b := newBuilder()
	b.conv("c", "x", 3, 4)
	b.node("Mul", "m", "c", b.init("s", posT(b.r, 4, 1, 1)))
	b.node("Add", "a", b.init("sh", randT(b.r, 1, 4, 1, 1)), "m")
	b.node("Sub", "s2", "a", b.init("k", randT(b.r, 1)))
	b.node("Div", "d", "s2", b.init("q", posT(b.r, 4, 1, 1)))
	b.output("d")
	runBoth(t, b.g, 1)
	// A constant that varies along H is not per channel: nothing folds.
	b2 := newBuilder()
	b2.conv("c", "x", 3, 4)
	b2.node("Mul", "m", "c", b2.init("s", posT(b2.r, 8, 1)))
	b2.output("m")
	runBoth(t, b2.g, 2)
}

func TestFuseActivationAndResidual(t *testing.T) {
	b := newBuilder()
	b.conv("c1", "x", 3, 4)
	b.node("Relu", "r1", "c1")
	b.conv("c2", "r1", 4, 4)
	b.node("Add", "sum", "c2", "r1") // residual
	b.node("Relu", "r2", "sum")
	b.conv("c3", "r2", 4, 4)
	clip := b.node("Clip", "r3", "c3", b.init("lo", tensor.Scalar[float32](0)), b.init("hi", tensor.Scalar[float32](6)))
	_ = clip
	b.output("r3")
	want := -1
	if fused() {
		want = 3 // c1+relu, c2+add+relu, c3+clip
	}
	runBoth(t, b.g, want)
}

func TestFusionKeepsSharedValues(t *testing.T) {
	// c1 is read twice: Relu must not be fused into it.
	b := newBuilder()
	b.conv("c1", "x", 3, 4)
	b.node("Relu", "r", "c1")
	b.node("Sigmoid", "s", "c1")
	b.output("r", "s")
	runBoth(t, b.g, 3)
}

func TestRemoveIdentityAndDead(t *testing.T) {
	b := newBuilder()
	b.node("Identity", "i1", "x")
	d := b.node("Dropout", "d1", "i1", b.init("ratio", tensor.Scalar[float32](0.5)))
	_ = d
	tr := b.node("Transpose", "t1", "d1")
	tr.SetAttr("perm", graph.IntsAttr(0, 1, 2, 3))
	b.node("Relu", "out", "t1")
	b.node("Sigmoid", "unused", "x") // dead
	b.output("out")
	runBoth(t, b.g, 1)
}

func TestOutputsKeepTheirNames(t *testing.T) {
	b := newBuilder()
	b.conv("c", "x", 3, 4)
	b.node("Identity", "y", "c")
	b.output("c", "y")
	runBoth(t, b.g, 2)
	opt, _ := passes.Optimize(b.g)
	if opt.Outputs[0].Name != "c" || opt.Outputs[1].Name != "y" {
		t.Fatal("outputs renamed")
	}
}

func TestConstantNodesFoldAndFuse(t *testing.T) {
	// Relu6 as PyTorch exports it: Clip with bounds from Constant nodes.
	b := newBuilder()
	b.conv("c", "x", 3, 4)
	lo := b.node("Constant", "lo")
	lo.SetAttr("value", graph.TensorAttr(tensor.Scalar[float32](0)))
	hi := b.node("Constant", "hi")
	hi.SetAttr("value", graph.TensorAttr(tensor.Scalar[float32](6)))
	b.node("Clip", "y", "c", "lo", "hi")
	b.output("y")
	want := 2 // Conv and Clip
	if fused() {
		want = 1
	}
	runBoth(t, b.g, want)
}

func TestFuseBatchNormRelu(t *testing.T) {
	// Pre-activation: BatchNormalization and Relu after a Concat (no
	// convolution to fold into) become one FusedBatchNorm.
	b := newBuilder()
	b.conv("c", "x", 3, 4)
	b.node("Concat", "cat", "x", "c").SetAttr("axis", graph.IntAttr(1))
	b.node("BatchNormalization", "bn", "cat", b.init("g", posT(b.r, 7)), b.init("beta", randT(b.r, 7)), b.init("m", randT(b.r, 7)), b.init("v", posT(b.r, 7)))
	b.node("Relu", "y", "bn")
	b.output("y")
	runBoth(t, b.g, 3) // Conv, Concat, FusedBatchNorm
	opt, _ := passes.Optimize(b.g)
	if last := opt.Nodes[len(opt.Nodes)-1]; last.Op != "FusedBatchNorm" || last.Outputs[0] != "y" {
		t.Fatalf("last node %s -> %v, want FusedBatchNorm -> y", last.Op, last.Outputs)
	}
	// A BatchNormalization output read elsewhere too is left alone.
	b2 := newBuilder()
	b2.node("BatchNormalization", "bn", "x", b2.init("g", posT(b2.r, 3)), b2.init("beta", randT(b2.r, 3)), b2.init("m", randT(b2.r, 3)), b2.init("v", posT(b2.r, 3)))
	b2.node("Relu", "y", "bn")
	b2.output("y", "bn")
	runBoth(t, b2.g, 2)
}
