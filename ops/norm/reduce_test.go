package norm

import (
	"math"
	"math/rand"
	"testing"

	"stride/tensor"
)

func TestReduceOps(t *testing.T) {
	// x = [[1, -2, 3], [4, 0.5, -1]] reduced along axis 1.
	x := f32([]int{2, 3}, 1, -2, 3, 4, 0.5, -1)
	lse := func(v ...float64) float64 {
		s := 0.0
		for _, e := range v {
			s += math.Exp(e)
		}
		return math.Log(s)
	}
	for _, c := range []struct {
		op   string
		want []float64
	}{
		{"ReduceSum", []float64{2, 3.5}},
		{"ReduceMean", []float64{2.0 / 3, 3.5 / 3}},
		{"ReduceSumSquare", []float64{14, 17.25}},
		{"ReduceL1", []float64{6, 5.5}},
		{"ReduceL2", []float64{math.Sqrt(14), math.Sqrt(17.25)}},
		{"ReduceLogSum", []float64{math.Log(2), math.Log(3.5)}},
		{"ReduceLogSumExp", []float64{lse(1, -2, 3), lse(4, 0.5, -1)}},
		{"ReduceProd", []float64{-6, -2}},
		{"ReduceMax", []float64{3, 4}},
		{"ReduceMin", []float64{-2, -1}},
	} {
		y := mustRun(t, c.op, attrs{"keepdims": intA(0)}, 1, x, i64([]int{1}, -1))[0]
		expect(t, c.op, y, tensor.Float32, []int{2}, c.want, 1e-6)
		// Without axes every axis is reduced; keepdims defaults to 1.
		all := mustRun(t, c.op, nil, 1, x)[0]
		if !tensor.SameShape(all.Shape, []int{1, 1}) {
			t.Errorf("%s over all axes: shape %v", c.op, all.Shape)
		}
	}
}

func TestReduceLogSumExpStable(t *testing.T) {
	y := mustRun(t, "ReduceLogSumExp", attrs{"keepdims": intA(0)}, 1,
		f64([]int{3, 2}, 1000, 1000, 1, 2, math.Inf(-1), math.Inf(-1)), i64([]int{1}, 1))[0]
	expect(t, "lse", y, tensor.Float64, []int{3}, []float64{1000.6931471805599, 2.3132616875182226, math.Inf(-1)}, 1e-12)
}

func TestReduceNoopWithEmptyAxes(t *testing.T) {
	x := f32([]int{2, 2}, 1, -2, 3, 4)
	noop := attrs{"noop_with_empty_axes": intA(1)}
	// Reducing over no axes reduces each element on its own.
	for op, want := range map[string][]float64{
		"ReduceSum":       {1, -2, 3, 4},
		"ReduceSumSquare": {1, 4, 9, 16},
		"ReduceL1":        {1, 2, 3, 4},
		"ReduceMax":       {1, -2, 3, 4},
	} {
		y := mustRun(t, op, noop, 1, x, i64([]int{0}))[0]
		expect(t, op, y, tensor.Float32, []int{2, 2}, want, 0)
		y = mustRun(t, op, noop, 1, x)[0] // axes omitted
		expect(t, op+" without axes", y, tensor.Float32, []int{2, 2}, want, 0)
	}
	// Without the attribute, empty axes mean all axes.
	y := mustRun(t, "ReduceSum", attrs{"keepdims": intA(0)}, 1, x, i64([]int{0}))[0]
	expect(t, "sum all", y, tensor.Float32, []int{}, []float64{6}, 0)
}

func TestReduceEmptySet(t *testing.T) {
	x := f32([]int{2, 0})
	inf := math.Inf(1)
	for op, want := range map[string][]float64{
		"ReduceSum":       {0, 0},
		"ReduceProd":      {1, 1},
		"ReduceMax":       {-inf, -inf},
		"ReduceMin":       {inf, inf},
		"ReduceL2":        {0, 0},
		"ReduceLogSum":    {-inf, -inf},
		"ReduceLogSumExp": {-inf, -inf},
		"ReduceMean":      {math.NaN(), math.NaN()},
	} {
		y := mustRun(t, op, nil, 1, x, i64([]int{1}, 1))[0]
		expect(t, op, y, tensor.Float32, []int{2, 1}, want, 0)
	}
	y := mustRun(t, "ReduceMax", nil, 1, tensor.From([]int{0, 3}, []int32{}), i64([]int{1}, 0))[0]
	expect(t, "int32 max", y, tensor.Int32, []int{1, 3}, []float64{math.MinInt32, math.MinInt32, math.MinInt32}, 0)
	// Reducing a kept empty axis gives an empty output.
	y = mustRun(t, "ReduceSum", nil, 1, x, i64([]int{1}, 0))[0]
	expect(t, "empty kept axis", y, tensor.Float32, []int{1, 0}, nil, 0)
}

