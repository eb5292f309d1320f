package tensorops

import (
	"fmt"
	"slices"

	"stride/graph"
	"stride/ops"
	"stride/tensor"
)

// Ops that only change a tensor's shape return their input's data as a view;
// Shape and Size read it.

func init() {
	register(
		opDef{op: "Reshape", inputs: 2, build: buildReshape, infer: inferReshape},
		opDef{op: "Flatten", inputs: 1, build: buildFlatten, infer: inferFlatten},
		opDef{op: "Squeeze", inputs: 1, build: buildSqueeze, infer: inferSqueeze},
		opDef{op: "Unsqueeze", inputs: 2, build: buildUnsqueeze, infer: inferUnsqueeze},
		opDef{op: "Shape", inputs: 1, build: buildShape, infer: inferShape},
		opDef{op: "Size", inputs: 1, build: buildSize, infer: inferSize},
	)
}

// reshapeTo resolves a Reshape shape operand against the input's shape: 0
// copies the input dim (unless allowZero) and one -1 takes what remains.
func reshapeTo(in []int, spec []int64, allowZero bool) ([]int, error) {
	out := make([]int, len(spec))
	infer, known := -1, 1
	for i, s := range spec {
		switch {
		case s == -1:
			if infer >= 0 {
				return nil, fmt.Errorf("shape %v has more than one -1", spec)
			}
			infer = i
			continue
		case s == 0 && !allowZero:
			if i >= len(in) {
				return nil, fmt.Errorf("shape %v copies dim %d (0) but the input has rank %d", spec, i, len(in))
			}
			out[i] = in[i]
		case s < 0:
			return nil, fmt.Errorf("shape %v has invalid dim %d", spec, s)
		default:
			out[i] = int(s)
		}
		if _, err := tensor.NumElements(out[:i+1]); err != nil {
			return nil, err
		}
		known *= out[i]
	}
	total := tensor.Size(in)
	if infer >= 0 {
		if known == 0 {
			if allowZero {
				return nil, fmt.Errorf("shape %v combines -1 with a 0 dim (allowzero=1)", spec)
			}
			return nil, fmt.Errorf("shape %v: cannot infer the -1 dim next to a zero-sized dim", spec)
		}
		if total%known != 0 {
			return nil, fmt.Errorf("cannot reshape %v (%d elements) to %v", in, total, spec)
		}
		out[infer] = total / known
	} else if known != total {
		return nil, fmt.Errorf("cannot reshape %v (%d elements) to %v (%d elements)", in, total, out, known)
	}
	return out, nil
}

func buildReshape(b *ops.Build) (ops.Kernel, error) {
	allowZero, err := b.Node.AttrInt("allowzero", 0)
	if err != nil {
		return nil, err
	}
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		spec, _, err := intsInput(in, 1, "shape")
		if err != nil {
			return nil, err
		}
		shape, err := reshapeTo(in[0].Shape, spec, allowZero != 0)
		if err != nil {
			return nil, err
		}
		return ops.Outs(view(in[0], shape))
	}), nil
}

// inferReshape resolves a constant shape against a possibly symbolic input:
// copied dims keep their names, and -1 is known when the input dims it
// stands for are.
func inferReshape(b *ops.Build, in []graph.Type) ([]graph.Type, error) {
	spec, ok := constInts(b, 1)
	if !ok || !in[0].Ranked {
		return nil, errNoInfer
	}
	allowZero, _ := b.Node.AttrInt("allowzero", 0)
	if st, ok := in[0].Static(); ok {
		out, err := reshapeTo(st, spec, allowZero != 0)
		if err != nil {
			return nil, err
		}
		return []graph.Type{staticType(in[0].DType, out)}, nil
	}
	rest := slices.Clone(in[0].Shape) // input dims not copied through a 0
	out := make([]graph.Dim, len(spec))
	infer, known, lost := -1, int64(1), false
	for i, s := range spec {
		switch {
		case s == 0 && allowZero == 0:
			if i >= len(in[0].Shape) {
				return nil, errNoInfer
			}
			out[i] = in[0].Shape[i]
			if j := slices.Index(rest, out[i]); j >= 0 && (out[i].Known() || out[i].Param != "") {
				rest = slices.Delete(rest, j, j+1)
			} else {
				lost = true
			}
			continue
		case s == -1:
			infer = i
			continue
		case s < 0:
			return nil, errNoInfer
		}
		out[i] = graph.Fixed(int(s))
		known *= s
	}
	if infer >= 0 {
		out[infer] = graph.Unknown
		if p := dimProduct(rest); p.Known() && !lost && known > 0 && p.Size%known == 0 {
			out[infer] = graph.Dim{Size: p.Size / known}
		}
	}
	return []graph.Type{ranked(in[0].DType, out)}, nil
}

