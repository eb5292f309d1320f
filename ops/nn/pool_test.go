package nn

import (
	"math/rand/v2"
	"slices"
	"testing"

	"stride/graph"
	"stride/tensor"
)

func seq(shape ...int) *tensor.Tensor {
	d := make([]float32, tensor.Size(shape))
	for i := range d {
		d[i] = float32(i + 1)
	}
	return tensor.From(shape, d)
}

func TestMaxPoolCeilAndIndices(t *testing.T) {
	x := seq(1, 1, 4, 4)
	a := map[string]*graph.Attr{"kernel_shape": ints(3, 3), "strides": ints(2, 2), "ceil_mode": graph.IntAttr(1)}
	out := mustRun(t, "MaxPool", a, 2, x)
	checkClose(t, "MaxPool ceil", out[0], []int{1, 1, 2, 2}, []float64{11, 12, 15, 16}, 0)
	if got := out[1].I64(); !slices.Equal(got, []int64{10, 11, 14, 15}) {
		t.Errorf("indices %v", got)
	}
	a["storage_order"] = graph.IntAttr(1)
	out = mustRun(t, "MaxPool", a, 2, x)
	if got := out[1].I64(); !slices.Equal(got, []int64{10, 14, 11, 15}) {
		t.Errorf("column-major indices %v", got)
	}
	// Second plane: indices count from the start of the whole tensor.
	out = mustRun(t, "MaxPool", map[string]*graph.Attr{"kernel_shape": ints(2)}, 2, seq(1, 2, 3))
	if got := out[1].I64(); !slices.Equal(got, []int64{1, 2, 4, 5}) {
		t.Errorf("indices over planes %v", got)
	}
}

func TestMaxPoolCeilDropsWindowInPadding(t *testing.T) {
	// in 4, kernel 2, stride 2, end pad 1: ceil would give 3 windows but
	// the third would start in the padding.
	a := map[string]*graph.Attr{"kernel_shape": ints(2), "strides": ints(2), "pads": ints(0, 1), "ceil_mode": graph.IntAttr(1)}
	y := mustRun(t, "MaxPool", a, 1, seq(1, 1, 4))[0]
	checkClose(t, "MaxPool", y, []int{1, 1, 2}, []float64{2, 4}, 0)
}

func TestMaxPoolTypes(t *testing.T) {
	a := map[string]*graph.Attr{"kernel_shape": ints(2), "dilations": ints(2), "pads": ints(1, 1)}
	// Windows (dilation 2, pad 1): {-1,1}, {0,2}, {1,3}, {2,4}.
	xi := tensor.From([]int{1, 1, 4}, []int8{-5, -7, -2, -9})
	y := mustRun(t, "MaxPool", a, 1, xi)[0]
	if got := y.Data.([]int8); !slices.Equal(got, []int8{-7, -2, -7, -2}) {
		t.Errorf("int8 MaxPool %v", got)
	}
	xd := tensor.From([]int{1, 1, 4}, []float64{1e-300, 3, 2, 1})
	y = mustRun(t, "MaxPool", a, 1, xd)[0]
	if got := y.Data.([]float64); !slices.Equal(got, []float64{3, 2, 3, 2}) {
		t.Errorf("float64 MaxPool %v", got)
	}
}

func TestAveragePool(t *testing.T) {
	x := tensor.From([]int{1, 1, 4}, []float32{1, 2, 3, 4})
	a := map[string]*graph.Attr{"kernel_shape": ints(3), "strides": ints(2), "pads": ints(1, 1), "ceil_mode": graph.IntAttr(1)}
	// Windows start at -1, 1, 3; the last reaches 5, past the padded end 5.
	y := mustRun(t, "AveragePool", a, 1, x)[0]
	checkClose(t, "exclude pad", y, []int{1, 1, 3}, []float64{1.5, 3, 4}, 1e-6)
	a["count_include_pad"] = graph.IntAttr(1)
	y = mustRun(t, "AveragePool", a, 1, x)[0]
	checkClose(t, "include pad", y, []int{1, 1, 3}, []float64{1, 3, 2}, 1e-6)

	a = map[string]*graph.Attr{"kernel_shape": ints(2), "dilations": ints(2)}
	y = mustRun(t, "AveragePool", a, 1, seq(1, 1, 5))[0]
	checkClose(t, "dilated", y, []int{1, 1, 3}, []float64{2, 3, 4}, 1e-6)

	a = map[string]*graph.Attr{"kernel_shape": ints(2, 2), "auto_pad": graph.StringAttr("SAME_UPPER"), "strides": ints(2, 2)}
	y = mustRun(t, "AveragePool", a, 1, seq(1, 1, 3, 3))[0]
	// 3 with stride 2: 2 outputs, 1 unit of padding at the end.
	checkClose(t, "same upper", y, []int{1, 1, 2, 2}, []float64{3, 4.5, 7.5, 9}, 1e-6)
}

