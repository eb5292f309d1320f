package tensorops

import (
	"fmt"

	"stride/graph"
	"stride/ops"
	"stride/tensor"
)

func init() {
	register(opDef{op: "Slice", inputs: 3, build: buildSlice, infer: inferSlice})
}

// sliceRange is the selection along one axis: count elements from start,
// step apart.
type sliceRange struct{ start, step, count int }

// clampSlice applies ONNX's rules to one axis: negative starts and ends
// count from the end, then both are clamped into the dim (one position
// further out at the far end when stepping backwards).
func clampSlice(start, end, step int64, dim int) sliceRange {
	if dim == 0 {
		return sliceRange{step: int(step)}
	}
	d := int64(dim)
	if start < 0 {
		start += d
	}
	if end < 0 {
		end += d
	}
	var count int64
	if step > 0 {
		start = min(max(start, 0), d)
		end = min(max(end, 0), d)
		if end > start {
			count = (end-start-1)/step + 1
		}
	} else {
		start = min(max(start, 0), d-1)
		end = min(max(end, -1), d-1)
		if start > end {
			count = (start-end-1)/-step + 1
		}
	}
	return sliceRange{start: int(start), step: int(step), count: int(count)}
}

// sliceRanges resolves Slice's starts, ends, axes and steps operands into a
// range for every axis of shape (the full range where not sliced).
func sliceRanges(shape []int, starts, ends, axes, steps []int64) ([]sliceRange, error) {
	if len(starts) != len(ends) {
		return nil, fmt.Errorf("%d starts but %d ends", len(starts), len(ends))
	}
	if axes == nil {
		axes = make([]int64, len(starts))
		for i := range axes {
			axes[i] = int64(i)
		}
	}
	if len(axes) != len(starts) {
		return nil, fmt.Errorf("%d axes for %d starts", len(axes), len(starts))
	}
	if steps != nil && len(steps) != len(starts) {
		return nil, fmt.Errorf("%d steps for %d starts", len(steps), len(starts))
	}
	norm, err := ops.NormAxes(axes, len(shape))
	if err != nil {
		return nil, err
	}
	r := make([]sliceRange, len(shape))
	for i, d := range shape {
		r[i] = sliceRange{step: 1, count: d}
	}
	for i, a := range norm {
		step := int64(1)
		if steps != nil {
			step = steps[i]
		}
		if step == 0 {
			return nil, fmt.Errorf("slice step on axis %d is 0", a)
		}
		r[a] = clampSlice(starts[i], ends[i], step, shape[a])
	}
	return r, nil
}

func buildSlice(b *ops.Build) (ops.Kernel, error) {
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x := in[0]
		var v [4][]int64
		for i, what := range [4]string{"starts", "ends", "axes", "steps"} {
			var err error
			if v[i], _, err = intsInput(in, i+1, what); err != nil {
				return nil, err
			}
		}
		ranges, err := sliceRanges(x.Shape, v[0], v[1], v[2], v[3])
		if err != nil {
			return nil, err
		}
		shape := make([]int, len(ranges))
		st := tensor.Strides(x.Shape)
		off, whole := 0, true
		for i, r := range ranges {
			shape[i] = r.count
			off += r.start * st[i]
			st[i] *= r.step
			whole = whole && r.count == x.Shape[i] && (r.step == 1 || r.count <= 1)
		}
		if whole {
			return ops.Outs(same(x))
		}
		y, err := c.Alloc(x.DType, shape...)
		if err != nil {
			return nil, err
		}
		gatherStrided(c, y, x, off, st)
		return ops.Outs(y)
	}), nil
}

func inferSlice(b *ops.Build, in []graph.Type) ([]graph.Type, error) {
	if !in[0].Ranked {
		return nil, errNoInfer
	}
	var v [4][]int64
	for i := range v {
		if !b.HasInput(i + 1) {
			continue
		}
		var ok bool
		if v[i], ok = constInts(b, i+1); !ok {
			return nil, errNoInfer
		}
	}
	dims := in[0].Shape
	// Slice a stand-in shape where unknown dims are 0; an unknown dim stays
	// as it is when not sliced, and becomes Unknown when it is.
	shape := make([]int, len(dims))
	for i, d := range dims {
		if d.Known() {
			shape[i] = int(d.Size)
		}
	}
	ranges, err := sliceRanges(shape, v[0], v[1], v[2], v[3])
	if err != nil {
		return nil, err
	}
	out := make([]graph.Dim, len(dims))
	for i, d := range dims {
		switch {
		case d.Known():
			out[i] = graph.Fixed(ranges[i].count)
		case !sliced(v[2], i, len(dims), len(v[0])):
			out[i] = d
		default:
			out[i] = graph.Unknown
		}
	}
	return []graph.Type{ranked(in[0].DType, out)}, nil
}

// sliced reports whether axis i is among the sliced axes (the first n
// axes when axes is nil).
func sliced(axes []int64, i, rank, n int) bool {
	if axes == nil {
		return i < n
	}
	for _, a := range axes {
		if na, err := ops.NormAxis(a, rank); err == nil && na == i {
			return true
		}
	}
	return false
}