func flattenAxis(b *ops.Build) (int64, error) { return b.Node.AttrInt("axis", 1) }

func normFlattenAxis(axis int64, rank int) (int, error) {
	a := int(axis)
	if a < 0 {
		a += rank
	}
	if a < 0 || a > rank {
		return 0, fmt.Errorf("flatten axis %d out of range for rank %d", axis, rank)
	}
	return a, nil
}

func buildFlatten(b *ops.Build) (ops.Kernel, error) {
	axis, err := flattenAxis(b)
	if err != nil {
		return nil, err
	}
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x := in[0]
		a, err := normFlattenAxis(axis, x.Rank())
		if err != nil {
			return nil, err
		}
		return ops.Outs(view(x, []int{tensor.Size(x.Shape[:a]), tensor.Size(x.Shape[a:])}))
	}), nil
}

func inferFlatten(b *ops.Build, in []graph.Type) ([]graph.Type, error) {
	axis, _ := flattenAxis(b)
	if !in[0].Ranked {
		return nil, errNoInfer
	}
	a, err := normFlattenAxis(axis, len(in[0].Shape))
	if err != nil {
		return nil, err
	}
	prod := func(d []graph.Dim) graph.Dim {
		if len(d) == 1 {
			return d[0] // keeps a symbolic name such as "batch"
		}
		return dimProduct(d)
	}
	return []graph.Type{ranked(in[0].DType, []graph.Dim{prod(in[0].Shape[:a]), prod(in[0].Shape[a:])})}, nil
}

// squeezeShape removes the given axes (all size-1 dims when axes is nil).
func squeezeShape(shape []int, axes []int64, haveAxes bool) ([]int, error) {
	drop := make([]bool, len(shape))
	if haveAxes {
		norm, err := ops.NormAxes(axes, len(shape))
		if err != nil {
			return nil, err
		}
		for _, a := range norm {
			if shape[a] != 1 {
				return nil, fmt.Errorf("cannot squeeze axis %d of shape %v: its size is not 1", a, shape)
			}
			drop[a] = true
		}
	} else {
		for i, d := range shape {
			drop[i] = d == 1
		}
	}
	out := make([]int, 0, len(shape))
	for i, d := range shape {
		if !drop[i] {
			out = append(out, d)
		}
	}
	return out, nil
}

func buildSqueeze(b *ops.Build) (ops.Kernel, error) {
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		axes, ok, err := intsInput(in, 1, "axes")
		if err != nil {
			return nil, err
		}
		// An empty axes tensor means "not given" (as other runtimes read it).
		shape, err := squeezeShape(in[0].Shape, axes, ok && len(axes) > 0)
		if err != nil {
			return nil, err
		}
		return ops.Outs(view(in[0], shape))
	}), nil
}

func inferSqueeze(b *ops.Build, in []graph.Type) ([]graph.Type, error) {
	if !in[0].Ranked {
		return nil, errNoInfer
	}
	dims := in[0].Shape
	axes, ok := constInts(b, 1)
	if b.HasInput(1) && !ok {
		return nil, errNoInfer
	}
	var out []graph.Dim
	if len(axes) == 0 {
		if _, ok := in[0].Static(); !ok {
			return nil, errNoInfer // a symbolic dim may or may not be 1
		}
		for _, d := range dims {
			if d.Size != 1 {
				out = append(out, d)
			}
		}
		return []graph.Type{ranked(in[0].DType, out)}, nil
	}
	norm, err := ops.NormAxes(axes, len(dims))
	if err != nil {
		return nil, err
	}
	for i, d := range dims {
		if !slices.Contains(norm, i) {
			out = append(out, d)
		}
	}
	return []graph.Type{ranked(in[0].DType, out)}, nil
}

