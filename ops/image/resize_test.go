package imageops

import (
	"math/rand"
	"testing"

	"stride/graph"
	"stride/ops"
	"stride/tensor"
)

// Expected values come from the ONNX reference implementation of Resize.
func TestResizeOpset18Features(t *testing.T) {
	d4 := seq(1, 1, 4, 4)
	d2 := seq(1, 1, 2, 2)
	sc := func(v ...float32) *tensor.Tensor { return f32s([]int{len(v)}, v...) }
	cases := []struct {
		name  string
		at    attrs
		x     *tensor.Tensor
		roi   *tensor.Tensor
		scale *tensor.Tensor
		sizes *tensor.Tensor
		shape []int
		want  []float64
	}{
		{"linear_antialias", attrs{"mode": str("linear"), "antialias": num(1)}, d4, nil, sc(1, 1, 0.6, 0.6), nil,
			[]int{1, 1, 2, 2}, []float64{2.875, 4.5, 9.375, 11.0}},
		{"cubic_antialias", attrs{"mode": str("cubic"), "antialias": num(1)}, d4, nil, sc(1, 1, 0.6, 0.6), nil,
			[]int{1, 1, 2, 2}, []float64{2.5180721282958984, 4.285886287689209, 9.58932876586914, 11.357142448425293}},
		{"sizes_linear_antialias", attrs{"mode": str("linear"), "antialias": num(1)}, d4, nil, nil, i64s(1, 1, 3, 3),
			[]int{1, 1, 3, 3}, []float64{2.3636362552642822, 3.590909004211426, 4.818181991577148, 7.2727274894714355, 8.5, 9.727272987365723, 12.181818008422852, 13.409090995788574, 14.636363983154297}},
		{"sizes_cubic_antialias", attrs{"mode": str("cubic"), "antialias": num(1)}, d4, nil, nil, i64s(1, 1, 3, 3),
			[]int{1, 1, 3, 3}, []float64{1.7750091552734375, 3.120007276535034, 4.465005397796631, 7.155001640319824, 8.5, 9.844998359680176, 12.534994125366211, 13.879992485046387, 15.224990844726562}},
		{"nearest_not_larger", attrs{"axes": ints(2, 3), "keep_aspect_ratio_policy": str("not_larger")}, d2, nil, nil, i64s(7, 8),
			[]int{1, 1, 7, 7}, []float64{1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 3, 3, 3, 3, 4, 4, 4, 3, 3, 3, 3, 4, 4, 4}},
		{"nearest_not_smaller", attrs{"axes": ints(-2, -1), "keep_aspect_ratio_policy": str("not_smaller")}, d2, nil, nil, i64s(7, 8),
			[]int{1, 1, 8, 8}, []float64{1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 3, 3, 3, 3, 4, 4, 4, 4, 3, 3, 3, 3, 4, 4, 4, 4, 3, 3, 3, 3, 4, 4, 4, 4}},
		{"down_nearest_not_larger", attrs{"axes": ints(2, 3), "keep_aspect_ratio_policy": str("not_larger")}, seq(1, 1, 2, 4), nil, nil, i64s(1, 3),
			[]int{1, 1, 1, 2}, []float64{1, 3}},
		{"down_nearest_not_smaller", attrs{"axes": ints(2, 3), "keep_aspect_ratio_policy": str("not_smaller")}, seq(1, 1, 2, 4), nil, nil, i64s(1, 3),
			[]int{1, 1, 2, 3}, []float64{1, 2, 4, 5, 6, 8}},
		{"half_pixel_symmetric_up", attrs{"mode": str("linear"), "coordinate_transformation_mode": str("half_pixel_symmetric")}, d2, nil, sc(1, 1, 2.3, 2.94), nil,
			[]int{1, 1, 4, 5}, []float64{1.0, 1.1598639488220215, 1.5, 1.8401360511779785, 2.0, 1.56521737575531, 1.7250813245773315, 2.0652174949645996, 2.405353546142578, 2.5652174949645996, 2.4347825050354004, 2.594646453857422, 2.9347825050354004, 3.274918556213379, 3.4347825050354004, 3.0, 3.1598639488220215, 3.5, 3.8401360511779785, 4.0}},
		{"half_pixel_symmetric_down", attrs{"mode": str("linear"), "coordinate_transformation_mode": str("half_pixel_symmetric")}, d4, nil, sc(1, 1, 0.6, 0.6), nil,
			[]int{1, 1, 2, 2}, []float64{4.333333492279053, 6.0, 11.0, 12.666666030883789}},
		{"crop_axes_2_3", attrs{"mode": str("linear"), "coordinate_transformation_mode": str("tf_crop_and_resize"), "axes": ints(2, 3)}, d4, sc(0.4, 0.6, 0.6, 0.8), nil, i64s(3, 3),
			[]int{1, 1, 3, 3}, []float64{7.6, 7.9, 8.2, 8.8, 9.1, 9.4, 10.0, 10.3, 10.6}},
		{"crop_extrapolation", attrs{"mode": str("linear"), "coordinate_transformation_mode": str("tf_crop_and_resize"), "extrapolation_value": flt(10)}, d4, sc(0, 0, 0.4, 0.6, 1, 1, 1.2, 1.7), nil, i64s(1, 1, 3, 3),
			[]int{1, 1, 3, 3}, []float64{7.6, 10, 10, 12.4, 10, 10, 10, 10, 10}},
		{"nearest_crop_extrapolation", attrs{"coordinate_transformation_mode": str("tf_crop_and_resize"), "extrapolation_value": flt(-1)}, d4, sc(0, 0, 0.4, 0.6, 1, 1, 1.2, 1.7), nil, i64s(1, 1, 3, 3),
			[]int{1, 1, 3, 3}, []float64{7, -1, -1, 11, -1, -1, -1, -1, -1}},
		{"linear_axes_reordered", attrs{"mode": str("linear"), "axes": ints(3, 2)}, d2, nil, sc(3, 2), nil,
			[]int{1, 1, 4, 6}, []float64{1, 1, 1.3333333730697632, 1.6666666269302368, 2, 2, 1.5, 1.5, 1.8333333730697632, 2.1666667461395264, 2.5, 2.5, 2.5, 2.5, 2.8333332538604736, 3.1666667461395264, 3.5, 3.5, 3, 3, 3.3333332538604736, 3.6666667461395264, 4, 4}},
		{"cubic_exclude_3d", attrs{"mode": str("cubic"), "exclude_outside": num(1), "cubic_coeff_a": flt(-0.5)}, seq(1, 2, 5), nil, sc(1, 1.5, 0.8), nil,
			[]int{1, 3, 4}, []float64{0.7446779608726501, 2.0460526943206787, 3.2960526943206787, 4.5974273681640625, 3.573625326156616, 4.875, 6.125, 7.426374435424805, 6.4025726318359375, 7.7039475440979, 8.953947067260742, 10.255321502685547}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			y := mustRun(t, "Resize", 19, c.at, c.x, c.roi, c.scale, c.sizes)
			expect(t, y, c.shape, c.want, 1e-5)
		})
	}
}

