package mathops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"stride/graph"
	"stride/ops"
	"stride/tensor"
)

// The float32 fast paths against the generic engine: the same op on the
// same values as float64 tensors (which never take a fast path), rounded
// to float32.

func randF32(r *rand.Rand, shape []int, scale float32) *tensor.Tensor {
	t := tensor.Zeros(tensor.Float32, shape...)
	for i := range t.F32() {
		t.F32()[i] = (r.Float32()*2 - 1) * scale
	}
	return t
}

func toF64(t *tensor.Tensor) *tensor.Tensor {
	out, err := tensor.Convert(t, tensor.Float64)
	if err != nil {
		panic(err)
	}
	return out
}

// closeTo compares a float32 result with the float64 reference within ulps
// units in the last place (ulps 0: exactly, zero signs aside).
func closeTo(got, want *tensor.Tensor, ulps float64) error { return closeAbs(got, want, ulps, 0) }

// closeAbs is closeTo that also accepts errors up to abs (results of a
// cancelling multiply-add are exact only to the terms' ulp).
func closeAbs(got, want *tensor.Tensor, ulps, abs float64) error {
	if got.DType != tensor.Float32 || fmt.Sprint(got.Shape) != fmt.Sprint(want.Shape) {
		return fmt.Errorf("got %v %v, want float32 %v", got.DType, got.Shape, want.Shape)
	}
	w := want.Float64s()
	for i, g := range got.F32() {
		ref := float32(w[i])
		if g == ref || g != g && ref != ref {
			continue
		}
		tol := ulps * math.Abs(float64(ref)) * 0x1p-23
		if ulps > 0 {
			tol = max(tol, 1e-30, abs) // tiny results: absolute
		}
		if !(math.Abs(float64(g)-float64(ref)) <= tol) {
			return fmt.Errorf("element %d: got %g, want %g", i, g, ref)
		}
	}
	return nil
}

func TestVectorUnaryMatchesGeneric(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	f := func(v float32) *graph.Attr { return graph.FloatAttr(v) }
	cases := []struct {
		op    string
		at    attrs
		scale float32
		ulps  float64
		abs   float64
	}{
		{"Relu", nil, 5, 0, 0},
		{"LeakyRelu", attrs{"alpha": f(0.1)}, 5, 0, 0},
		{"Sigmoid", nil, 20, 4, 0},
		{"Tanh", nil, 5, 4, 0},
		{"HardSigmoid", attrs{"alpha": f(0.3), "beta": f(0.4)}, 5, 2, 1e-7},
		{"HardSwish", nil, 8, 4, 1e-7},
		{"Exp", nil, 30, 3, 0},
		{"Neg", nil, 5, 0, 0},
		{"Abs", nil, 5, 0, 0},
		{"Sqrt", nil, 5, 0, 0},
		{"Reciprocal", nil, 5, 0, 0},
	}
	for _, c := range cases {
		for n := 1; n <= 67; n++ {
			x := randF32(r, []int{n}, c.scale)
			if c.op == "Sqrt" {
				for i, v := range x.F32() {
					x.F32()[i] = float32(math.Abs(float64(v)))
				}
			}
			got, err := runOp(c.op, c.at, x)
			if err != nil {
				t.Fatal(err)
			}
			want, err := runOp(c.op, c.at, toF64(x))
			if err != nil {
				t.Fatal(err)
			}
			if err := closeAbs(got, want, c.ulps, c.abs); err != nil {
				t.Fatalf("%s n=%d: %v", c.op, n, err)
			}
		}
	}
	// Clip with each bound present or not, and crossed bounds.
	lo, hi := f32(nil, -1), f32(nil, 6)
	for _, b := range [][2]*tensor.Tensor{{lo, hi}, {nil, hi}, {lo, nil}, {hi, lo}} {
		for n := 1; n <= 67; n += 11 {
			x := randF32(r, []int{n}, 10)
			got, err := runOp("Clip", nil, x, b[0], b[1])
			if err != nil {
				t.Fatal(err)
			}
			var b64 [2]*tensor.Tensor
			for i, v := range b {
				if v != nil {
					b64[i] = toF64(v)
				}
			}
			want, err := runOp("Clip", nil, toF64(x), b64[0], b64[1])
			if err != nil {
				t.Fatal(err)
			}
			if err := closeTo(got, want, 0); err != nil {
				t.Fatalf("Clip %v n=%d: %v", b, n, err)
			}
		}
	}
}

