package imageops

import (
	"testing"

	"stride/tensor"
)

// Expected values of the 3-D and batched cases come from the ONNX reference
// implementation of GridSample.
func TestGridSampleVolumetric(t *testing.T) {
	x := tensor.Zeros(tensor.Float32, 1, 1, 3, 2, 2)
	for i := range x.F32() {
		x.F32()[i] = float32(i)
	}
	grid := f32s([]int{1, 1, 2, 3, 3}, -1, -1, -1, -0.5, 0.3, -0.6, 0.2, 0.6, 0.9, 1, 1, 1, 1.3, -0.7, 0.25, -1.4, 0.45, 1.2)
	cases := []struct {
		mode, pad string
		align     int64
		want      []float64
	}{
		{"nearest", "zeros", 0, []float64{0, 2, 11, 0, 0, 0}},
		{"nearest", "zeros", 1, []float64{0, 2, 11, 11, 5, 10}},
		{"linear", "zeros", 0, []float64{0, 1.999999761581421, 6.259500980377197, 1.375, 1.040000319480896, 0.19799986481666565}},
		{"linear", "zeros", 1, []float64{0, 3.1499998569488525, 9.800000190734863, 11, 5.355000019073486, 6.047999858856201}},
		{"linear", "border", 0, []float64{0, 1.999999761581421, 10.699999809265137, 11, 6.5, 9.899999618530273}},
		{"linear", "reflection", 1, []float64{0, 3.1499998569488525, 9.800000190734863, 11, 6.150000095367432, 8.84999942779541}},
		{"cubic", "zeros", 0, []float64{-0.1640625, 2.2888996601104736, 8.162336349487305, 1.5390625, 1.0689873695373535, 0.15519724786281586}},
		{"cubic", "border", 1, []float64{0, 2.8246874809265137, 9.958999633789062, 11, 6.583499908447266, 9.49485969543457}},
		{"cubic", "reflection", 0, []float64{-1.3125, 1.9489997625350952, 11.53849983215332, 12.3125, 6.760859489440918, 10.333874702453613}},
	}
	for _, c := range cases {
		y := mustRun(t, "GridSample", 20, attrs{"mode": str(c.mode), "padding_mode": str(c.pad), "align_corners": num(c.align)}, x, grid)
		expect(t, y, []int{1, 1, 1, 2, 3}, c.want, 1e-5)
	}
}

func TestGridSampleBatchesAndChannels(t *testing.T) {
	x := tensor.Zeros(tensor.Float32, 2, 2, 3, 4)
	for i := range x.F32() {
		x.F32()[i] = float32(i%7) - 2.5
	}
	grid := f32s([]int{2, 2, 3, 2}, -1.2, 0.3, 0.5, -0.5, 0.9, 0.99, -0.1, 1.5, 0.33, -0.77, 1, -1, 0, 0, -0.66, 0.25, 2.1, -2.2, 0.7, 0.7, -0.95, 0.4, 0.05, -0.6)
	cases := []struct {
		mode, pad string
		want      []float64
	}{
		{"nearest", "reflection", []float64{1.5, -0.5, 1.5, -0.5, -0.5, 0.5, -0.5, -2.5, -0.5, -2.5, -2.5, -1.5, -0.5, -2.5, -1.5, -2.5, 1.5, 2.5, -2.5, 2.5, 3.5, 2.5, -0.5, 0.5}},
		{"bilinear", "zeros", []float64{0.01500000711530447, 0.125, 0.5407499074935913, 0, -0.2872999310493469, 0.125, 0.12999984622001648, -1, -0.18024995923042297, 0, -1.9773000478744507, -0.375, -1, -0.8200000524520874, 0, -1.8050001859664917, -0.060000229626894, 1.7999999523162842, 0.5, 1.5549999475479126, 0, 2.2799997329711914, 0.42000019550323486, 0.07999997586011887}},
		{"bicubic", "reflection", []float64{0.5094378590583801, 0.189453125, 2.6133577823638916, 0.7488759160041809, -0.5767924785614014, 1.49609375, 1.111169695854187, -1.402099609375, -0.9044937491416931, -2.1120214462280273, -3.3220272064208984, -2.0625, -1, -1.251725673675537, -0.2804696559906006, -2.087677001953125, -0.4480004906654358, 1.7978971004486084, 0.5, 2.0993998050689697, 1.8225675821304321, 2.5689339637756348, 0.7720004320144653, 0.04404500499367714}},
	}
	for _, c := range cases {
		y := mustRun(t, "GridSample", 16, attrs{"mode": str(c.mode), "padding_mode": str(c.pad)}, x, grid)
		expect(t, y, []int{2, 2, 2, 3}, c.want, 1e-5)
	}
	if _, err := run("GridSample", 16, attrs{}, x, f32s([]int{2, 3, 1}, 0, 0, 0, 0, 0, 0)); err == nil {
		t.Error("grid of the wrong rank accepted")
	}
}

