package imageops

import (
	"testing"

	"stride/tensor"
)

// Odd and hostile operands must give an error or a result, never a panic.
func TestOddInputsDoNotPanic(t *testing.T) {
	e := tensor.Zeros(tensor.Float32, 0)
	s := tensor.Scalar(float32(1))
	x4 := seq(1, 1, 2, 2)
	cases := []struct {
		op string
		at attrs
		in []*tensor.Tensor
	}{
		{"Resize", attrs{}, []*tensor.Tensor{s, nil, nil, i64s()}},
		{"Resize", attrs{}, []*tensor.Tensor{s, nil, f32s([]int{0}), i64s()}},
		{"Resize", attrs{}, []*tensor.Tensor{e, nil, f32s([]int{1}, 2), nil}},
		{"Resize", attrs{"mode": str("cubic")}, []*tensor.Tensor{e, nil, nil, i64s(3)}},
		{"Resize", attrs{"mode": str("linear"), "coordinate_transformation_mode": str("tf_crop_and_resize")}, []*tensor.Tensor{x4, f32s([]int{8}, 0, 0, 0, 0, 1, 1, 1, 1), nil, i64s(1, 1, 3, 3)}},
		{"Resize", attrs{"mode": str("linear"), "coordinate_transformation_mode": str("tf_crop_and_resize")}, []*tensor.Tensor{x4, f32s([]int{8}, 0, 0, 1, 1, 1, 1, 0, 0), f32s([]int{4}, 1, 1, 2, 2), nil}},
		{"Resize", attrs{"mode": str("cubic"), "antialias": num(1)}, []*tensor.Tensor{x4, nil, f32s([]int{4}, 1, 1, 0.001, 0.001), nil}},
		{"Resize", attrs{"mode": str("cubic"), "antialias": num(1), "exclude_outside": num(1)}, []*tensor.Tensor{seq(1, 1, 50, 50), nil, f32s([]int{4}, 1, 1, 0.01, 0.03), nil}},
		{"GridSample", attrs{}, []*tensor.Tensor{x4, s}},
		{"GridSample", attrs{"padding_mode": str("reflection"), "align_corners": num(1)}, []*tensor.Tensor{seq(1, 1, 1, 1), f32s([]int{1, 1, 1, 2}, 5, -7)}},
		{"GridSample", attrs{"mode": str("bicubic")}, []*tensor.Tensor{seq(1, 1, 2, 2), f32s([]int{1, 1, 1, 2}, 1e30, -1e30)}},
		{"RoiAlign", attrs{}, []*tensor.Tensor{x4, f32s([]int{1, 4}, 0, 0, 1e20, 1e20), i64s(0)}},
		{"RoiAlign", attrs{}, []*tensor.Tensor{x4, f32s([]int{0, 4}), i64s()}},
		{"NonMaxSuppression", attrs{}, []*tensor.Tensor{f32s([]int{1, 0, 4}), f32s([]int{1, 1, 0}), i64s(3)}},
		{"NonMaxSuppression", attrs{}, []*tensor.Tensor{f32s([]int{1, 1, 4}, 0, 0, 1, 1), f32s([]int{1, 1, 1}, 1), i64s()}},
		{"Col2Im", attrs{}, []*tensor.Tensor{seq(1, 1, 1), i64s(), i64s()}},
		{"Col2Im", attrs{"pads": ints(1)}, []*tensor.Tensor{seq(1, 1, 1), i64s(1), i64s(1)}},
		{"Col2Im", attrs{}, []*tensor.Tensor{seq(1, 1, 1), i64s(1 << 40), i64s(1)}},
		{"CenterCropPad", attrs{}, []*tensor.Tensor{s, i64s()}},
		{"DFT", attrs{}, []*tensor.Tensor{f32s([]int{1, 0, 1})}},
		{"DFT", attrs{"onesided": num(1), "inverse": num(1)}, []*tensor.Tensor{f32s([]int{1, 1, 2}, 1, 2)}},
		{"DFT", attrs{}, []*tensor.Tensor{f32s([]int{1, 2}, 1, 2)}},
		{"STFT", attrs{}, []*tensor.Tensor{f32s([]int{1, 4, 1}, 1, 2, 3, 4), tensor.Scalar(int64(0))}},
		{"STFT", attrs{}, []*tensor.Tensor{f32s([]int{1, 4, 1}, 1, 2, 3, 4), tensor.Scalar(int64(1)), nil, tensor.Scalar(int64(9))}},
		{"HannWindow", attrs{}, []*tensor.Tensor{tensor.Scalar(int64(-3))}},
		{"MelWeightMatrix", attrs{}, []*tensor.Tensor{tensor.Scalar(int64(3)), tensor.Scalar(int64(8)), tensor.Scalar(int64(0)), s, s}},
		{"MelWeightMatrix", attrs{}, []*tensor.Tensor{tensor.Scalar(int64(3)), tensor.Scalar(int64(8)), tensor.Scalar(int64(100)), s, tensor.Scalar(float32(1e6))}},
	}
	for i, c := range cases {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("case %d %s: panic %v", i, c.op, r)
				}
			}()
			_, _ = run(c.op, 20, c.at, c.in...)
		}()
	}
}
