package tensorops

import (
	"stride/ops"
	"stride/tensor"
)

// CumSum runs in the input's own type (16-bit floats in float32, rounded
// once at the end), so integer sums are exact.

func init() {
	register(opDef{op: "CumSum", inputs: 2, build: buildCumSum, infer: inferLikeInput0})
}

func buildCumSum(b *ops.Build) (ops.Kernel, error) {
	exclusive, err := b.Node.AttrInt("exclusive", 0)
	if err != nil {
		return nil, err
	}
	reverse, err := b.Node.AttrInt("reverse", 0)
	if err != nil {
		return nil, err
	}
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x := widen(in[0])
		ax, err := scalarInt(in[1], "axis")
		if err != nil {
			return nil, err
		}
		a, err := ops.NormAxis(ax, max(x.Rank(), 1))
		if err != nil {
			return nil, err
		}
		ar, err := arithOf(x)
		if err != nil {
			return nil, err
		}
		y, err := c.Alloc(x.DType, x.Shape...)
		if err != nil {
			return nil, err
		}
		shape := x.Shape
		if len(shape) == 0 {
			shape = []int{1}
		}
		ar.cumSum(c, y.Data, x.Data, tensor.Size(shape[:a]), shape[a], tensor.Size(shape[a+1:]), exclusive != 0, reverse != 0)
		if y, err = narrowTo(y, in[0].DType); err != nil {
			return nil, err
		}
		return ops.Outs(y)
	}), nil
}
