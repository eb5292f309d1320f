package imageops

import (
	"fmt"

	"stride/ops"
	"stride/tensor"
)

func init() {
	ops.Register(&ops.Def{Op: "CenterCropPad", Build: buildCenterCropPad, Native16: true, Float64: true})
}

type centerCropPadKernel struct{ axes []int64 }

func buildCenterCropPad(b *ops.Build) (ops.Kernel, error) {
	axes, err := b.Node.AttrInts("axes", nil)
	return &centerCropPadKernel{axes: axes}, err
}

// Run crops or zero-pads each listed axis to the target length around its
// centre. When the difference is odd, the extra element is cropped from (or
// padded at) the end.
func (k *centerCropPadKernel) Run(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if err := need(in, 2); err != nil {
		return nil, err
	}
	x := in[0]
	target, err := in[1].Ints()
	if err != nil {
		return nil, fmt.Errorf("shape: %w", err)
	}
	r := x.Rank()
	axes := make([]int, r)
	for i := range axes {
		axes[i] = i
	}
	if k.axes != nil {
		if axes, err = ops.NormAxes(k.axes, r); err != nil {
			return nil, err
		}
	}
	if len(target) != len(axes) {
		return nil, fmt.Errorf("shape has %d values for %d axes", len(target), len(axes))
	}
	g := &axisMaps{inShape: x.Shape, maps: make([][]int, r)}
	for a, d := range x.Shape {
		g.maps[a] = shiftMap(d, d, 0)
	}
	for j, a := range axes {
		t, d := target[j], x.Shape[a]
		if t < 0 || t > tensor.MaxElements {
			return nil, fmt.Errorf("target length %d for axis %d out of range", t, a)
		}
		// Output o reads input o+shift: a positive shift crops, a negative
		// one pads.
		g.maps[a] = shiftMap(int(t), d, (d-int(t))/2)
	}
	y, err := c.Alloc(x.DType, g.outShape()...)
	if err != nil {
		return nil, err
	}
	if y.Len() > 0 {
		if err := g.gather(c, y, x, 0); err != nil {
			return nil, err
		}
	}
	return ops.Outs(y)
}

// shiftMap maps output index o of an axis of length n to input o+shift of
// an axis of length in, or -1 outside it.
func shiftMap(n, in, shift int) []int {
	m := make([]int, n)
	for o := range m {
		m[o] = o + shift
		if m[o] < 0 || m[o] >= in {
			m[o] = -1
		}
	}
	return m
}
