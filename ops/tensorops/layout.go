package tensorops

import (
	"fmt"

	"stride/graph"
	"stride/ops"
	"stride/tensor"
)

// DepthToSpace and SpaceToDepth are reshapes around a transpose;
// ReverseSequence is a strided copy with a negative time stride.

func init() {
	register(
		opDef{op: "DepthToSpace", inputs: 1, build: buildDepthToSpace, infer: inferDepthSpace(true)},
		opDef{op: "SpaceToDepth", inputs: 1, build: buildSpaceToDepth, infer: inferDepthSpace(false)},
		opDef{op: "ReverseSequence", inputs: 2, build: buildReverseSequence, infer: inferLikeInput0},
	)
}

func blockSize(n *graph.Node) (int, error) {
	bs, err := n.AttrInt("blocksize", 0)
	if err != nil {
		return 0, err
	}
	if bs < 1 || bs > 1<<20 {
		return 0, fmt.Errorf("blocksize must be positive, got %d", bs)
	}
	return int(bs), nil
}

// depthToSpacePlans gives, per mode, how the channels split into blocks
// (a 6-D view of the input) and the permutation to [N, C', H, b, W, b].
var depthToSpacePlans = map[string]struct {
	split func(n, c, h, w, b int) []int
	perm  []int
}{
	"DCR": {func(n, c, h, w, b int) []int { return []int{n, b, b, c / (b * b), h, w} }, []int{0, 3, 4, 1, 5, 2}},
	"CRD": {func(n, c, h, w, b int) []int { return []int{n, c / (b * b), b, b, h, w} }, []int{0, 1, 4, 2, 5, 3}},
}

func buildDepthToSpace(b *ops.Build) (ops.Kernel, error) {
	bs, err := blockSize(b.Node)
	if err != nil {
		return nil, err
	}
	mode, err := b.Node.AttrString("mode", "DCR")
	if err != nil {
		return nil, err
	}
	plan, ok := depthToSpacePlans[mode]
	if !ok {
		return nil, fmt.Errorf("unknown mode %q (want DCR or CRD)", mode)
	}
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x := in[0]
		if x.Rank() != 4 || x.Shape[1]%(bs*bs) != 0 {
			return nil, fmt.Errorf("input must be [N, C, H, W] with C divisible by %d, got shape %v", bs*bs, x.Shape)
		}
		n, ch, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
		y, err := transpose(c, view(x, plan.split(n, ch, h, w, bs)), plan.perm)
		if err != nil {
			return nil, err
		}
		return ops.Outs(view(y, []int{n, ch / (bs * bs), h * bs, w * bs}))
	}), nil
}

func buildSpaceToDepth(b *ops.Build) (ops.Kernel, error) {
	bs, err := blockSize(b.Node)
	if err != nil {
		return nil, err
	}
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x := in[0]
		if x.Rank() != 4 || x.Shape[2]%bs != 0 || x.Shape[3]%bs != 0 {
			return nil, fmt.Errorf("input must be [N, C, H, W] with H and W divisible by %d, got shape %v", bs, x.Shape)
		}
		n, ch, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
		y, err := transpose(c, view(x, []int{n, ch, h / bs, bs, w / bs, bs}), []int{0, 3, 5, 1, 2, 4})
		if err != nil {
			return nil, err
		}
		return ops.Outs(view(y, []int{n, ch * bs * bs, h / bs, w / bs}))
	}), nil
}

func inferDepthSpace(toSpace bool) func(b *ops.Build, in []graph.Type) ([]graph.Type, error) {
	return func(b *ops.Build, in []graph.Type) ([]graph.Type, error) {
		bs, err := blockSize(b.Node)
		if err != nil || !in[0].Ranked || len(in[0].Shape) != 4 {
			return nil, errNoInfer
		}
		s := in[0].Shape
		scale := func(d graph.Dim, mul, div int) graph.Dim {
			if !d.Known() || int(d.Size)%div != 0 {
				return graph.Unknown
			}
			return graph.Fixed(int(d.Size) / div * mul)
		}
		if toSpace {
			return []graph.Type{ranked(in[0].DType, []graph.Dim{s[0], scale(s[1], 1, bs*bs), scale(s[2], bs, 1), scale(s[3], bs, 1)})}, nil
		}
		return []graph.Type{ranked(in[0].DType, []graph.Dim{s[0], scale(s[1], bs*bs, 1), scale(s[2], 1, bs), scale(s[3], 1, bs)})}, nil
	}
}

func buildReverseSequence(b *ops.Build) (ops.Kernel, error) {
	batchAxis, err := b.Node.AttrInt("batch_axis", 1)
	if err != nil {
		return nil, err
	}
	timeAxis, err := b.Node.AttrInt("time_axis", 0)
	if err != nil {
		return nil, err
	}
	if batchAxis == timeAxis || batchAxis < 0 || batchAxis > 1 || timeAxis < 0 || timeAxis > 1 {
		return nil, fmt.Errorf("batch_axis (%d) and time_axis (%d) must be 0 and 1", batchAxis, timeAxis)
	}
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x := in[0]
		if x.Rank() < 2 {
			return nil, fmt.Errorf("input must have rank >= 2, got shape %v", x.Shape)
		}
		lens, err := indicesOf(in[1])
		if err != nil {
			return nil, fmt.Errorf("sequence_lens: %w", err)
		}
		batch, steps := x.Shape[batchAxis], x.Shape[timeAxis]
		if len(lens) != batch {
			return nil, fmt.Errorf("sequence_lens has %d entries for a batch of %d", len(lens), batch)
		}
		y, err := c.Alloc(x.DType, x.Shape...)
		if err != nil {
			return nil, err
		}
		st := tensor.Strides(x.Shape)
		bs, ts := st[batchAxis], st[timeAxis]
		part := append([]int{}, x.Shape...)
		part[batchAxis] = 1
		rev := append([]int{}, st...)
		rev[timeAxis] = -ts
		// Per batch item: the first len steps reversed, the rest as they are.
		for i, l := range lens {
			if l < 0 || l > int64(steps) {
				return nil, fmt.Errorf("sequence length %d out of range [0, %d]", l, steps)
			}
			n := int(l)
			part[timeAxis] = n
			if n > 0 {
				copyInto(c, y.Data, i*bs, st, x.Data, i*bs+(n-1)*ts, rev, part)
			}
			part[timeAxis] = steps - n
			copyInto(c, y.Data, i*bs+n*ts, st, x.Data, i*bs+n*ts, st, part)
		}
		return ops.Outs(y)
	}), nil
}
