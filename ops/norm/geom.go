package norm

import (
	"fmt"
	"math"

	"stride/graph"
	"stride/ops"
	"stride/tensor"
)

// Element type sets of the kernels.
type (
	float   interface{ ~float32 | ~float64 }
	integer interface {
		~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64
	}
	number interface{ integer | float }
)

// span views a tensor as [outer, n, inner]: n is the extent of the axes an
// op works along, outer and inner the products of the dims before and after
// them. Column t in [0, outer*inner) is the n elements an op combines, and
// t is also the index of the column's result in a reduced [outer, inner]
// output.
type span struct{ outer, n, inner int }

// spanOf returns the span of shape around the axes [lo, hi).
func spanOf(shape []int, lo, hi int) span {
	return span{tensor.Size(shape[:lo]), tensor.Size(shape[lo:hi]), tensor.Size(shape[hi:])}
}

// columns is the number of columns.
func (s span) columns() int { return s.outer * s.inner }

// minWork is the number of elements below which splitting a loop over
// threads costs more than it saves.
const minWork = 1 << 14

// grain returns the c.For grain for loop iterations that each touch cost
// elements.
func grain(cost int) int { return max(1, minWork/max(cost, 1)) }

// maxGather bounds the scratch (in elements) of one gathered block of
// columns; colBlock is the most columns gathered at once.
const (
	maxGather = 1 << 16
	colBlock  = 16
)

// eachColumn calls fn with every column of x (viewed as s) as a contiguous
// slice, spread over the worker pool. fn must not keep the slice.
func eachColumn[T any](c *ops.Ctx, s span, x []T, fn func(t int, col []T)) {
	mapColumns(c, s, x, nil, func(t int, col, _ []T) { fn(t, col) })
}

// mapColumns calls fn with every column of x (viewed as s) and the same
// column of y, both as contiguous slices; what fn writes to out lands in
// y's column. y may be nil when fn writes nothing. When inner is 1 the
// columns are rows and fn works in place; otherwise blocks of adjacent
// columns are gathered into scratch buffers (reading whole runs of each
// row, which keeps the reads cache-friendly) and scattered back.
func mapColumns[T any](c *ops.Ctx, s span, x, y []T, fn func(t int, in, out []T)) {
	n := s.n
	if s.columns() == 0 {
		return
	}
	if s.inner == 1 {
		c.For(s.outer, grain(n), func(lo, hi int) {
			for t := lo; t < hi; t++ {
				var out []T
				if y != nil {
					out = y[t*n : (t+1)*n]
				}
				fn(t, x[t*n:(t+1)*n], out)
			}
		})
		return
	}
	width := min(colBlock, max(1, maxGather/max(n, 1)), s.inner)
	blocks := (s.inner + width - 1) / width // per outer index
	c.For(s.outer*blocks, grain(n*width), func(lo, hi int) {
		in := make([]T, width*n)
		var out []T
		if y != nil {
			out = make([]T, width*n)
		}
		for u := lo; u < hi; u++ {
			o, j0 := u/blocks, u%blocks*width
			w := min(width, s.inner-j0)
			base := o*n*s.inner + j0
			for k := range n {
				for j, v := range x[base+k*s.inner : base+k*s.inner+w] {
					in[j*n+k] = v
				}
			}
			for j := range w {
				var oc []T
				if y != nil {
					oc = out[j*n : (j+1)*n]
				}
				fn(o*s.inner+j0+j, in[j*n:(j+1)*n], oc)
			}
			if y != nil {
				for k := range n {
					row := y[base+k*s.inner : base+k*s.inner+w]
					for j := range row {
						row[j] = out[j*n+k]
					}
				}
			}
		}
	})
}

// axesPlan says how to see a set of axes of a shape as the middle of a span.
// When the axes (ignoring size-1 dims) are contiguous, perm is nil and s is
// a span of the tensor as it is. Otherwise the tensor must first be
// permuted by perm (kept axes in order, then the axes in order), giving the
// span s with inner 1.
type axesPlan struct {
	perm []int
	s    span
}

// planAxes builds the plan for the normalized axes of shape.
func planAxes(shape []int, axes []int) axesPlan {
	in := make([]bool, len(shape))
	for _, a := range axes {
		in[a] = true
	}
	first, last := -1, -1
	for d, on := range in {
		if on && shape[d] != 1 {
			if first < 0 {
				first = d
			}
			last = d
		}
	}
	if first < 0 { // only size-1 axes: each column is one element
		return axesPlan{s: span{tensor.Size(shape), 1, 1}}
	}
	contiguous := true
	for d := first; d <= last; d++ {
		if !in[d] && shape[d] != 1 {
			contiguous = false
		}
	}
	if contiguous {
		return axesPlan{s: spanOf(shape, first, last+1)}
	}
	perm := make([]int, 0, len(shape))
	kept, n := 1, 1
	for d := range shape {
		if !in[d] {
			perm = append(perm, d)
			kept *= shape[d]
		}
	}
	for d := range shape {
		if in[d] {
			perm = append(perm, d)
			n *= shape[d]
		}
	}
	return axesPlan{perm: perm, s: span{kept, n, 1}}
}