func TestRoiAlign(t *testing.T) {
	x := seq(1, 1, 4, 4) // value 1 + 4y + x, which bilinear sampling reproduces
	rois := f32s([]int{1, 4}, 0, 0, 3, 3)
	at := attrs{"coordinate_transformation_mode": str("output_half_pixel"), "sampling_ratio": num(2)}
	y := mustRun(t, "RoiAlign", 16, at, x, rois, i64s(0))
	expect(t, y, []int{1, 1, 1, 1}, []float64{8.5}, 1e-6)
	// Max mode takes the largest weighted corner over the samples (here
	// 0.5625*11 at the sample (2.25, 2.25)).
	at["mode"] = str("max")
	y = mustRun(t, "RoiAlign", 16, at, x, rois, i64s(0))
	expect(t, y, []int{1, 1, 1, 1}, []float64{6.1875}, 1e-6)
	if _, err := run("RoiAlign", 16, at, x, rois, i64s(1)); err == nil {
		t.Error("batch index out of range accepted")
	}
}

func TestNonMaxSuppression(t *testing.T) {
	boxes := f32s([]int{1, 3, 4}, 0, 0, 1, 1, 0, 0.1, 1, 1.1, 0, 10, 1, 11)
	scores := f32s([]int{1, 2, 3}, 0.9, 0.75, 0.6, 0.1, 0.95, 0.3)
	y := mustRun(t, "NonMaxSuppression", 11, attrs{}, boxes, scores, i64s(2), f32s([]int{1}, 0.5), f32s([]int{1}, 0.2))
	expect(t, y, []int{4, 3}, []float64{0, 0, 0, 0, 0, 2, 0, 1, 1, 0, 1, 2}, 0)
	// Without max_output_boxes_per_class nothing is selected.
	y = mustRun(t, "NonMaxSuppression", 11, attrs{}, boxes, scores)
	expect(t, y, []int{0, 3}, nil, 0)
	// Centre format: the same boxes as [x_center, y_center, width, height].
	centre := f32s([]int{1, 3, 4}, 0.5, 0.5, 1, 1, 0.5, 0.6, 1, 1, 0.5, 10.5, 1, 1)
	y = mustRun(t, "NonMaxSuppression", 11, attrs{"center_point_box": num(1)}, centre, scores, i64s(5), f32s([]int{1}, 0.5))
	expect(t, y, []int{4, 3}, []float64{0, 0, 0, 0, 0, 2, 0, 1, 1, 0, 1, 2}, 0)
}

