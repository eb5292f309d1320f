package tensorops

import (
	"fmt"

	"stride/graph"
	"stride/ops"
	"stride/tensor"
)

// Concat and Split are strided copies between the whole tensor and a range
// of it along one axis; along the channels of NCHW each input is one block
// per batch item.

func init() {
	register(
		opDef{op: "Concat", inputs: 1, build: buildConcat, infer: inferConcat},
		opDef{op: "Split", inputs: 1, build: buildSplit, infer: inferSplit},
	)
}

func buildConcat(b *ops.Build) (ops.Kernel, error) {
	axis, err := b.Node.AttrInt("axis", 0)
	if err != nil {
		return nil, err
	}
	if !b.Node.Has("axis") {
		return nil, fmt.Errorf("Concat needs an axis attribute")
	}
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		shape, a, err := concatShape(in, axis)
		if err != nil {
			return nil, err
		}
		if len(in) == 1 {
			return ops.Outs(same(in[0]))
		}
		y, err := c.Alloc(in[0].DType, shape...)
		if err != nil {
			return nil, err
		}
		ySt := tensor.Strides(shape)
		off := 0
		for _, x := range in {
			copyInto(c, y.Data, off*ySt[a], ySt, x.Data, 0, tensor.Strides(x.Shape), x.Shape)
			off += x.Shape[a]
		}
		return ops.Outs(y)
	}), nil
}

// concatShape checks the inputs agree off the axis and returns the output
// shape and the normalised axis.
func concatShape(in []*tensor.Tensor, axis int64) ([]int, int, error) {
	if len(in) == 0 {
		return nil, 0, fmt.Errorf("Concat needs at least one input")
	}
	for i, x := range in {
		if x == nil {
			return nil, 0, fmt.Errorf("input %d is missing", i)
		}
	}
	first := in[0]
	a, err := ops.NormAxis(axis, first.Rank())
	if err != nil {
		return nil, 0, err
	}
	shape := append([]int{}, first.Shape...)
	for i, x := range in[1:] {
		if x.DType != first.DType {
			return nil, 0, fmt.Errorf("input %d is %v but input 0 is %v", i+1, x.DType, first.DType)
		}
		if x.Rank() != first.Rank() {
			return nil, 0, fmt.Errorf("input %d has shape %v, of another rank than input 0's %v", i+1, x.Shape, first.Shape)
		}
		for k, d := range x.Shape {
			if k != a && d != first.Shape[k] {
				return nil, 0, fmt.Errorf("input %d has shape %v, which does not match input 0's %v off axis %d", i+1, x.Shape, first.Shape, a)
			}
		}
		shape[a] += x.Shape[a]
	}
	if _, err := tensor.NumElements(shape); err != nil {
		return nil, 0, err
	}
	return shape, a, nil
}

func inferConcat(b *ops.Build, in []graph.Type) ([]graph.Type, error) {
	axis, _ := b.Node.AttrInt("axis", 0)
	if len(in) == 0 || !in[0].Ranked {
		return nil, errNoInfer
	}
	rank := len(in[0].Shape)
	a, err := ops.NormAxis(axis, rank)
	if err != nil {
		return nil, err
	}
	out := append([]graph.Dim{}, in[0].Shape...)
	sum := int64(0)
	for _, t := range in {
		if !t.Ranked || len(t.Shape) != rank {
			return nil, errNoInfer
		}
		for k, d := range t.Shape {
			if k != a && !out[k].Known() && d.Known() {
				out[k] = d
			}
		}
		if d := t.Shape[a]; d.Known() && sum >= 0 {
			sum += d.Size
		} else {
			sum = -1
		}
	}
	out[a] = graph.Dim{Size: sum}
	return []graph.Type{ranked(in[0].DType, out)}, nil
}

