package norm

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"stride/graph"
	"stride/ops"
	"stride/tensor"
)

// The float32 vector paths against the float64 ones (which keep the
// float64 formulas) on odd shapes.

func randT(r *rand.Rand, scale float64, shape ...int) *tensor.Tensor {
	t := tensor.Zeros(tensor.Float32, shape...)
	for i := range t.F32() {
		t.F32()[i] = float32((r.Float64()*2 - 1) * scale)
	}
	return t
}

func wide(t *tensor.Tensor) *tensor.Tensor {
	w, err := tensor.Convert(t, tensor.Float64)
	if err != nil {
		panic(err)
	}
	return w
}

// runVar runs op with no input marked constant (the builder sees none).
func runVar(t *testing.T, op string, at attrs, in ...*tensor.Tensor) *tensor.Tensor {
	t.Helper()
	domain, op := splitOp(op)
	def, _ := ops.Lookup(domain, op)
	n := &graph.Node{Op: op, Domain: domain, Attrs: at, Outputs: []string{"y"}}
	b := &ops.Build{Node: n, Opset: 21}
	for range in {
		n.Inputs = append(n.Inputs, "x")
		b.Consts = append(b.Consts, nil)
		b.Types = append(b.Types, graph.Type{})
	}
	k, err := def.Build(b)
	if err != nil {
		t.Fatal(err)
	}
	outs, err := k.Run(testCtx(), in)
	if err != nil {
		t.Fatal(err)
	}
	return outs[0]
}

func within(t *testing.T, what string, got, want *tensor.Tensor, rel, abs float64) {
	t.Helper()
	g, w := got.Float64s(), want.Float64s()
	if got.DType != tensor.Float32 || len(g) != len(w) {
		t.Fatalf("%s: got %v%v", what, got.DType, got.Shape)
	}
	for i := range w {
		if d := math.Abs(g[i] - w[i]); !(d <= rel*math.Abs(w[i])+abs) {
			t.Fatalf("%s: element %d: got %v, want %v", what, i, g[i], w[i])
		}
	}
}

func TestBatchNormVector(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, shape := range [][]int{{1, 3}, {2, 5, 7}, {2, 5, 3, 7}, {1, 64, 9, 9}, {3, 1, 67}} {
		ch := shape[1]
		x := randT(r, 5, shape...)
		scale, bias, mean := randT(r, 2, ch), randT(r, 1, ch), randT(r, 1, ch)
		variance := randT(r, 1, ch)
		for i, v := range variance.F32() {
			variance.F32()[i] = v*v + 0.01
		}
		at := attrs{"epsilon": graph.FloatAttr(1e-3)}
		in := []*tensor.Tensor{x, scale, bias, mean, variance}
		folded := mustRun(t, "BatchNormalization", at, 1, in...)[0] // constant parameters
		plain := runVar(t, "BatchNormalization", at, in...)
		var in64 []*tensor.Tensor
		for _, v := range in {
			in64 = append(in64, wide(v))
		}
		ref := mustRun(t, "BatchNormalization", at, 1, in64...)[0]
		// float32 m and a plus one rounding: a few ulp of the terms.
		within(t, "folded", folded, ref, 1e-6, 1e-5)
		within(t, "per run", plain, ref, 1e-6, 1e-5)
	}
}

// TestFusedBatchNorm checks BatchNormalization+Relu in one pass against
// the two ops, with constant and run-time parameters, float32 and float64.
func TestFusedBatchNorm(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, shape := range [][]int{{1, 3}, {2, 5, 7}, {2, 5, 3, 7}, {1, 64, 9, 9}, {3, 1, 67}} {
		ch := shape[1]
		x := randT(r, 5, shape...)
		scale, bias, mean := randT(r, 2, ch), randT(r, 1, ch), randT(r, 1, ch)
		variance := randT(r, 1, ch)
		for i, v := range variance.F32() {
			variance.F32()[i] = v*v + 0.01
		}
		at := attrs{"epsilon": graph.FloatAttr(1e-3)}
		in := []*tensor.Tensor{x, scale, bias, mean, variance}
		want := relu(mustRun(t, "BatchNormalization", at, 1, in...)[0])
		fat := attrs{"epsilon": graph.FloatAttr(1e-3), "activation": graph.StringAttr("Relu")}
		within(t, "fused", mustRun(t, "stride::FusedBatchNorm", fat, 1, in...)[0], want, 0, 0)
		within(t, "fused per run", runVar(t, "stride::FusedBatchNorm", fat, in...), want, 0, 0)
		var in64 []*tensor.Tensor
		for _, v := range in {
			in64 = append(in64, wide(v))
		}
		want64 := relu(mustRun(t, "BatchNormalization", at, 1, in64...)[0])
		got64 := mustRun(t, "stride::FusedBatchNorm", fat, 1, in64...)[0]
		if g, w := got64.Float64s(), want64.Float64s(); got64.DType != tensor.Float64 || !slices.Equal(g, w) {
			t.Fatalf("float64 %v: got %v, want %v", shape, g, w)
		}
		// Without an activation it is BatchNormalization.
		plain := mustRun(t, "stride::FusedBatchNorm", at, 1, in...)[0]
		within(t, "no activation", plain, mustRun(t, "BatchNormalization", at, 1, in...)[0], 0, 0)
	}
	x := randT(r, 1, 1, 2, 3)
	p := randT(r, 1, 2)
	for _, at := range []attrs{{"activation": graph.StringAttr("Tanh")}, {"training_mode": intA(1)}} {
		if _, err := runOp("stride::FusedBatchNorm", at, 1, x, p, p, p, p); err == nil {
			t.Fatalf("%v: no error", at)
		}
	}
}