// Expected values come from the ONNX reference implementation of Col2Im.
func TestCol2Im(t *testing.T) {
	cases := []struct {
		name         string
		x            *tensor.Tensor
		image, block []int64
		at           attrs
		shape        []int
		want         []float64
	}{
		{"basic", seq(1, 5, 5), []int64{5, 5}, []int64{1, 5}, attrs{}, []int{1, 1, 5, 5},
			[]float64{1, 6, 11, 16, 21, 2, 7, 12, 17, 22, 3, 8, 13, 18, 23, 4, 9, 14, 19, 24, 5, 10, 15, 20, 25}},
		{"pads", seq(1, 5, 15), []int64{5, 5}, []int64{1, 5}, attrs{"pads": ints(0, 1, 0, 1)}, []int{1, 1, 5, 5},
			[]float64{18, 51, 96, 141, 110, 24, 60, 105, 150, 116, 30, 69, 114, 159, 122, 36, 78, 123, 168, 128, 42, 87, 132, 177, 134}},
		{"dilations", seq(1, 4, 5), []int64{6, 6}, []int64{2, 2}, attrs{"dilations": ints(1, 5)}, []int{1, 1, 6, 6},
			[]float64{1, 0, 0, 0, 0, 6, 13, 0, 0, 0, 0, 23, 15, 0, 0, 0, 0, 25, 17, 0, 0, 0, 0, 27, 19, 0, 0, 0, 0, 29, 15, 0, 0, 0, 0, 20}},
		{"strides", seq(1, 9, 4), []int64{5, 5}, []int64{3, 3}, attrs{"strides": ints(2, 2)}, []int{1, 1, 5, 5},
			[]float64{1, 5, 11, 6, 10, 13, 17, 35, 18, 22, 28, 36, 74, 38, 46, 15, 19, 39, 20, 24, 27, 31, 63, 32, 36}},
		{"batch_channels", seq(2, 4, 4), []int64{3, 2}, []int64{2, 1}, attrs{}, []int{2, 2, 3, 2},
			[]float64{1, 2, 8, 10, 7, 8, 9, 10, 24, 26, 15, 16, 17, 18, 40, 42, 23, 24, 25, 26, 56, 58, 31, 32}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			y := mustRun(t, "Col2Im", 18, c.at, c.x, i64s(c.image...), i64s(c.block...))
			expect(t, y, c.shape, c.want, 0)
		})
	}
	y := mustRun(t, "Col2Im", 18, attrs{}, seq(1, 10, 12), i64s(3, 4, 5), i64s(1, 1, 5))
	if y.Rank() != 5 || y.F32()[1] != 13 || y.F32()[60] != 61 || y.F32()[119] != 120 {
		t.Fatalf("3-D col2im: %v", y)
	}
	if _, err := run("Col2Im", 18, attrs{}, seq(1, 5, 4), i64s(5, 5), i64s(1, 5)); err == nil {
		t.Error("wrong block count accepted")
	}
}

func TestCenterCropPad(t *testing.T) {
	x := seq(4, 5)
	// Crop rows 4->2 (start 1) and pad columns 5->8 (1 before, 2 after).
	y := mustRun(t, "CenterCropPad", 18, attrs{}, x, i64s(2, 8))
	expect(t, y, []int{2, 8}, []float64{0, 6, 7, 8, 9, 10, 0, 0, 0, 11, 12, 13, 14, 15, 0, 0}, 0)
	// Odd crop: 5->2 drops one column before and two after.
	y = mustRun(t, "CenterCropPad", 18, attrs{"axes": ints(-1)}, x, i64s(2))
	expect(t, y, []int{4, 2}, []float64{2, 3, 7, 8, 12, 13, 17, 18}, 0)
	// Any element type is moved as is.
	s := mustRun(t, "CenterCropPad", 18, attrs{}, tensor.From([]int{3}, []string{"a", "b", "c"}), i64s(1))
	if got := s.Data.([]string); len(got) != 1 || got[0] != "b" {
		t.Fatalf("strings: %q", got)
	}
	if _, err := run("CenterCropPad", 18, attrs{}, x, i64s(2)); err == nil {
		t.Error("shape of the wrong length accepted")
	}
}
