package tensorops

import (
	"fmt"

	"stride/graph"
	"stride/ops"
	"stride/tensor"
)

// The gathers compute the source offset of each output block from the
// indices (checked, negative ones wrapped), then move the blocks with one
// typed take.

func init() {
	register(
		opDef{op: "Gather", inputs: 2, build: buildGather, infer: inferGather},
		opDef{op: "GatherElements", inputs: 2, build: buildGatherElements, infer: inferGatherElements},
		opDef{op: "GatherND", inputs: 2, build: buildGatherND},
	)
}

func buildGather(b *ops.Build) (ops.Kernel, error) {
	axis, err := b.Node.AttrInt("axis", 0)
	if err != nil {
		return nil, err
	}
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x, ind := in[0], in[1]
		if x.Rank() == 0 {
			return nil, fmt.Errorf("cannot gather from a scalar")
		}
		a, err := ops.NormAxis(axis, x.Rank())
		if err != nil {
			return nil, err
		}
		idx, err := indicesOf(ind)
		if err != nil {
			return nil, err
		}
		dim := x.Shape[a]
		rows := make([]int, len(idx))
		for j, v := range idx {
			if rows[j], err = wrapIndex(v, dim, "index"); err != nil {
				return nil, err
			}
		}
		shape := append(append(append([]int{}, x.Shape[:a]...), ind.Shape...), x.Shape[a+1:]...)
		y, err := c.Alloc(x.DType, shape...)
		if err != nil {
			return nil, err
		}
		takeAlong(c, y, x, a, rows)
		return ops.Outs(y)
	}), nil
}

// takeAlong fills y with the slices of x at the given positions along axis
// a (y's shape is x's with the positions replacing dim a).
func takeAlong(c *ops.Ctx, y, x *tensor.Tensor, a int, rows []int) {
	outer, dim, inner := tensor.Size(x.Shape[:a]), x.Shape[a], tensor.Size(x.Shape[a+1:])
	offs := make([]int, 0, outer*len(rows))
	for o := 0; o < outer; o++ {
		for _, r := range rows {
			offs = append(offs, (o*dim+r)*inner)
		}
	}
	moverOf(x.Data).take(c, y.Data, x.Data, offs, inner)
}

func inferGather(b *ops.Build, in []graph.Type) ([]graph.Type, error) {
	axis, _ := b.Node.AttrInt("axis", 0)
	if !in[0].Ranked || !in[1].Ranked || len(in[0].Shape) == 0 {
		return nil, errNoInfer
	}
	a, err := ops.NormAxis(axis, len(in[0].Shape))
	if err != nil {
		return nil, err
	}
	x := in[0].Shape
	out := append(append(append([]graph.Dim{}, x[:a]...), in[1].Shape...), x[a+1:]...)
	return []graph.Type{ranked(in[0].DType, out)}, nil
}

func buildGatherElements(b *ops.Build) (ops.Kernel, error) {
	axis, err := b.Node.AttrInt("axis", 0)
	if err != nil {
		return nil, err
	}
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x, ind := in[0], in[1]
		offs, err := elementOffsets(x.Shape, ind, axis)
		if err != nil {
			return nil, err
		}
		y, err := c.Alloc(x.DType, ind.Shape...)
		if err != nil {
			return nil, err
		}
		moverOf(x.Data).take(c, y.Data, x.Data, offs, 1)
		return ops.Outs(y)
	}), nil
}