func TestVectorBinaryMatchesGeneric(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	shapes := [][2][]int{
		{{67}, {67}},
		{{3, 5, 7}, {3, 5, 7}},
		{{2, 3, 5, 7}, {1, 3, 1, 1}}, // per-channel bias
		{{3, 1, 1}, {2, 3, 4, 5}},    // the fixed operand first
		{{}, {4, 9}},                 // scalar first
		{{4, 9}, {}},                 // scalar second
		{{5, 1}, {1, 13}},            // outer: both broadcast
		{{6, 17}, {17}},              // row broadcast
		{{6, 17}, {6, 1}},            // column broadcast
		{{2, 1, 3}, {2, 5, 1}},
	}
	for n := 1; n <= 67; n++ {
		shapes = append(shapes, [2][]int{{n}, {1}}, [2][]int{{1, n}, {3, 1}})
	}
	for _, op := range []string{"Add", "Sub", "Mul", "Div", "Max", "Min", "Sum", "Mean"} {
		for _, s := range shapes {
			a, b := randF32(r, s[0], 4), randF32(r, s[1], 4)
			got, err := runOp(op, nil, a, b)
			if err != nil {
				t.Fatal(err)
			}
			want, err := runOp(op, nil, toF64(a), toF64(b))
			if err != nil {
				t.Fatal(err)
			}
			// + - * / are exact; Mean divides a rounded sum.
			ulps := 0.0
			if op == "Mean" {
				ulps = 1
			}
			if err := closeTo(got, want, ulps); err != nil {
				t.Fatalf("%s %v %v: %v", op, s[0], s[1], err)
			}
		}
	}
	for _, s := range [][2][]int{{{2, 3, 5, 7}, {3, 1, 1}}, {{67}, {67}}, {{4, 9}, {1}}, {{3, 7}, {7}}} {
		x, slope := randF32(r, s[0], 4), randF32(r, s[1], 1)
		got, err := runOp("PRelu", nil, x, slope)
		if err != nil {
			t.Fatal(err)
		}
		want, err := runOp("PRelu", nil, toF64(x), toF64(slope))
		if err != nil {
			t.Fatal(err)
		}
		if err := closeTo(got, want, 0); err != nil {
			t.Fatalf("PRelu %v: %v", s, err)
		}
	}
	// NaN propagates through Max and Min whichever side it is on.
	nan32 := f32(vec(9), nan, 1, 2, 3, 4, 5, 6, 7, nan)
	one := f32(vec(9), 1, 1, 1, 1, 1, 1, 1, 1, 1)
	for _, op := range []string{"Max", "Min"} {
		for _, in := range [][]*tensor.Tensor{{nan32, one}, {one, nan32}} {
			y, err := runOp(op, nil, in...)
			if err != nil {
				t.Fatal(err)
			}
			if v := y.F32(); v[0] == v[0] || v[8] == v[8] {
				t.Errorf("%s dropped a NaN: %v", op, v)
			}
		}
	}
}

// Benchmarks of whole ops as the runtime calls them, in ns per element.