func TestReduceIntegersExact(t *testing.T) {
	big := int64(1) << 60
	y := mustRun(t, "ReduceSum", attrs{"keepdims": intA(0)}, 1, i64([]int{3}, big, big, 3))[0]
	if got := y.I64()[0]; got != 2*big+3 {
		t.Errorf("int64 sum = %d, want %d", got, 2*big+3)
	}
	y = mustRun(t, "ReduceProd", attrs{"keepdims": intA(0)}, 1, i64([]int{3}, 1<<20, 1<<20, 3))[0]
	if got := y.I64()[0]; got != 3<<40 {
		t.Errorf("int64 prod = %d", got)
	}
	// Integer results wrap like the element type.
	y = mustRun(t, "ReduceSum", attrs{"keepdims": intA(0)}, 1, tensor.From([]int{2}, []int32{math.MaxInt32, 1}))[0]
	if got := y.Data.([]int32)[0]; got != math.MinInt32 {
		t.Errorf("int32 wrapping sum = %d", got)
	}
	y = mustRun(t, "ReduceSum", attrs{"keepdims": intA(0)}, 1, tensor.From([]int{2}, []uint64{math.MaxUint64, 2}))[0]
	if got := y.Data.([]uint64)[0]; got != 1 {
		t.Errorf("uint64 wrapping sum = %d", got)
	}
	y = mustRun(t, "ReduceMax", attrs{"keepdims": intA(0)}, 1, tensor.From([]int{3}, []uint64{5, math.MaxUint64, 7}))[0]
	if got := y.Data.([]uint64)[0]; got != math.MaxUint64 {
		t.Errorf("uint64 max = %d", got)
	}
	y = mustRun(t, "ReduceL1", attrs{"keepdims": intA(0)}, 1, tensor.From([]int{3}, []int8{-3, 4, -5}))[0]
	expect(t, "int8 L1", y, tensor.Int8, []int{}, []float64{12}, 0)
	// The float reductions truncate like a cast.
	y = mustRun(t, "ReduceMean", attrs{"keepdims": intA(0)}, 1, tensor.From([]int{2}, []int32{1, 2}))[0]
	expect(t, "int32 mean", y, tensor.Int32, []int{}, []float64{1}, 0)
}

func TestReduceBool(t *testing.T) {
	x := tensor.From([]int{2, 2}, []bool{true, false, false, false})
	y := mustRun(t, "ReduceMax", attrs{"keepdims": intA(0)}, 1, x, i64([]int{1}, 1))[0]
	if d := y.Data.([]bool); !d[0] || d[1] {
		t.Errorf("bool max = %v", d)
	}
	y = mustRun(t, "ReduceMin", attrs{"keepdims": intA(0)}, 1, x, i64([]int{1}, 0))[0]
	if d := y.Data.([]bool); d[0] || d[1] {
		t.Errorf("bool min = %v", d)
	}
	if _, err := runOp("ReduceSum", nil, 1, x); err == nil {
		t.Error("ReduceSum of bools: no error")
	}
}

func TestReduceBadAxes(t *testing.T) {
	x := f32([]int{2, 2}, 1, 2, 3, 4)
	for _, axes := range [][]int64{{2}, {-3}, {0, 0}, {1, -1}} {
		if _, err := runOp("ReduceSum", nil, 1, x, i64([]int{len(axes)}, axes...)); err == nil {
			t.Errorf("axes %v: no error", axes)
		}
	}
	if _, err := runOp("ReduceSum", nil, 1, x, f32([]int{1}, 0)); err == nil {
		t.Error("float axes: no error")
	}
}

// TestReduceGeometry checks every subset of axes of a rank-5 shape, which
// covers contiguous blocks, permuted layouts and size-1 axes, against a
// naive reduction that maps each input index to its output index.
func TestReduceGeometry(t *testing.T) {
	shape := []int{3, 1, 4, 2, 5}
	rng := rand.New(rand.NewSource(1))
	n := tensor.Size(shape)
	data := make([]float64, n)
	for i := range data {
		data[i] = rng.Float64()*2 - 1
	}
	x := f64(shape, data...)
	st := tensor.Strides(shape)
	for mask := 0; mask < 1<<len(shape); mask++ {
		var axes []int64
		for d := range shape {
			if mask&(1<<d) != 0 {
				axes = append(axes, int64(d))
			}
		}
		if len(axes) == 0 {
			continue
		}
		outShape := reducedShape(shape, ops2ints(axes), true, 1)
		ost := tensor.Strides(outShape)
		sum, mx := make([]float64, tensor.Size(outShape)), make([]float64, tensor.Size(outShape))
		for i := range mx {
			mx[i] = math.Inf(-1)
		}
		for i, v := range data {
			o := 0
			for d := range shape {
				if mask&(1<<d) == 0 {
					o += (i / st[d] % shape[d]) * ost[d]
				}
			}
			sum[o] += v
			mx[o] = max(mx[o], v)
		}
		ax := i64([]int{len(axes)}, axes...)
		y := mustRun(t, "ReduceSum", nil, 1, x, ax)[0]
		expect(t, "sum", y, tensor.Float64, outShape, sum, 1e-12)
		y = mustRun(t, "ReduceMax", nil, 1, x, ax)[0]
		expect(t, "max", y, tensor.Float64, outShape, mx, 0)
		y = mustRun(t, "ReduceSum", attrs{"keepdims": intA(0)}, 1, x, ax)[0]
		expect(t, "sum", y, tensor.Float64, reducedShape(shape, ops2ints(axes), false, 1), sum, 1e-12)
	}
}

