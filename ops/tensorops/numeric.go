package tensorops

import (
	"cmp"
	"fmt"

	"stride/ops"
	"stride/tensor"
)

// number is the set of element types with arithmetic (16-bit floats are
// computed as float32 by the callers).
type number interface {
	~float32 | ~float64 | ~int8 | ~int16 | ~int32 | ~int64 |
		~uint8 | ~uint16 | ~uint32 | ~uint64
}

// arith holds the kernels that add, multiply or compare values.
type arith interface {
	// cumSum writes running sums along the middle axis of an
	// [outer, n, inner] layout.
	cumSum(c *ops.Ctx, dst, src any, outer, n, inner int, exclusive, reverse bool)
	// putReduce combines src blocks into dst at offs (see mover.put).
	putReduce(dst, src any, offs []int, inner int, mode reduction)
	// ramp sets dst[i] = start + i*delta.
	ramp(dst any, start, delta float64, istart, idelta int64)
}

type nums[N number] struct{}

// arithOf returns the arithmetic kernels for t, or an error for types
// without arithmetic. Float16 and BFloat16 must be widened first.
func arithOf(t *tensor.Tensor) (arith, error) {
	switch t.Data.(type) {
	case []float32:
		return nums[float32]{}, nil
	case []float64:
		return nums[float64]{}, nil
	case []int8:
		return nums[int8]{}, nil
	case []int16:
		return nums[int16]{}, nil
	case []int32:
		return nums[int32]{}, nil
	case []int64:
		return nums[int64]{}, nil
	case []uint8:
		return nums[uint8]{}, nil
	case []uint16:
		if t.DType == tensor.Uint16 {
			return nums[uint16]{}, nil
		}
	case []uint32:
		return nums[uint32]{}, nil
	case []uint64:
		return nums[uint64]{}, nil
	}
	return nil, fmt.Errorf("%v is not supported (needs a numeric type)", t.DType)
}

// is16 reports whether dt is stored as 16-bit float bit patterns.
func is16(dt tensor.DType) bool { return dt == tensor.Float16 || dt == tensor.BFloat16 }

// widen returns t as float32 when it holds 16-bit floats, else t itself.
// Arithmetic on 16-bit floats runs in float32 and is rounded once at the end.
func widen(t *tensor.Tensor) *tensor.Tensor {
	if t != nil && is16(t.DType) {
		return tensor.ToFloat32(t)
	}
	return t
}

// narrowTo converts a float32 result back to dt when dt is a 16-bit float.
func narrowTo(t *tensor.Tensor, dt tensor.DType) (*tensor.Tensor, error) {
	if is16(dt) && t.DType == tensor.Float32 {
		return tensor.Convert(t, dt)
	}
	return t, nil
}

func (nums[N]) cumSum(c *ops.Ctx, dst, src any, outer, n, inner int, exclusive, reverse bool) {
	d, s := dst.([]N), src.([]N)
	c.For(outer*inner, grainFor(n), func(lo, hi int) {
		for line := lo; line < hi; line++ {
			base := (line/inner)*n*inner + line%inner
			first, step := base, inner
			if reverse {
				first, step = base+(n-1)*inner, -inner
			}
			var acc N
			pos := first
			for i := 0; i < n; i++ {
				v := s[pos]
				if exclusive {
					d[pos] = acc
					acc += v
				} else {
					acc += v
					d[pos] = acc
				}
				pos += step
			}
		}
	})
}

// reduction is how scattered values combine with what is there.
type reduction uint8

const (
	reduceNone reduction = iota
	reduceAdd
	reduceMul
	reduceMax
	reduceMin
)

var reductionNames = map[string]reduction{
	"none": reduceNone, "add": reduceAdd, "mul": reduceMul, "max": reduceMax, "min": reduceMin,
}

func parseReduction(s string) (reduction, error) {
	r, ok := reductionNames[s]
	if !ok {
		return 0, fmt.Errorf("unknown reduction %q (want none, add, mul, max or min)", s)
	}
	return r, nil
}

func combine[N number](mode reduction) func(a, b N) N {
	switch mode {
	case reduceAdd:
		return func(a, b N) N { return a + b }
	case reduceMul:
		return func(a, b N) N { return a * b }
	case reduceMax:
		return func(a, b N) N { return max(a, b) }
	case reduceMin:
		return func(a, b N) N { return min(a, b) }
	}
	return func(_, b N) N { return b }
}

func (nums[N]) putReduce(dst, src any, offs []int, inner int, mode reduction) {
	d, s := dst.([]N), src.([]N)
	f := combine[N](mode)
	for k, o := range offs {
		blk := d[o : o+inner]
		upd := s[k*inner : (k+1)*inner]
		for i := range blk {
			blk[i] = f(blk[i], upd[i])
		}
	}
}

func (nums[N]) ramp(dst any, start, delta float64, istart, idelta int64) {
	d := dst.([]N)
	var z N
	if isFloat(z) {
		for i := range d {
			d[i] = N(start + float64(i)*delta)
		}
		return
	}
	// Integers: exact, with the wrap-around of the element type.
	for i := range d {
		d[i] = N(istart + int64(i)*idelta)
	}
}

func isFloat(v any) bool {
	switch v.(type) {
	case float32, float64:
		return true
	}
	return false
}

// compareNaNLast orders values with NaN above everything and equal to
// itself (as numpy's sort and unique do), so sorts are total on floats.
func compareNaNLast[T cmp.Ordered](a, b T) int {
	aNaN, bNaN := a != a, b != b
	switch {
	case aNaN && bNaN:
		return 0
	case aNaN:
		return 1
	case bNaN:
		return -1
	}
	return cmp.Compare(a, b)
}

// ordered holds the kernels that sort or compare values.
type ordered interface {
	// topK writes the positions of the k best elements of each line of an
	// [outer, n, inner] layout, best first and lower positions first among
	// equals, into an [outer, k, inner] layout.
	topK(c *ops.Ctx, src any, idx []int64, outer, n, inner, k int, largest bool)
	// uniqueRows groups the rows of a [rows, width] layout: the first row
	// of each group (in sorted or first-seen order), the group of each row
	// and the size of each group.
	uniqueRows(src any, rows, width int, sorted bool) (first, inverse, counts []int)
}

type ords[T cmp.Ordered] struct{}

// orderedOf returns the ordering kernels for t. Bool tensors are compared as
// uint8 and 16-bit floats as float32 by the callers.
func orderedOf(t *tensor.Tensor) (ordered, error) {
	switch t.Data.(type) {
	case []float32:
		return ords[float32]{}, nil
	case []float64:
		return ords[float64]{}, nil
	case []int8:
		return ords[int8]{}, nil
	case []int16:
		return ords[int16]{}, nil
	case []int32:
		return ords[int32]{}, nil
	case []int64:
		return ords[int64]{}, nil
	case []uint8:
		return ords[uint8]{}, nil
	case []uint16:
		if t.DType == tensor.Uint16 {
			return ords[uint16]{}, nil
		}
	case []uint32:
		return ords[uint32]{}, nil
	case []uint64:
		return ords[uint64]{}, nil
	case []string:
		return ords[string]{}, nil
	}
	return nil, fmt.Errorf("%v cannot be ordered", t.DType)
}