// relu sets the negative elements of a float tensor to 0, in place.
func relu(t *tensor.Tensor) *tensor.Tensor {
	switch d := t.Data.(type) {
	case []float32:
		for i, v := range d {
			d[i] = max(v, 0)
		}
	case []float64:
		for i, v := range d {
			d[i] = max(v, 0)
		}
	}
	return t
}

func TestSoftmaxVector(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, op := range []string{"Softmax", "LogSoftmax"} {
		for n := 1; n <= 67; n++ {
			for _, c := range []struct {
				shape []int
				axis  int64
			}{{[]int{3, n}, -1}, {[]int{n, 5}, 0}, {[]int{2, n, 3}, 1}} {
				x := randT(r, 20, c.shape...)
				at := attrs{"axis": intA(c.axis)}
				got := mustRun(t, op, at, 1, x)[0]
				want := mustRun(t, op, at, 1, wide(x))[0]
				within(t, op, got, want, 4e-7, 1e-7)
			}
		}
	}
	// Masked logits (-inf) get probability 0.
	inf := float32(math.Inf(-1))
	y := mustRun(t, "Softmax", nil, 1, f32([]int{1, 3}, 0, inf, 0))[0]
	expect(t, "masked", y, tensor.Float32, []int{1, 3}, []float64{0.5, 0, 0.5}, 0)
}

func TestLRNVector(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, shape := range [][]int{{1, 1, 1}, {2, 7, 5}, {1, 9, 3, 11}, {1, 16, 67}} {
		for _, size := range []int64{1, 2, 3, 5} {
			for _, beta := range []float32{0.75, 0.6} {
				x := randT(r, 3, shape...)
				at := attrs{"size": intA(size), "alpha": graph.FloatAttr(0.01), "beta": graph.FloatAttr(beta), "bias": graph.FloatAttr(1.5)}
				got := mustRun(t, "LRN", at, 1, x)[0]
				want := mustRun(t, "LRN", at, 1, wide(x))[0]
				within(t, "LRN", got, want, 1e-6, 1e-7)
			}
		}
	}
}

func TestReduceSumVector(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for n := 1; n <= 67; n += 3 {
		x := randT(r, 10, 3, n, 5)
		for _, op := range []string{"ReduceSum", "ReduceMean"} {
			for _, axes := range [][]int64{{1}, {2}, {0, 2}, {1, 2}} {
				ax := i64([]int{len(axes)}, axes...)
				got := mustRun(t, op, nil, 1, x, ax)[0]
				want := mustRun(t, op, nil, 1, wide(x), ax)[0]
				within(t, op, got, want, 1e-7, 1e-7)
			}
		}
	}
}

// Float16 parameters (the runtime widens them only at run time) fold too.
func TestBatchNormFloat16Params(t *testing.T) {
	half := func(v ...float32) *tensor.Tensor {
		b := make([]uint16, len(v))
		for i, x := range v {
			b[i] = tensor.F32ToF16(x)
		}
		return tensor.FromBits(tensor.Float16, []int{len(v)}, b)
	}
	x := f32([]int{1, 2, 2}, 1, 2, 3, 4)
	y := mustRun(t, "BatchNormalization", nil, 1, x, half(2, 1), half(0.5, 0), half(1, 3), half(4, 1))[0]
	// (x - mean) / sqrt(var + 1e-5) * scale + B
	want := []float64{0.5, 1.49999, 0, 0.999995}
	expect(t, "float16 params", y, tensor.Float32, []int{1, 2, 2}, want, 1e-5)
}