// elementOffsets maps each element of ind (GatherElements/ScatterElements
// indices) to the flat offset in a tensor of the given shape: the element's
// own coordinates, with the one on axis replaced by its index value.
func elementOffsets(shape []int, ind *tensor.Tensor, axis int64) ([]int, error) {
	r := len(shape)
	if r == 0 {
		return nil, fmt.Errorf("data must have rank >= 1")
	}
	if ind.Rank() != r {
		return nil, fmt.Errorf("indices shape %v and data shape %v differ in rank", ind.Shape, shape)
	}
	a, err := ops.NormAxis(axis, r)
	if err != nil {
		return nil, err
	}
	for k, d := range ind.Shape {
		if k != a && d > shape[k] {
			return nil, fmt.Errorf("indices shape %v exceeds data shape %v on axis %d", ind.Shape, shape, k)
		}
	}
	idx, err := indicesOf(ind)
	if err != nil {
		return nil, err
	}
	st := tensor.Strides(shape)
	offs := make([]int, len(idx))
	coord := make([]int, r)
	base := 0 // offset of coord with the axis coordinate left out
	for i, v := range idx {
		j, err := wrapIndex(v, shape[a], "index")
		if err != nil {
			return nil, err
		}
		offs[i] = base + j*st[a]
		for k := r - 1; k >= 0; k-- { // next coordinate of ind
			coord[k]++
			if k != a {
				base += st[k]
			}
			if coord[k] < ind.Shape[k] {
				break
			}
			if k != a {
				base -= coord[k] * st[k]
			}
			coord[k] = 0
		}
	}
	return offs, nil
}

func inferGatherElements(b *ops.Build, in []graph.Type) ([]graph.Type, error) {
	if !in[1].Ranked {
		return nil, errNoInfer
	}
	return []graph.Type{ranked(in[0].DType, in[1].Shape)}, nil
}

func buildGatherND(b *ops.Build) (ops.Kernel, error) {
	batchDims, err := b.Node.AttrInt("batch_dims", 0)
	if err != nil {
		return nil, err
	}
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x, ind := in[0], in[1]
		offs, tail, err := ndOffsets(x.Shape, ind, int(batchDims))
		if err != nil {
			return nil, err
		}
		q := ind.Rank()
		shape := append(append([]int{}, ind.Shape[:q-1]...), tail...)
		y, err := c.Alloc(x.DType, shape...)
		if err != nil {
			return nil, err
		}
		moverOf(x.Data).take(c, y.Data, x.Data, offs, tensor.Size(tail))
		return ops.Outs(y)
	}), nil
}

// ndOffsets resolves GatherND/ScatterND indices: each index tuple (the last
// dim of ind) selects a block of data after batchDims leading dims shared by
// both. It returns each block's flat offset and the block's shape.
func ndOffsets(shape []int, ind *tensor.Tensor, batchDims int) ([]int, []int, error) {
	r, q := len(shape), ind.Rank()
	if q < 1 {
		return nil, nil, fmt.Errorf("indices must have rank >= 1")
	}
	if batchDims < 0 || batchDims >= min(r, q) {
		return nil, nil, fmt.Errorf("batch_dims %d out of range for data rank %d and indices rank %d", batchDims, r, q)
	}
	m := ind.Shape[q-1]
	if m > r-batchDims {
		return nil, nil, fmt.Errorf("index tuples of length %d are too long for data of shape %v with %d batch dims", m, shape, batchDims)
	}
	for k := 0; k < batchDims; k++ {
		if shape[k] != ind.Shape[k] {
			return nil, nil, fmt.Errorf("batch dims of data %v and indices %v differ", shape, ind.Shape)
		}
	}
	idx, err := indicesOf(ind)
	if err != nil {
		return nil, nil, err
	}
	st := tensor.Strides(shape)
	batchSize := tensor.Size(shape[batchDims:])
	perBatch := tensor.Size(ind.Shape[batchDims : q-1])
	n := tensor.Size(ind.Shape[:q-1])
	offs := make([]int, n)
	for t := range offs {
		off := (t / max(perBatch, 1)) * batchSize
		for j, v := range idx[t*m : (t+1)*m] {
			k := batchDims + j
			p, err := wrapIndex(v, shape[k], "index")
			if err != nil {
				return nil, nil, err
			}
			off += p * st[k]
		}
		offs[t] = off
	}
	return offs, shape[batchDims+m:], nil
}