// permute writes src (of shape shape) into dst with its axes reordered:
// axis i of dst is axis perm[i] of src.
func permute[T any](dst, src []T, shape, perm []int) {
	r := len(perm)
	if len(dst) == 0 {
		return
	}
	if r == 0 {
		copy(dst, src)
		return
	}
	st := tensor.Strides(shape)
	dims, step := make([]int, r), make([]int, r)
	for i, p := range perm {
		dims[i], step[i] = shape[p], st[p]
	}
	idx := make([]int, r)
	p := 0
	last, lastDim, lastStep := r-1, dims[r-1], step[r-1]
	for i := 0; i < len(dst); {
		// Innermost axis as a plain loop, the others as an odometer.
		for k := 0; k < lastDim; k++ {
			dst[i] = src[p+k*lastStep]
			i++
		}
		for d := last - 1; d >= 0; d-- {
			idx[d]++
			p += step[d]
			if idx[d] < dims[d] {
				break
			}
			p -= step[d] * dims[d]
			idx[d] = 0
		}
	}
}

// permuted returns shape reordered by perm, and the inverse permutation.
func permuted(shape, perm []int) (out, inv []int) {
	out, inv = make([]int, len(perm)), make([]int, len(perm))
	for i, p := range perm {
		out[i] = shape[p]
		inv[p] = i
	}
	return out, inv
}

// floatData returns a float tensor's elements as float64s, reading only
// float32 and float64 (the types kernels see).
func floatData(t *tensor.Tensor) ([]float64, error) {
	switch d := t.Data.(type) {
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out, nil
	case []float64:
		return append([]float64{}, d...), nil
	}
	return nil, fmt.Errorf("expected a float tensor, got %v", t.DType)
}

// expandParam reads a parameter tensor (scale, bias) that must broadcast
// unidirectionally to shape, and returns its values expanded to shape.
func expandParam(t *tensor.Tensor, shape []int, what string) ([]float64, error) {
	v, err := floatData(t)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	ps := t.Shape
	for len(ps) > len(shape) && ps[0] == 1 {
		ps = ps[1:]
	}
	if out, err := ops.BroadcastShapes(ps, shape); err != nil || !tensor.SameShape(out, shape) {
		return nil, fmt.Errorf("%s of shape %v does not broadcast to %v", what, t.Shape, shape)
	}
	if tensor.SameShape(ps, shape) {
		return v, nil
	}
	st := ops.BroadcastStrides(ps, shape)
	out := make([]float64, tensor.Size(shape))
	idx := make([]int, len(shape))
	for i := range out {
		p := 0
		for d, x := range idx {
			p += x * st[d]
		}
		out[i] = v[p]
		for d := len(idx) - 1; d >= 0; d-- {
			if idx[d]++; idx[d] < shape[d] {
				break
			}
			idx[d] = 0
		}
	}
	return out, nil
}

// channelParam reads a per-channel parameter of length c.
func channelParam(t *tensor.Tensor, c int, what string) ([]float64, error) {
	if t == nil {
		return nil, fmt.Errorf("missing %s", what)
	}
	if t.Len() != c || len(t.Shape) != 1 {
		return nil, fmt.Errorf("%s has shape %v, want [%d]", what, t.Shape, c)
	}
	return floatData(t)
}

// needFloat checks that x is float32 or float64, the types float kernels
// receive once the runtime has widened 16-bit floats.
func needFloat(x *tensor.Tensor) error {
	if x.DType != tensor.Float32 && x.DType != tensor.Float64 {
		return fmt.Errorf("input type %v is not supported (want a float type)", x.DType)
	}
	return nil
}

// limits returns the smallest and largest values of T (infinities for floats).
func limits[T number]() (lo, hi T) {
	var z T
	var l, h any
	switch any(z).(type) {
	case float32, float64:
		return T(math.Inf(-1)), T(math.Inf(1))
	case int8:
		l, h = int8(math.MinInt8), int8(math.MaxInt8)
	case int16:
		l, h = int16(math.MinInt16), int16(math.MaxInt16)
	case int32:
		l, h = int32(math.MinInt32), int32(math.MaxInt32)
	case int64:
		l, h = int64(math.MinInt64), int64(math.MaxInt64)
	case uint8:
		l, h = uint8(0), uint8(math.MaxUint8)
	case uint16:
		l, h = uint16(0), uint16(math.MaxUint16)
	case uint32:
		l, h = uint32(0), uint32(math.MaxUint32)
	case uint64:
		l, h = uint64(0), uint64(math.MaxUint64)
	}
	return l.(T), h.(T)
}

// isFloat reports whether T is a float type.
func isFloat[T number]() bool {
	var z T
	switch any(z).(type) {
	case float32, float64:
		return true
	}
	return false
}

// inferSame is the shape rule of ops whose output has their input's type.
func inferSame(_ *ops.Build, in []graph.Type) ([]graph.Type, error) {
	if len(in) == 0 || in[0].DType == tensor.Undefined {
		return nil, fmt.Errorf("input type unknown")
	}
	return []graph.Type{in[0]}, nil
}

// attrInts reads several int attributes with their defaults, returning the
// first error.
func attrInts(n *graph.Node, names []string, defs []int64) ([]int64, error) {
	out := make([]int64, len(names))
	for i, name := range names {
		v, err := n.AttrInt(name, defs[i])
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}
