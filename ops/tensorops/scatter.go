package tensorops

import (
	"fmt"

	"stride/ops"
	"stride/tensor"
)

// The scatters copy data, then write (or combine) each update block at the
// offset its index selects, in index order.

func init() {
	register(
		opDef{op: "ScatterElements", inputs: 3, build: buildScatterElements, infer: inferLikeInput0},
		opDef{op: "ScatterND", inputs: 3, build: buildScatterND, infer: inferLikeInput0},
	)
}

func reductionAttr(b *ops.Build) (reduction, error) {
	s, err := b.Node.AttrString("reduction", "none")
	if err != nil {
		return 0, err
	}
	return parseReduction(s)
}

func buildScatterElements(b *ops.Build) (ops.Kernel, error) {
	axis, err := b.Node.AttrInt("axis", 0)
	if err != nil {
		return nil, err
	}
	mode, err := reductionAttr(b)
	if err != nil {
		return nil, err
	}
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x, ind, upd := in[0], in[1], in[2]
		if !tensor.SameShape(ind.Shape, upd.Shape) {
			return nil, fmt.Errorf("updates shape %v differs from indices shape %v", upd.Shape, ind.Shape)
		}
		offs, err := elementOffsets(x.Shape, ind, axis)
		if err != nil {
			return nil, err
		}
		return scatter(c, x, upd, offs, 1, mode)
	}), nil
}

func buildScatterND(b *ops.Build) (ops.Kernel, error) {
	mode, err := reductionAttr(b)
	if err != nil {
		return nil, err
	}
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x, ind, upd := in[0], in[1], in[2]
		offs, tail, err := ndOffsets(x.Shape, ind, 0)
		if err != nil {
			return nil, err
		}
		want := append(append([]int{}, ind.Shape[:ind.Rank()-1]...), tail...)
		if !tensor.SameShape(upd.Shape, want) {
			return nil, fmt.Errorf("updates shape %v should be %v for indices %v and data %v", upd.Shape, want, ind.Shape, x.Shape)
		}
		return scatter(c, x, upd, offs, tensor.Size(tail), mode)
	}), nil
}

// scatter returns a copy of x with the blocks of upd written or combined at
// offs.
func scatter(c *ops.Ctx, x, upd *tensor.Tensor, offs []int, inner int, mode reduction) ([]*tensor.Tensor, error) {
	if upd.DType != x.DType {
		return nil, fmt.Errorf("updates are %v but data is %v", upd.DType, x.DType)
	}
	if mode != reduceNone {
		ar, err := arithOf(widen(x))
		if err != nil {
			return nil, fmt.Errorf("reduction: %w", err)
		}
		y := widen(x).Clone()
		ar.putReduce(y.Data, widen(upd).Data, offs, inner, mode)
		y, err = narrowTo(y, x.DType)
		if err != nil {
			return nil, err
		}
		return ops.Outs(y)
	}
	y, err := c.Alloc(x.DType, x.Shape...)
	if err != nil {
		return nil, err
	}
	tensor.CopyData(y.Data, x.Data)
	moverOf(x.Data).put(y.Data, upd.Data, offs, inner)
	return ops.Outs(y)
}