func ops2ints(v []int64) []int {
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}

func TestPermute(t *testing.T) {
	// [2,3] transposed.
	src := []int{0, 1, 2, 3, 4, 5}
	dst := make([]int, 6)
	permute(dst, src, []int{2, 3}, []int{1, 0})
	want := []int{0, 3, 1, 4, 2, 5}
	for i := range want {
		if dst[i] != want[i] {
			t.Fatalf("permute = %v, want %v", dst, want)
		}
	}
	// A 3-D permutation and its inverse give back the source.
	shape, perm := []int{2, 3, 4}, []int{2, 0, 1}
	src = make([]int, 24)
	for i := range src {
		src[i] = i
	}
	mid, back := make([]int, 24), make([]int, 24)
	permute(mid, src, shape, perm)
	pshape, inv := permuted(shape, perm)
	if mid[1] != 4 || mid[2] != 8 { // dst[0,0,1] = src[0,1,0]
		t.Errorf("permute 3-D: %v", mid[:4])
	}
	permute(back, mid, pshape, inv)
	for i := range src {
		if back[i] != src[i] {
			t.Fatalf("inverse permutation: %v", back)
		}
	}
}

func TestPlanAxes(t *testing.T) {
	for _, c := range []struct {
		shape, axes []int
		perm        bool
		s           span
	}{
		{[]int{2, 3, 4}, []int{1}, false, span{2, 3, 4}},
		{[]int{2, 3, 4}, []int{1, 2}, false, span{2, 12, 1}},
		{[]int{2, 1, 4}, []int{0, 2}, false, span{1, 8, 1}}, // the size-1 axis does not split them
		{[]int{2, 3, 4}, []int{0, 2}, true, span{3, 8, 1}},
		{[]int{2, 3, 4}, []int{}, false, span{24, 1, 1}},
		{[]int{2, 1, 4}, []int{1}, false, span{8, 1, 1}},
	} {
		p := planAxes(c.shape, c.axes)
		if (p.perm != nil) != c.perm || p.s != c.s {
			t.Errorf("planAxes(%v, %v) = %v %v", c.shape, c.axes, p.perm, p.s)
		}
	}
}

func TestMapColumns(t *testing.T) {
	// Long columns with inner > 1: blocks of columns are gathered, the
	// last block of each outer index is partial.
	for _, s := range []span{{3, 5000, 37}, {2, 3, 1}, {4, 1, 20}, {2, 0, 3}} {
		x := make([]int, s.outer*s.n*s.inner)
		for i := range x {
			x[i] = i
		}
		y := make([]int, len(x))
		seen := make([]bool, s.columns())
		mapColumns(testCtx(), s, x, y, func(col int, in, out []int) {
			seen[col] = true
			o, i := col/s.inner, col%s.inner
			for k, v := range in {
				if want := (o*s.n+k)*s.inner + i; v != want {
					t.Errorf("span %v column %d element %d = %d, want %d", s, col, k, v, want)
					return
				}
				out[k] = -v
			}
		})
		for i, v := range y {
			if v != -x[i] {
				t.Fatalf("span %v: y[%d] = %d, want %d", s, i, v, -x[i])
			}
		}
		for col, ok := range seen {
			if !ok {
				t.Fatalf("span %v: column %d not visited", s, col)
			}
		}
	}
}

func TestReduceSumPairwise(t *testing.T) {
	// A straight float64 sum of 2^20 copies of 0.1 is off by about 1e-6;
	// the pairwise sum stays within a few ulps.
	v := make([]float64, 1<<20)
	for i := range v {
		v[i] = 0.1
	}
	y := mustRun(t, "ReduceSum", attrs{"keepdims": intA(0)}, 1, f64([]int{len(v)}, v...))[0]
	if got, want := y.Data.([]float64)[0], 0.1*float64(len(v)); math.Abs(got-want) > 1e-13*want {
		t.Errorf("sum = %.17g, want %.17g", got, want)
	}
}