// The float32 NCHW fast path must agree with the float64 reference path.
func TestResizeBilinearFastPathMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	x32 := tensor.Zeros(tensor.Float32, 2, 3, 7, 9)
	for i := range x32.F32() {
		x32.F32()[i] = rng.Float32()*2 - 1
	}
	x64, _ := tensor.Convert(x32, tensor.Float64)
	for _, ctm := range []string{"half_pixel", "align_corners", "asymmetric", "pytorch_half_pixel"} {
		for _, sizes := range [][]int64{{2, 3, 16, 5}, {2, 3, 3, 20}, {2, 3, 1, 1}} {
			at := attrs{"mode": str("linear"), "coordinate_transformation_mode": str(ctm)}
			fast := mustRun(t, "Resize", 19, at, x32, nil, nil, i64s(sizes...))
			ref := mustRun(t, "Resize", 19, at, x64, nil, nil, i64s(sizes...))
			expect(t, fast, ref.Shape, ref.Float64s(), 1e-5)
		}
	}
}

func TestResizeIntegerTypes(t *testing.T) {
	x := tensor.From([]int{1, 1, 1, 3}, []uint8{0, 255, 100})
	// Nearest copies any element type exactly.
	y := mustRun(t, "Resize", 19, attrs{}, x, nil, f32s([]int{4}, 1, 1, 1, 2), nil)
	if got := y.Data.([]uint8); y.DType != tensor.Uint8 || len(got) != 6 || got[1] != 0 || got[2] != 255 || got[5] != 100 {
		t.Fatalf("nearest uint8: %v", y)
	}
	// Cubic overshoots below 0: results saturate to the range and truncate.
	y = mustRun(t, "Resize", 19, attrs{"mode": str("cubic")}, x, nil, f32s([]int{4}, 1, 1, 1, 2), nil)
	want := []float64{0, 63, 213, 246, 144, 83} // from -26.9, 63.2, 213.6, 246.8, 144.1, 83.7
	expect(t, y, []int{1, 1, 1, 6}, want, 0)
	s := mustRun(t, "Resize", 19, attrs{}, tensor.From([]int{2}, []string{"a", "b"}), nil, nil, i64s(4))
	if got := s.Data.([]string); got[0] != "a" || got[1] != "a" || got[2] != "b" || got[3] != "b" {
		t.Fatalf("nearest strings: %q", got)
	}
}

