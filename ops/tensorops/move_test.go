package tensorops

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"unsafe"

	"stride/graph"
	"stride/tensor"
)

// naiveTranspose is the definition: out[i...] = x[perm-permuted i...].
func naiveTranspose(x []float32, shape, perm []int) []float32 {
	out := make([]float32, len(x))
	oshape := make([]int, len(perm))
	for i, a := range perm {
		oshape[i] = shape[a]
	}
	xs := tensor.Strides(shape)
	idx := make([]int, len(perm))
	for o := range out {
		rem := o
		for k := len(oshape) - 1; k >= 0; k-- {
			idx[k] = rem % oshape[k]
			rem /= oshape[k]
		}
		src := 0
		for k, a := range perm {
			src += idx[k] * xs[a]
		}
		out[o] = x[src]
	}
	return out
}

func TestTransposeMatchesDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []struct{ shape, perm []int }{
		{[]int{2, 37, 33, 45}, []int{0, 2, 3, 1}}, // NCHW -> NHWC, tiled path
		{[]int{2, 33, 45, 37}, []int{0, 3, 1, 2}}, // NHWC -> NCHW
		{[]int{70, 130}, []int{1, 0}},
		{[]int{1, 5, 1, 7}, []int{2, 0, 3, 1}}, // only size-1 dims move... and 5,7 swap
		{[]int{3, 1, 4}, []int{1, 0, 2}},       // pure view
		{[]int{4, 5, 6, 7}, []int{0, 2, 1, 3}}, // contiguous inner runs
		{[]int{4, 5, 6, 7}, []int{3, 1, 2, 0}},
		{[]int{2, 3, 4, 5, 6}, []int{4, 2, 0, 3, 1}},
		{[]int{0, 3}, []int{1, 0}},
	}
	for i := 0; i < 20; i++ { // random ranks and perms
		r := 1 + rng.IntN(5)
		shape := make([]int, r)
		for k := range shape {
			shape[k] = 1 + rng.IntN(6)
		}
		cases = append(cases, struct{ shape, perm []int }{shape, rng.Perm(r)})
	}
	for _, tc := range cases {
		x := iota32(tc.shape...)
		y := run1(t, "Transpose", attrs("perm", graph.IntsAttr(toI64(tc.perm)...)), x)
		want := naiveTranspose(x.F32(), tc.shape, tc.perm)
		if !reflect.DeepEqual(y.F32(), want) {
			t.Fatalf("transpose %v by %v: got %v, want %v", tc.shape, tc.perm, y.F32()[:min(8, len(want))], want[:min(8, len(want))])
		}
	}
}

func toI64(v []int) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}

func TestTransposeAllTypes(t *testing.T) {
	// Strings and 16-bit floats move bit-exactly (a NaN payload included).
	s := tensor.From([]int{2, 3}, []string{"a", "b", "c", "d", "e", "f"})
	expect(t, run1(t, "Transpose", nil, s), []int{3, 2}, []string{"a", "d", "b", "e", "c", "f"})
	h := tensor.FromBits(tensor.Float16, []int{2, 2}, []uint16{0x7e01, 0x8000, 0x3c00, 0xfc00})
	y := run1(t, "Transpose", nil, h)
	if y.DType != tensor.Float16 {
		t.Fatalf("dtype %v", y.DType)
	}
	expect(t, y, []int{2, 2}, []uint16{0x7e01, 0x3c00, 0x8000, 0xfc00})
	b := tensor.From([]int{1, 3}, []bool{true, false, true})
	expect(t, run1(t, "Transpose", nil, b), []int{3, 1}, []bool{true, false, true})
}

func sameData(a, b *tensor.Tensor) bool {
	return unsafe.SliceData(a.F32()) == unsafe.SliceData(b.F32())
}

func TestViewsShareData(t *testing.T) {
	x := iota32(2, 1, 3)
	for _, tc := range []struct {
		op    string
		attrs map[string]*graph.Attr
		in    []*tensor.Tensor
		shape []int
	}{
		{"Reshape", nil, []*tensor.Tensor{x, ints(3, 0, -1)}, []int{3, 1, 2}},
		{"Flatten", nil, []*tensor.Tensor{x}, []int{2, 3}},
		{"Squeeze", nil, []*tensor.Tensor{x}, []int{2, 3}},
		{"Squeeze", nil, []*tensor.Tensor{x, ints(-2)}, []int{2, 3}},
		{"Unsqueeze", nil, []*tensor.Tensor{x, ints(0, 4)}, []int{1, 2, 1, 3, 1}},
		{"Transpose", attrs("perm", graph.IntsAttr(1, 0, 2)), []*tensor.Tensor{x}, []int{1, 2, 3}},
		{"Expand", nil, []*tensor.Tensor{x, ints(1, 1)}, []int{2, 1, 3}},
		{"Slice", nil, []*tensor.Tensor{x, ints(0), ints(100)}, []int{2, 1, 3}},
	} {
		y := run1(t, tc.op, tc.attrs, tc.in...)
		if !tensor.SameShape(y.Shape, tc.shape) || !sameData(x, y) {
			t.Errorf("%s: shape %v (want %v), shares data: %v", tc.op, y.Shape, tc.shape, sameData(x, y))
		}
	}
}