func benchOp(b *testing.B, op string, at attrs, in ...*tensor.Tensor) {
	def, _ := ops.Lookup("", op)
	n := &graph.Node{Op: op, Attrs: at, Outputs: []string{"y"}}
	for range in {
		n.Inputs = append(n.Inputs, "x")
	}
	k, err := def.Build(&ops.Build{Node: n, Opset: 20})
	if err != nil {
		b.Fatal(err)
	}
	c := ops.NewCtx(nil, testPool, &reuse{})
	elems := in[0].Len()
	b.SetBytes(int64(8 * elems)) // read and write
	for b.Loop() {
		if _, err := k.Run(c, in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(elems), "ns/elem")
}

// reuse hands out one tensor per shape again and again, as the runtime's
// arena does in steady state, so benchmarks time the kernels rather than
// fresh pages.
type reuse struct{ m map[string]*tensor.Tensor }

func (r *reuse) Alloc(dt tensor.DType, shape []int) (*tensor.Tensor, error) {
	key := fmt.Sprint(dt, shape)
	if r.m == nil {
		r.m = map[string]*tensor.Tensor{}
	}
	if t, ok := r.m[key]; ok {
		return t, nil
	}
	t := tensor.Zeros(dt, shape...)
	r.m[key] = t
	return t, nil
}

// A resnet18 stem activation: 64x112x112.
func BenchmarkOpRelu(b *testing.B) {
	benchOp(b, "Relu", nil, tensor.Zeros(tensor.Float32, 1, 64, 112, 112))
}

func BenchmarkOpClip6(b *testing.B) {
	benchOp(b, "Clip", nil, tensor.Zeros(tensor.Float32, 1, 96, 112, 112), f32(nil, 0), f32(nil, 6))
}

func BenchmarkOpSigmoid(b *testing.B) {
	benchOp(b, "Sigmoid", nil, tensor.Zeros(tensor.Float32, 1, 96, 112, 112))
}

func BenchmarkOpAddSame(b *testing.B) {
	x := tensor.Zeros(tensor.Float32, 1, 64, 56, 56)
	benchOp(b, "Add", nil, x, x)
}

func BenchmarkOpMulChannel(b *testing.B) {
	benchOp(b, "Mul", nil, tensor.Zeros(tensor.Float32, 1, 96, 112, 112), tensor.Zeros(tensor.Float32, 1, 96, 1, 1))
}

func BenchmarkOpHardSigmoid(b *testing.B) {
	benchOp(b, "HardSigmoid", nil, tensor.Zeros(tensor.Float32, 1, 96, 56, 56))
}

func BenchmarkOpTanh(b *testing.B) {
	benchOp(b, "Tanh", nil, tensor.Zeros(tensor.Float32, 1, 96, 56, 56))
}

// Clip with constant bounds reads them at Build.
func TestClipConstBounds(t *testing.T) {
	def, _ := ops.Lookup("", "Clip")
	for _, bounds := range [][]*tensor.Tensor{{f32(nil, 0), f32(nil, 6)}, {nil, f32(nil, 1)}, {f32(nil, -1)}} {
		n := &graph.Node{Op: "Clip", Inputs: []string{"x"}, Outputs: []string{"y"}}
		bd := &ops.Build{Node: n, Opset: 13, Consts: []*tensor.Tensor{nil}}
		for _, v := range bounds {
			name := ""
			if v != nil {
				name = "bound"
			}
			n.Inputs = append(n.Inputs, name)
			bd.Consts = append(bd.Consts, v)
		}
		k, err := def.Build(bd)
		if err != nil {
			t.Fatal(err)
		}
		x := f32(vec(11), -8, -3, -1, -0.5, 0, 0.5, 1, 3, 6, 8, nan)
		in := append([]*tensor.Tensor{x}, bounds...)
		outs, err := k.Run(ops.NewCtx(nil, testPool, nil), in)
		if err != nil {
			t.Fatal(err)
		}
		want, err := runOp("Clip", nil, in...)
		if err != nil {
			t.Fatal(err)
		}
		if !same(outs[0], want) {
			t.Errorf("bounds %v: got %v, want %v", bounds, outs[0].Data, want.Data)
		}
	}
	n := &graph.Node{Op: "Clip", Inputs: []string{"x", "lo"}, Outputs: []string{"y"}}
	if _, err := def.Build(&ops.Build{Node: n, Consts: []*tensor.Tensor{nil, f32(vec(2), 1, 2)}}); err == nil {
		t.Error("non-scalar constant bound: no error")
	}
}