func TestResizeFloat16(t *testing.T) {
	x := tensor.FromBits(tensor.Float16, []int{1, 2}, []uint16{tensor.F32ToF16(1), tensor.F32ToF16(2)})
	y := mustRun(t, "Resize", 19, attrs{"mode": str("linear")}, x, nil, f32s([]int{2}, 1, 2), nil)
	if y.DType != tensor.Float16 {
		t.Fatalf("dtype %v", y.DType)
	}
	expect(t, y, []int{1, 4}, []float64{1, 1.25, 1.75, 2}, 0)
}

func TestResizeErrors(t *testing.T) {
	x := seq(1, 1, 2, 2)
	bad := []struct {
		name string
		at   attrs
		in   []*tensor.Tensor
	}{
		{"no scales or sizes", attrs{}, []*tensor.Tensor{x, nil, nil, nil}},
		{"both", attrs{}, []*tensor.Tensor{x, nil, f32s([]int{4}, 1, 1, 2, 2), i64s(1, 1, 4, 4)}},
		{"scales length", attrs{}, []*tensor.Tensor{x, nil, f32s([]int{2}, 2, 2), nil}},
		{"negative scale", attrs{}, []*tensor.Tensor{x, nil, f32s([]int{4}, 1, 1, -2, 2), nil}},
		{"huge scale", attrs{}, []*tensor.Tensor{x, nil, f32s([]int{4}, 1, 1, 1e30, 1e30), nil}},
		{"negative size", attrs{}, []*tensor.Tensor{x, nil, nil, i64s(1, 1, -4, 4)}},
		{"bad axis", attrs{"axes": ints(7)}, []*tensor.Tensor{x, nil, nil, i64s(4)}},
		{"bad mode", attrs{"mode": str("area")}, []*tensor.Tensor{x, nil, nil, i64s(1, 1, 4, 4)}},
		{"bad roi", attrs{"coordinate_transformation_mode": str("tf_crop_and_resize")}, []*tensor.Tensor{x, f32s([]int{2}, 0, 1), nil, i64s(1, 1, 4, 4)}},
	}
	for _, c := range bad {
		if _, err := run("Resize", 19, c.at, c.in...); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

func benchResize(b *testing.B, mode string, dt tensor.DType) {
	x := tensor.Zeros(dt, 1, 32, 128, 128)
	at := attrs{"mode": str(mode)}
	b.ResetTimer()
	for range b.N {
		if _, err := run("Resize", 19, at, x, nil, f32s([]int{4}, 1, 1, 2, 2), nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkResizeNearest2x(b *testing.B)     { benchResize(b, "nearest", tensor.Float32) }
func BenchmarkResizeBilinear2x(b *testing.B)    { benchResize(b, "linear", tensor.Float32) }
func BenchmarkResizeCubic2x(b *testing.B)       { benchResize(b, "cubic", tensor.Float32) }
func BenchmarkResizeBilinear2xF64(b *testing.B) { benchResize(b, "linear", tensor.Float64) }

func TestResizeInfer(t *testing.T) {
	def, _ := ops.Lookup("", "Resize")
	n := &graph.Node{Op: "Resize", Inputs: []string{"x", "", "s"}, Outputs: []string{"y"}}
	b := &ops.Build{Node: n, Opset: 19, Consts: []*tensor.Tensor{nil, nil, f32s([]int{4}, 1, 1, 2, 1.5)}}
	in := []graph.Type{graph.TensorType(tensor.Float32, 1, 3, 10, 10), {}, graph.TensorType(tensor.Float32, 4)}
	got, err := def.Infer(b, in)
	if err != nil || got[0].String() != "float32[1,3,20,15]" {
		t.Fatalf("constant scales: %v %v", got, err)
	}
	b.Consts[2] = nil // scales computed at run time: only the rank is known
	got, err = def.Infer(b, in)
	if err != nil || got[0].String() != "float32[?,?,?,?]" {
		t.Fatalf("dynamic scales: %v %v", got, err)
	}
}