// splitSizes returns the size of each of n parts of a dim: given sizes, or
// num_outputs parts of ceil(dim/n), or n equal parts.
func splitSizes(dim, n int, split []int64, haveSplit bool, numOutputs int64) ([]int, error) {
	if haveSplit {
		if len(split) != n {
			return nil, fmt.Errorf("split %v has %d sizes for %d outputs", split, len(split), n)
		}
		sum := int64(0)
		for _, s := range split {
			if s < 0 {
				return nil, fmt.Errorf("split %v has a negative size", split)
			}
			sum += s
		}
		if sum != int64(dim) {
			return nil, fmt.Errorf("split %v sums to %d, not the dim size %d", split, sum, dim)
		}
		return ops.ToInts(split), nil
	}
	sizes := make([]int, n)
	if numOutputs > 0 {
		if numOutputs != int64(n) {
			return nil, fmt.Errorf("num_outputs is %d but the node has %d outputs", numOutputs, n)
		}
		chunk := (dim + n - 1) / n
		last := dim - chunk*(n-1)
		if last < 0 {
			return nil, fmt.Errorf("cannot split a dim of size %d into %d chunks of %d", dim, n, chunk)
		}
		for i := range sizes {
			sizes[i] = chunk
		}
		sizes[n-1] = last
		return sizes, nil
	}
	if dim%n != 0 {
		return nil, fmt.Errorf("cannot split a dim of size %d into %d equal parts", dim, n)
	}
	for i := range sizes {
		sizes[i] = dim / n
	}
	return sizes, nil
}

func splitAttrs(n *graph.Node) (axis, numOutputs int64, err error) {
	if axis, err = n.AttrInt("axis", 0); err != nil {
		return
	}
	numOutputs, err = n.AttrInt("num_outputs", 0)
	return
}

func buildSplit(b *ops.Build) (ops.Kernel, error) {
	axis, numOutputs, err := splitAttrs(b.Node)
	if err != nil {
		return nil, err
	}
	nOut := len(b.Node.Outputs)
	if nOut == 0 {
		return nil, fmt.Errorf("Split has no outputs")
	}
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x := in[0]
		a, err := ops.NormAxis(axis, x.Rank())
		if err != nil {
			return nil, err
		}
		split, ok, err := intsInput(in, 1, "split")
		if err != nil {
			return nil, err
		}
		// An empty split tensor means "not given".
		sizes, err := splitSizes(x.Shape[a], nOut, split, ok && len(split) > 0, numOutputs)
		if err != nil {
			return nil, err
		}
		xs := tensor.Strides(x.Shape)
		outs := make([]*tensor.Tensor, nOut)
		off := 0
		for i, n := range sizes {
			shape := append([]int{}, x.Shape...)
			shape[a] = n
			if outs[i], err = c.Alloc(x.DType, shape...); err != nil {
				return nil, err
			}
			gatherStrided(c, outs[i], x, off*xs[a], xs)
			off += n
		}
		return outs, nil
	}), nil
}

func inferSplit(b *ops.Build, in []graph.Type) ([]graph.Type, error) {
	axis, numOutputs, _ := splitAttrs(b.Node)
	if !in[0].Ranked {
		return nil, errNoInfer
	}
	a, err := ops.NormAxis(axis, len(in[0].Shape))
	if err != nil {
		return nil, err
	}
	split, haveSplit := constInts(b, 1)
	if b.HasInput(1) && !haveSplit {
		return nil, errNoInfer
	}
	haveSplit = haveSplit && len(split) > 0
	n := len(b.Node.Outputs)
	d := in[0].Shape[a]
	var sizes []int
	if d.Known() {
		if sizes, err = splitSizes(int(d.Size), n, split, haveSplit, numOutputs); err != nil {
			return nil, err
		}
	} else if haveSplit && len(split) == n {
		sizes = ops.ToInts(split)
	} else {
		return nil, errNoInfer
	}
	outs := make([]graph.Type, n)
	for i, s := range sizes {
		dims := append([]graph.Dim{}, in[0].Shape...)
		dims[a] = graph.Fixed(s)
		outs[i] = ranked(in[0].DType, dims)
	}
	return outs, nil
}
