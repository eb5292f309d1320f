package tensorops

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"stride/graph"
	"stride/tensor"
)

func TestTopK(t *testing.T) {
	x := tensor.From([]int{2, 4}, []float32{3, 1, 3, 2, 5, float32(math.NaN()), -1, 5})
	outs := mustCall(t, "TopK", nil, 2, x, ints(3))
	expect(t, outs[1], []int{2, 3}, []int64{0, 2, 3, 1, 0, 3}) // ties by lower index, NaN largest
	outs = mustCall(t, "TopK", attrs("largest", graph.IntAttr(0), "axis", graph.IntAttr(0)), 2, x, ints(1))
	expect(t, outs[0], []int{1, 4}, []float32{3, 1, -1, 2})
	expect(t, outs[1], []int{1, 4}, []int64{0, 0, 1, 0})
	wantErr(t, "out of range", "TopK", nil, 2, x, ints(5))
	wantErr(t, "out of range", "TopK", nil, 2, x, ints(-1))

	// Float16 values come back bit-exact; k = 0 is an empty result.
	h := tensor.FromBits(tensor.Float16, []int{3}, []uint16{0x3c00, 0xbc00, 0x4000})
	outs = mustCall(t, "TopK", nil, 2, h, ints(2))
	expect(t, outs[0], []int{2}, []uint16{0x4000, 0x3c00})
	outs = mustCall(t, "TopK", nil, 2, h, ints(0))
	expect(t, outs[0], []int{0}, []uint16{})

	// The heap path (k small) and the sort path agree with a full stable sort.
	rng := rand.New(rand.NewPCG(3, 4))
	const n = 1000
	v := make([]int32, 2*n)
	for i := range v {
		v[i] = int32(rng.IntN(50))
	}
	xi := tensor.From([]int{2, n}, v)
	for _, k := range []int{1, 7, 300, n} {
		for _, largest := range []int64{0, 1} {
			outs = mustCall(t, "TopK", attrs("largest", graph.IntAttr(largest)), 2, xi, ints(int64(k)))
			for row := 0; row < 2; row++ {
				line := v[row*n : (row+1)*n]
				order := make([]int64, n)
				for i := range order {
					order[i] = int64(i)
				}
				slices.SortStableFunc(order, func(a, b int64) int {
					if largest == 1 {
						return int(line[b]) - int(line[a])
					}
					return int(line[a]) - int(line[b])
				})
				got := outs[1].I64()[row*k : (row+1)*k]
				if !reflect.DeepEqual(got, order[:k]) {
					t.Fatalf("k=%d largest=%d row %d: got %v, want %v", k, largest, row, got[:min(k, 8)], order[:min(k, 8)])
				}
			}
		}
	}
}

func TestUnique(t *testing.T) {
	x := tensor.From([]int{6}, []string{"b", "a", "b", "c", "a", "b"})
	outs := mustCall(t, "Unique", attrs("sorted", graph.IntAttr(0)), 4, x)
	expect(t, outs[0], []int{3}, []string{"b", "a", "c"})
	expect(t, outs[1], []int{3}, []int64{0, 1, 3})
	expect(t, outs[2], []int{6}, []int64{0, 1, 0, 2, 1, 0})
	expect(t, outs[3], []int{3}, []int64{3, 2, 1})
	outs = mustCall(t, "Unique", nil, 4, x)
	expect(t, outs[0], []int{3}, []string{"a", "b", "c"})
	expect(t, outs[1], []int{3}, []int64{1, 0, 3})
	expect(t, outs[2], []int{6}, []int64{1, 0, 1, 2, 0, 1})

	// Columns of a matrix (axis 1); bools order false before true.
	b := tensor.From([]int{2, 3}, []bool{true, false, true, true, false, true})
	outs = mustCall(t, "Unique", attrs("axis", graph.IntAttr(1)), 4, b)
	expect(t, outs[0], []int{2, 2}, []bool{false, true, false, true})
	expect(t, outs[3], []int{2}, []int64{1, 2})
	outs = mustCall(t, "Unique", nil, 4, tensor.Zeros(tensor.Int32, 0))
	expect(t, outs[0], []int{0}, []int32{})
}

func TestCumSum(t *testing.T) {
	x := tensor.From([]int{2, 3}, []int64{math.MaxInt64 - 10, 1, 2, 3, 4, 5})
	y := run1(t, "CumSum", nil, x, tensor.Scalar(int32(1)))
	expect(t, y, []int{2, 3}, []int64{math.MaxInt64 - 10, math.MaxInt64 - 9, math.MaxInt64 - 7, 3, 7, 12})
	y = run1(t, "CumSum", attrs("exclusive", graph.IntAttr(1), "reverse", graph.IntAttr(1)), x, ints(0))
	expect(t, y, []int{2, 3}, []int64{3, 4, 5, 0, 0, 0})
	h := tensor.FromBits(tensor.Float16, []int{3}, []uint16{0x3c00, 0x3c00, 0x3c00})
	expect(t, run1(t, "CumSum", nil, h, ints(0)), []int{3}, []uint16{0x3c00, 0x4000, 0x4200})
	wantErr(t, "out of range", "CumSum", nil, 1, x, ints(2))
	wantErr(t, "numeric", "CumSum", nil, 1, tensor.From([]int{1}, []string{"a"}), ints(0))
}

