package tensorops

import (
	"fmt"

	"stride/graph"
	"stride/ops"
	"stride/tensor"
)

// Expand and Tile read their input through strides of 0 on the repeated
// dims, so the strided copy turns them into fills and block copies.

func init() {
	register(
		opDef{op: "Expand", inputs: 2, build: buildExpand, infer: inferExpand},
		opDef{op: "Tile", inputs: 2, build: buildTile, infer: inferTile},
	)
}

func buildExpand(b *ops.Build) (ops.Kernel, error) {
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x := in[0]
		spec, _, err := intsInput(in, 1, "shape")
		if err != nil {
			return nil, err
		}
		for _, d := range spec {
			if d < 0 {
				return nil, fmt.Errorf("shape %v has a negative dim", spec)
			}
		}
		want := ops.ToInts(spec)
		if _, err := tensor.NumElements(want); err != nil {
			return nil, err
		}
		shape, err := ops.BroadcastShapes(x.Shape, want)
		if err != nil {
			return nil, err
		}
		if tensor.SameShape(shape, x.Shape) {
			return ops.Outs(same(x))
		}
		y, err := c.Alloc(x.DType, shape...)
		if err != nil {
			return nil, err
		}
		gatherStrided(c, y, x, 0, ops.BroadcastStrides(x.Shape, shape))
		return ops.Outs(y)
	}), nil
}

func inferExpand(b *ops.Build, in []graph.Type) ([]graph.Type, error) {
	spec, ok := constInts(b, 1)
	if !ok || !in[0].Ranked {
		return nil, errNoInfer
	}
	x := in[0].Shape
	rank := max(len(x), len(spec))
	out := make([]graph.Dim, rank)
	for i := range out {
		d, s := graph.Fixed(1), graph.Fixed(1)
		if j := i - (rank - len(x)); j >= 0 {
			d = x[j]
		}
		if j := i - (rank - len(spec)); j >= 0 {
			s = graph.Dim{Size: spec[j]}
		}
		switch {
		case s.Size == 1:
			out[i] = d
		case d.Known() && d.Size != 1 && d.Size != s.Size:
			return nil, fmt.Errorf("cannot expand dim %v to %v", d, s)
		default:
			out[i] = s
		}
	}
	return []graph.Type{ranked(in[0].DType, out)}, nil
}

func tileRepeats(in []*tensor.Tensor, rank int) ([]int, error) {
	reps, _, err := intsInput(in, 1, "repeats")
	if err != nil {
		return nil, err
	}
	if len(reps) != rank {
		return nil, fmt.Errorf("repeats must have one entry per input dim (%d), got %v", rank, reps)
	}
	for _, r := range reps {
		if r < 0 {
			return nil, fmt.Errorf("repeats %v has a negative entry", reps)
		}
	}
	return ops.ToInts(reps), nil
}

func buildTile(b *ops.Build) (ops.Kernel, error) {
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x := in[0]
		reps, err := tileRepeats(in, x.Rank())
		if err != nil {
			return nil, err
		}
		// The output viewed as [r0, d0, r1, d1, ...] reads x with stride 0
		// on every repeat dim.
		r := x.Rank()
		shape := make([]int, r)
		split := make([]int, 2*r)
		srcSt := make([]int, 2*r)
		xs := tensor.Strides(x.Shape)
		for k, d := range x.Shape {
			split[2*k], split[2*k+1] = reps[k], d
			srcSt[2*k+1] = xs[k]
			if _, err := tensor.NumElements(split[:2*k+2]); err != nil {
				return nil, err
			}
			shape[k] = reps[k] * d
		}
		y, err := c.Alloc(x.DType, shape...)
		if err != nil {
			return nil, err
		}
		copyInto(c, y.Data, 0, tensor.Strides(split), x.Data, 0, srcSt, split)
		return ops.Outs(y)
	}), nil
}

func inferTile(b *ops.Build, in []graph.Type) ([]graph.Type, error) {
	reps, ok := constInts(b, 1)
	if !ok || !in[0].Ranked || len(reps) != len(in[0].Shape) {
		return nil, errNoInfer
	}
	out := make([]graph.Dim, len(reps))
	for i, d := range in[0].Shape {
		switch {
		case reps[i] == 1:
			out[i] = d
		case d.Known():
			out[i] = graph.Dim{Size: d.Size * reps[i]}
		default:
			out[i] = graph.Unknown
		}
	}
	return []graph.Type{ranked(in[0].DType, out)}, nil
}
