package norm

import (
	"math"
	"testing"

	"stride/tensor"
)

func TestSoftmaxFamily(t *testing.T) {
	// Large values must not overflow: the column maximum is subtracted.
	x := f64([]int{2, 3}, 1, 2, 3, 1000, 0, -1)
	y := mustRun(t, "Softmax", attrs{"axis": intA(0)}, 1, x)[0]
	expect(t, "softmax axis 0", y, tensor.Float64, []int{2, 3},
		[]float64{0, 0.8807970779778825, 0.9820137900379085, 1, 0.11920292202211755, 0.017986209962091555}, 1e-12)
	y = mustRun(t, "LogSoftmax", nil, 1, x)[0] // axis -1
	expect(t, "logsoftmax", y, tensor.Float64, []int{2, 3},
		[]float64{-2.4076059644443806, -1.4076059644443804, -0.40760596444438035, 0, -1000, -1001}, 1e-12)
	// Ties go to the first maximum.
	y = mustRun(t, "Hardmax", attrs{"axis": intA(1)}, 1, f32([]int{2, 3}, 1, 3, 3, -1, -2, -3))[0]
	expect(t, "hardmax", y, tensor.Float32, []int{2, 3}, []float64{0, 1, 0, 1, 0, 0}, 0)
	// A middle axis (strided columns) in float32.
	y = mustRun(t, "Softmax", attrs{"axis": intA(1)}, 1, f32([]int{1, 2, 2}, 0, 1, 0, 1))[0]
	expect(t, "softmax middle axis", y, tensor.Float32, []int{1, 2, 2}, []float64{0.5, 0.5, 0.5, 0.5}, 1e-7)
	if _, err := runOp("Softmax", attrs{"axis": intA(2)}, 1, x); err == nil {
		t.Error("axis out of range: no error")
	}
	if _, err := runOp("Softmax", nil, 1, i64([]int{2}, 1, 2)); err == nil {
		t.Error("int64 input: no error")
	}
}

func TestSoftmaxRowsSumToOne(t *testing.T) {
	// Enough columns to be split over threads.
	const rows, cols = 300, 257
	v := make([]float32, rows*cols)
	for i := range v {
		v[i] = float32(math.Sin(float64(i))) * 30
	}
	y := mustRun(t, "Softmax", nil, 1, f32([]int{rows, cols}, v...))[0].F32()
	for r := range rows {
		s := 0.0
		for _, p := range y[r*cols : (r+1)*cols] {
			s += float64(p)
		}
		if math.Abs(s-1) > 1e-5 {
			t.Fatalf("row %d sums to %v", r, s)
		}
	}
}

func TestArgMaxMin(t *testing.T) {
	x := f32([]int{2, 3}, 1, 5, 5, 2, 0, 2)
	for _, c := range []struct {
		op    string
		at    attrs
		shape []int
		want  []float64
	}{
		{"ArgMax", attrs{"axis": intA(1)}, []int{2, 1}, []float64{1, 0}},
		{"ArgMax", attrs{"axis": intA(1), "select_last_index": intA(1)}, []int{2, 1}, []float64{2, 2}},
		{"ArgMax", attrs{"axis": intA(0), "keepdims": intA(0)}, []int{3}, []float64{1, 0, 0}},
		{"ArgMin", attrs{"axis": intA(-1), "keepdims": intA(0)}, []int{2}, []float64{0, 1}},
		{"ArgMin", attrs{"axis": intA(0), "select_last_index": intA(1)}, []int{1, 3}, []float64{0, 1, 1}},
	} {
		y := mustRun(t, c.op, c.at, 1, x)[0]
		expect(t, c.op, y, tensor.Int64, c.shape, c.want, 0)
	}
	// Integer types are compared exactly.
	y := mustRun(t, "ArgMax", attrs{"keepdims": intA(0)}, 1, tensor.From([]int{3}, []uint64{math.MaxUint64 - 1, math.MaxUint64, 0}))[0]
	expect(t, "uint64", y, tensor.Int64, []int{}, []float64{1}, 0)
	// NaN wins, as in numpy.
	y = mustRun(t, "ArgMin", attrs{"keepdims": intA(0)}, 1, f64([]int{3}, 1, math.NaN(), -5))[0]
	expect(t, "NaN", y, tensor.Int64, []int{}, []float64{1}, 0)
	if _, err := runOp("ArgMax", attrs{"axis": intA(1)}, 1, f32([]int{2, 0})); err == nil {
		t.Error("empty axis: no error")
	}
}