// unsqueezeAxes returns, for an output of rank r, which dims are the new
// size-1 ones.
func unsqueezeAxes(axes []int64, r int) ([]bool, error) {
	norm, err := ops.NormAxes(axes, r)
	if err != nil {
		return nil, err
	}
	ins := make([]bool, r)
	for _, a := range norm {
		ins[a] = true
	}
	return ins, nil
}

// unsqueeze inserts size-1 dims at the output positions marked in ins.
func unsqueeze[D any](shape []D, ins []bool, one D) []D {
	out := make([]D, 0, len(ins))
	j := 0
	for _, new := range ins {
		if new {
			out = append(out, one)
		} else {
			out = append(out, shape[j])
			j++
		}
	}
	return out
}

func buildUnsqueeze(b *ops.Build) (ops.Kernel, error) {
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		axes, _, err := intsInput(in, 1, "axes")
		if err != nil {
			return nil, err
		}
		ins, err := unsqueezeAxes(axes, in[0].Rank()+len(axes))
		if err != nil {
			return nil, err
		}
		return ops.Outs(view(in[0], unsqueeze(in[0].Shape, ins, 1)))
	}), nil
}

func inferUnsqueeze(b *ops.Build, in []graph.Type) ([]graph.Type, error) {
	axes, ok := constInts(b, 1)
	if !ok || !in[0].Ranked {
		return nil, errNoInfer
	}
	ins, err := unsqueezeAxes(axes, len(in[0].Shape)+len(axes))
	if err != nil {
		return nil, err
	}
	return []graph.Type{ranked(in[0].DType, unsqueeze(in[0].Shape, ins, graph.Fixed(1)))}, nil
}

// shapeRange clamps Shape's start and end attributes to [0, rank].
func shapeRange(start, end int64, rank int) (int, int) {
	clamp := func(v int64) int {
		if v < 0 {
			v += int64(rank)
		}
		return int(min(max(v, 0), int64(rank)))
	}
	lo, hi := clamp(start), clamp(end)
	return lo, max(lo, hi)
}

func shapeAttrs(n *graph.Node) (start, end int64, err error) {
	if start, err = n.AttrInt("start", 0); err != nil {
		return
	}
	end, err = n.AttrInt("end", 1<<62)
	return
}

func buildShape(b *ops.Build) (ops.Kernel, error) {
	start, end, err := shapeAttrs(b.Node)
	if err != nil {
		return nil, err
	}
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		lo, hi := shapeRange(start, end, in[0].Rank())
		y, err := c.Alloc(tensor.Int64, hi-lo)
		if err != nil {
			return nil, err
		}
		copy(y.I64(), ops.ToInt64s(in[0].Shape[lo:hi]))
		return ops.Outs(y)
	}), nil
}

func inferShape(b *ops.Build, in []graph.Type) ([]graph.Type, error) {
	if !in[0].Ranked {
		return nil, errNoInfer
	}
	start, end, _ := shapeAttrs(b.Node)
	lo, hi := shapeRange(start, end, len(in[0].Shape))
	return []graph.Type{staticType(tensor.Int64, []int{hi - lo})}, nil
}

func buildSize(b *ops.Build) (ops.Kernel, error) {
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		y, err := c.Alloc(tensor.Int64)
		if err != nil {
			return nil, err
		}
		y.I64()[0] = int64(tensor.Size(in[0].Shape))
		return ops.Outs(y)
	}), nil
}

func inferSize(b *ops.Build, in []graph.Type) ([]graph.Type, error) {
	return []graph.Type{staticType(tensor.Int64, nil)}, nil
}