func TestLpPools(t *testing.T) {
	x := tensor.From([]int{1, 2, 2, 2}, []float32{3, 4, 0, 0, 1, -2, 2, 0})
	y := mustRun(t, "LpPool", map[string]*graph.Attr{"kernel_shape": ints(2, 2)}, 1, x)[0]
	checkClose(t, "LpPool p2", y, []int{1, 2, 1, 1}, []float64{5, 3}, 1e-6)
	y = mustRun(t, "LpPool", map[string]*graph.Attr{"kernel_shape": ints(2, 2), "p": graph.IntAttr(1)}, 1, x)[0]
	checkClose(t, "LpPool p1", y, []int{1, 2, 1, 1}, []float64{7, 5}, 1e-6)
	y = mustRun(t, "GlobalLpPool", map[string]*graph.Attr{"p": graph.IntAttr(3)}, 1, x)[0]
	checkClose(t, "GlobalLpPool p3", y, []int{1, 2, 1, 1}, []float64{4.497941445275415, 2.571281590658235}, 1e-6)
}

func TestGlobalPools(t *testing.T) {
	x := tensor.From([]int{2, 1, 3}, []float32{1, 5, 3, -1, -2, -3})
	y := mustRun(t, "GlobalAveragePool", nil, 1, x)[0]
	checkClose(t, "avg", y, []int{2, 1, 1}, []float64{3, -2}, 1e-6)
	y = mustRun(t, "GlobalMaxPool", nil, 1, x)[0]
	checkClose(t, "max", y, []int{2, 1, 1}, []float64{5, -1}, 0)
	xu := tensor.From([]int{1, 2, 2}, []uint8{7, 200, 0, 3})
	y = mustRun(t, "GlobalMaxPool", nil, 1, xu)[0]
	if got := y.Data.([]uint8); !slices.Equal(got, []uint8{200, 3}) {
		t.Errorf("uint8 GlobalMaxPool %v", got)
	}
}

func TestMaxUnpool(t *testing.T) {
	x := tensor.From([]int{1, 1, 2, 2}, []float32{5, 6, 7, 8})
	idx := tensor.From([]int{1, 1, 2, 2}, []int64{5, 7, 13, 15})
	a := map[string]*graph.Attr{"kernel_shape": ints(2, 2), "strides": ints(2, 2)}
	y := mustRun(t, "MaxUnpool", a, 1, x, idx)[0]
	want := make([]float64, 16)
	want[5], want[7], want[13], want[15] = 5, 6, 7, 8
	checkClose(t, "natural", y, []int{1, 1, 4, 4}, want, 0)
	y = mustRun(t, "MaxUnpool", a, 1, x, idx, tensor.From([]int{4}, []int64{1, 1, 5, 5}))[0]
	want = make([]float64, 25)
	want[6], want[8], want[16], want[18] = 5, 6, 7, 8
	checkClose(t, "output_shape", y, []int{1, 1, 5, 5}, want, 0)
	if _, err := runOp("MaxUnpool", a, 1, x, tensor.From([]int{1, 1, 2, 2}, []int64{0, 1, 2, 16})); err == nil {
		t.Error("MaxUnpool accepted an out-of-range index")
	}
}

func TestMaxRoiPool(t *testing.T) {
	x := seq(1, 1, 4, 4)
	rois := tensor.From([]int{2, 5}, []float32{0, 0, 0, 3, 3, 0, 1, 1, 2, 2})
	a := map[string]*graph.Attr{"pooled_shape": ints(2, 2)}
	y := mustRun(t, "MaxRoiPool", a, 1, x, rois)[0]
	checkClose(t, "MaxRoiPool", y, []int{2, 1, 2, 2}, []float64{6, 8, 14, 16, 6, 7, 10, 11}, 0)
	bad := tensor.From([]int{1, 5}, []float32{1, 0, 0, 1, 1})
	if _, err := runOp("MaxRoiPool", a, 1, x, bad); err == nil {
		t.Error("MaxRoiPool accepted a batch index out of range")
	}
}

func TestPoolErrors(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	x := randTensor(r, 1, 1, 3, 3)
	for _, a := range []map[string]*graph.Attr{
		nil, // kernel_shape missing
		{"kernel_shape": ints(4, 4)},
		{"kernel_shape": ints(2)},
		{"kernel_shape": ints(2, 2), "auto_pad": graph.StringAttr("SAME")},
	} {
		if _, err := runOp("MaxPool", a, 1, x); err == nil {
			t.Errorf("MaxPool accepted attributes %v", a)
		}
	}
}
