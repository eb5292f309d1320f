package tensorops

import (
	"fmt"

	"stride/ops"
	"stride/tensor"
)

// Ops that select elements by a condition or position: NonZero, Compress,
// OneHot and Trilu.

func init() {
	register(
		opDef{op: "NonZero", inputs: 1, build: buildNonZero},
		opDef{op: "Compress", inputs: 2, build: buildCompress},
		opDef{op: "OneHot", inputs: 3, build: buildOneHot},
		opDef{op: "Trilu", inputs: 1, build: buildTrilu, infer: inferLikeInput0},
	)
}

// nonZeroPositions returns the flat positions of x's non-zero elements
// (16-bit floats are compared as values, so -0 counts as zero).
func nonZeroPositions(x *tensor.Tensor) []int {
	x = widen(x)
	return moverOf(x.Data).nonZero(x.Data)
}

func buildNonZero(b *ops.Build) (ops.Kernel, error) {
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x := in[0]
		pos := nonZeroPositions(x)
		shape := x.Shape
		if len(shape) == 0 {
			shape = []int{1} // a scalar counts as a 1-element vector
		}
		y, err := c.Alloc(tensor.Int64, len(shape), len(pos))
		if err != nil {
			return nil, err
		}
		out := y.I64()
		for j, p := range pos {
			for k := len(shape) - 1; k >= 0; k-- {
				out[k*len(pos)+j] = int64(p % shape[k])
				p /= shape[k]
			}
		}
		return ops.Outs(y)
	}), nil
}

func buildCompress(b *ops.Build) (ops.Kernel, error) {
	axis, err := b.Node.AttrInt("axis", 0)
	if err != nil {
		return nil, err
	}
	hasAxis := b.Node.Has("axis")
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x, cond := in[0], in[1]
		if cond.Rank() != 1 {
			return nil, fmt.Errorf("condition must be 1-D, got shape %v", cond.Shape)
		}
		a := 0
		if !hasAxis {
			x = view(x, []int{x.Len()})
		} else if a, err = ops.NormAxis(axis, x.Rank()); err != nil {
			return nil, err
		}
		keep := nonZeroPositions(cond)
		if len(keep) > 0 && keep[len(keep)-1] >= x.Shape[a] {
			return nil, fmt.Errorf("condition selects position %d but the axis has size %d", keep[len(keep)-1], x.Shape[a])
		}
		shape := append([]int{}, x.Shape...)
		shape[a] = len(keep)
		y, err := c.Alloc(x.DType, shape...)
		if err != nil {
			return nil, err
		}
		takeAlong(c, y, x, a, keep)
		return ops.Outs(y)
	}), nil
}

func buildOneHot(b *ops.Build) (ops.Kernel, error) {
	axis, err := b.Node.AttrInt("axis", -1)
	if err != nil {
		return nil, err
	}
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		ind, values := in[0], in[2]
		depth, err := scalarInt(in[1], "depth")
		if err != nil {
			return nil, err
		}
		if depth < 0 || depth > tensor.MaxElements {
			return nil, fmt.Errorf("invalid depth %d", depth)
		}
		if values.Len() != 2 {
			return nil, fmt.Errorf("values must hold [off, on], got shape %v", values.Shape)
		}
		var idx []int64
		if ind.DType.IsFloat() {
			f := ind.Float64s()
			idx = make([]int64, len(f))
			for i, v := range f {
				idx[i] = int64(v)
			}
		} else if idx, err = ind.Ints(); err != nil {
			return nil, err
		}
		a, err := ops.NormAxis(axis, ind.Rank()+1)
		if err != nil {
			return nil, err
		}
		d := int(depth)
		shape := append(append(append([]int{}, ind.Shape[:a]...), d), ind.Shape[a:]...)
		y, err := c.Alloc(values.DType, shape...)
		if err != nil {
			return nil, err
		}
		mv := moverOf(values.Data)
		c.For(y.Len(), 1<<15, func(lo, hi int) { mv.fill(y.Data, lo, hi, values.Data, 0) })
		// Out-of-range indices leave their one-hot vector all "off".
		inner := tensor.Size(ind.Shape[a:])
		for i, v := range idx {
			if v < 0 {
				v += depth
			}
			if v >= 0 && v < depth {
				p := (i/inner*d+int(v))*inner + i%inner
				mv.fill(y.Data, p, p+1, values.Data, 1)
			}
		}
		return ops.Outs(y)
	}), nil
}

func buildTrilu(b *ops.Build) (ops.Kernel, error) {
	upper, err := b.Node.AttrInt("upper", 1)
	if err != nil {
		return nil, err
	}
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x := in[0]
		if x.Rank() < 2 {
			return nil, fmt.Errorf("input must have rank >= 2, got shape %v", x.Shape)
		}
		k := int64(0)
		if len(in) > 1 && in[1] != nil {
			var err error
			if k, err = scalarInt(in[1], "k"); err != nil {
				return nil, err
			}
		}
		y, err := c.Alloc(x.DType, x.Shape...)
		if err != nil {
			return nil, err
		}
		tensor.CopyData(y.Data, x.Data)
		r := x.Rank()
		rows, cols := x.Shape[r-2], x.Shape[r-1]
		k = min(max(k, -int64(rows)-1), int64(cols)+1) // same effect, no overflow below
		mv := moverOf(y.Data)
		// Row i keeps columns j with j-i >= k (upper) or j-i <= k (lower);
		// zero the rest of the row.
		for m := 0; m < tensor.Size(x.Shape[:r-2]); m++ {
			for i := 0; i < rows; i++ {
				row := (m*rows + i) * cols
				edge := int64(i) + k // first kept column (upper), last kept (lower)
				if upper != 0 {
					mv.zero(y.Data, row, row+int(min(max(edge, 0), int64(cols))))
				} else {
					mv.zero(y.Data, row+int(min(max(edge+1, 0), int64(cols))), row+cols)
				}
			}
		}
		return ops.Outs(y)
	}), nil
}
