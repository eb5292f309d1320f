package tensorops

import (
	"fmt"

	"stride/graph"
	"stride/ops"
	"stride/tensor"
)

func init() {
	register(opDef{op: "Transpose", inputs: 1, build: buildTranspose, infer: inferTranspose})
}

// transposePerm checks a perm attribute against the input rank; nil means
// reversing the dims.
func transposePerm(p []int64, rank int) ([]int, error) {
	if p == nil {
		perm := make([]int, rank)
		for i := range perm {
			perm[i] = rank - 1 - i
		}
		return perm, nil
	}
	if len(p) != rank {
		return nil, fmt.Errorf("perm %v has %d entries for an input of rank %d", p, len(p), rank)
	}
	seen := make([]bool, rank)
	for _, a := range p {
		if a < 0 || a >= int64(rank) || seen[a] {
			return nil, fmt.Errorf("perm %v is not a permutation of 0..%d", p, rank-1)
		}
		seen[a] = true
	}
	return ops.ToInts(p), nil
}

func buildTranspose(b *ops.Build) (ops.Kernel, error) {
	p, err := b.Node.AttrInts("perm", nil)
	if err != nil {
		return nil, err
	}
	if p != nil {
		if _, err := transposePerm(p, len(p)); err != nil {
			return nil, err
		}
	}
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		perm, err := transposePerm(p, in[0].Rank())
		if err != nil {
			return nil, err
		}
		y, err := transpose(c, in[0], perm)
		if err != nil {
			return nil, err
		}
		return ops.Outs(y)
	}), nil
}

// transpose returns x with its dims permuted. When the permutation only
// moves size-1 dims the data order is unchanged and x's data is reused.
func transpose(c *ops.Ctx, x *tensor.Tensor, perm []int) (*tensor.Tensor, error) {
	shape := make([]int, len(perm))
	srcSt := make([]int, len(perm))
	xs := tensor.Strides(x.Shape)
	for i, a := range perm {
		shape[i] = x.Shape[a]
		srcSt[i] = xs[a]
	}
	p := planStrided(shape, 0, tensor.Strides(shape), 0, srcSt)
	if p.empty || len(p.shape) == 0 || len(p.shape) == 1 && p.src[0] == 1 {
		return view(x, shape), nil
	}
	y, err := c.Alloc(x.DType, shape...)
	if err != nil {
		return nil, err
	}
	moverOf(x.Data).copyStrided(c, y.Data, x.Data, p)
	return y, nil
}

func inferTranspose(b *ops.Build, in []graph.Type) ([]graph.Type, error) {
	if !in[0].Ranked {
		return nil, errNoInfer
	}
	p, err := b.Node.AttrInts("perm", nil)
	if err != nil {
		return nil, err
	}
	perm, err := transposePerm(p, len(in[0].Shape))
	if err != nil {
		return nil, err
	}
	out := make([]graph.Dim, len(perm))
	for i, a := range perm {
		out[i] = in[0].Shape[a]
	}
	return []graph.Type{ranked(in[0].DType, out)}, nil
}