func TestGenerators(t *testing.T) {
	y := run1(t, "ConstantOfShape", attrs("value", graph.TensorAttr(tensor.From([]int{1}, []int8{-3}))), ints(2, 2))
	expect(t, y, []int{2, 2}, []int8{-3, -3, -3, -3})
	expect(t, run1(t, "ConstantOfShape", nil, ints()), nil, []float32{0})
	wantErr(t, "too large", "ConstantOfShape", nil, 1, ints(1<<33, 1<<33))
	wantErr(t, "invalid shape", "ConstantOfShape", nil, 1, ints(-1))

	for name, a := range map[string]*graph.Attr{
		"value":         graph.TensorAttr(tensor.Scalar(true)),
		"value_floats":  graph.FloatsAttr(1, 2),
		"value_int":     graph.IntAttr(7),
		"value_strings": graph.StringsAttr("x"),
	} {
		y := run1(t, "Constant", attrs(name, a))
		if y.Len() == 0 {
			t.Errorf("Constant %s: empty", name)
		}
	}
	wantErr(t, "more than one", "Constant", attrs("value_int", graph.IntAttr(1), "value_float", graph.FloatAttr(1)), 1)
	wantErr(t, "no value", "Constant", nil, 1)
	wantErr(t, "sparse", "Constant", attrs("sparse_value", graph.TensorAttr(tensor.Scalar(1.0))), 1)

	expect(t, run1(t, "Range", nil, tensor.Scalar(int64(math.MinInt64)), tensor.Scalar(int64(math.MaxInt64)), tensor.Scalar(int64(math.MaxInt64))),
		[]int{3}, []int64{math.MinInt64, -1, math.MaxInt64 - 1})
	expect(t, run1(t, "Range", nil, tensor.Scalar(int16(10)), tensor.Scalar(int16(4)), tensor.Scalar(int16(-3))), []int{2}, []int16{10, 7})
	expect(t, run1(t, "Range", nil, tensor.Scalar(0.5), tensor.Scalar(2.0), tensor.Scalar(0.5)), []int{3}, []float64{0.5, 1, 1.5})
	wantErr(t, "delta is 0", "Range", nil, 1, tensor.Scalar(int32(0)), tensor.Scalar(int32(1)), tensor.Scalar(int32(0)))
	wantErr(t, "too long", "Range", nil, 1, tensor.Scalar(float32(0)), tensor.Scalar(float32(1e30)), tensor.Scalar(float32(1)))

	y = run1(t, "EyeLike", attrs("k", graph.IntAttr(1), "dtype", graph.IntAttr(9)), iota32(2, 3))
	expect(t, y, []int{2, 3}, []bool{false, true, false, false, false, true})
}

func TestRandom(t *testing.T) {
	seeded := attrs("seed", graph.FloatAttr(3), "shape", graph.IntsAttr(50), "low", graph.FloatAttr(2), "high", graph.FloatAttr(4))
	a := run1(t, "RandomUniform", seeded)
	b := run1(t, "RandomUniform", seeded)
	if !reflect.DeepEqual(a.F32(), b.F32()) {
		t.Fatal("seeded RandomUniform differs between runs")
	}
	for _, v := range a.F32() {
		if v < 2 || v > 4 {
			t.Fatalf("value %v outside [2, 4)", v)
		}
	}
	n := run1(t, "RandomNormalLike", attrs("dtype", graph.IntAttr(11)), tensor.Zeros(tensor.Int32, 1000))
	mean := 0.0
	for _, v := range n.Data.([]float64) {
		mean += v / 1000
	}
	if math.Abs(mean) > 0.2 {
		t.Errorf("RandomNormalLike mean %v", mean)
	}
	wantErr(t, "float type", "RandomUniformLike", nil, 1, tensor.Zeros(tensor.Int32, 2))
	p := tensor.From([]int{4}, []float64{0, 1, 0, 1})
	expect(t, run1(t, "Bernoulli", attrs("dtype", graph.IntAttr(9)), p), []int{4}, []bool{false, true, false, true})
	m := run1(t, "Multinomial", attrs("sample_size", graph.IntAttr(5), "seed", graph.FloatAttr(1)),
		tensor.From([]int{2, 3}, []float32{-100, 0, -100, float32(math.Inf(-1)), -200, 0}))
	expect(t, m, []int{2, 5}, []int32{1, 1, 1, 1, 1, 2, 2, 2, 2, 2})
}