func TestConcatSplit(t *testing.T) {
	a, b := iota32(2, 2, 2), iota32(2, 1, 2)
	y := run1(t, "Concat", attrs("axis", graph.IntAttr(1)), a, b)
	expect(t, y, []int{2, 3, 2}, []float32{0, 1, 2, 3, 0, 1, 4, 5, 6, 7, 2, 3})
	// Empty inputs are fine along the axis.
	e := tensor.Zeros(tensor.Float32, 2, 0, 2)
	y = run1(t, "Concat", attrs("axis", graph.IntAttr(-2)), e, b, e)
	expect(t, y, []int{2, 1, 2}, []float32{0, 1, 2, 3})
	wantErr(t, "does not match", "Concat", attrs("axis", graph.IntAttr(0)), 1, a, b)
	wantErr(t, "float32", "Concat", attrs("axis", graph.IntAttr(0)), 1, a, ints(1))

	s := tensor.From([]int{3}, []string{"x", "y", "z"})
	y = run1(t, "Concat", attrs("axis", graph.IntAttr(0)), s, s)
	expect(t, y, []int{6}, []string{"x", "y", "z", "x", "y", "z"})

	x := iota32(7)
	outs := mustCall(t, "Split", attrs("num_outputs", graph.IntAttr(3)), 3, x)
	expect(t, outs[0], []int{3}, []float32{0, 1, 2})
	expect(t, outs[1], []int{3}, []float32{3, 4, 5})
	expect(t, outs[2], []int{1}, []float32{6})
	outs = mustCall(t, "Split", attrs("axis", graph.IntAttr(1)), 2, iota32(2, 4), ints(1, 3))
	expect(t, outs[0], []int{2, 1}, []float32{0, 4})
	expect(t, outs[1], []int{2, 3}, []float32{1, 2, 3, 5, 6, 7})
	wantErr(t, "equal parts", "Split", nil, 2, x)
	wantErr(t, "sums to", "Split", nil, 2, x, ints(3, 3))
}

func TestReshapeErrors(t *testing.T) {
	x := iota32(2, 3)
	expect(t, run1(t, "Reshape", nil, x, ints(-1)), []int{6}, x.F32())
	wantErr(t, "more than one -1", "Reshape", nil, 1, x, ints(-1, -1))
	wantErr(t, "cannot reshape", "Reshape", nil, 1, x, ints(4, -1))
	wantErr(t, "cannot reshape", "Reshape", nil, 1, x, ints(7))
	wantErr(t, "-1", "Reshape", attrs("allowzero", graph.IntAttr(1)), 1, x, ints(0, -1))
	wantErr(t, "invalid dim", "Reshape", nil, 1, x, ints(-2, -3))
	wantErr(t, "too large", "Reshape", nil, 1, x, ints(1<<40, 1<<40, 0))
	z := tensor.Zeros(tensor.Float32, 0, 3)
	expect(t, run1(t, "Reshape", attrs("allowzero", graph.IntAttr(1)), z, ints(3, 0)), []int{3, 0}, []float32{})
	expect(t, run1(t, "Reshape", nil, z, ints(-1, 3)), []int{0, 3}, []float32{})
	wantErr(t, "size is not 1", "Squeeze", nil, 1, x, ints(0))
	wantErr(t, "repeated", "Unsqueeze", nil, 1, x, ints(1, -3))
	wantErr(t, "out of range", "Flatten", attrs("axis", graph.IntAttr(3)), 1, x)
}

func TestShapeSize(t *testing.T) {
	x := iota32(2, 3, 4)
	expect(t, run1(t, "Shape", attrs("start", graph.IntAttr(-2)), x), []int{2}, []int64{3, 4})
	expect(t, run1(t, "Shape", attrs("start", graph.IntAttr(2), "end", graph.IntAttr(1)), x), []int{0}, []int64{})
	expect(t, run1(t, "Size", nil, x), nil, []int64{24})
}

func TestStridedPlanMerges(t *testing.T) {
	// Concat of NCHW along C: each input becomes one run per batch item.
	p := planStrided([]int{2, 3, 4, 5}, 0, []int{160, 20, 5, 1}, 0, []int{60, 20, 5, 1})
	if fmt.Sprint(p.shape, p.dst, p.src) != "[2 60] [160 1] [60 1]" {
		t.Errorf("plan %v %v %v", p.shape, p.dst, p.src)
	}
}
