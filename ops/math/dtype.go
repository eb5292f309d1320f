package mathops

import (
	"fmt"
	"math"

	"stride/internal/kern"
	"stride/tensor"
)

// Element functions, per computation domain. A nil function means the op
// does not accept that domain's element types.

// fn1 is a unary op. f32, when set, computes a whole float32 run at once
// (a vector kernel); float32 tensors then skip the float64 element path.
type fn1 struct {
	f   func(x float64) float64
	i   func(x int64) int64
	u   func(x uint64) uint64
	b   func(x bool) bool
	f32 func(dst, x []float32)
}

// fn2 is a binary op whose result has its inputs' type. vec, when set,
// is the vector kernel computing float32 runs.
type fn2 struct {
	f   func(a, b float64) float64
	i   func(a, b int64) int64
	u   func(a, b uint64) uint64
	b   func(a, b bool) bool
	vec *kern.Op
}

// cmp2 is a binary predicate (comparisons).
type cmp2 struct {
	f func(a, b float64) bool
	i func(a, b int64) bool
	u func(a, b uint64) bool
	b func(a, b bool) bool
	s func(a, b string) bool
}

// Element type sets of the generic loops.
type (
	float interface {
		~float32 | ~float64
	}
	sint interface {
		~int8 | ~int16 | ~int32 | ~int64
	}
	unsigned interface {
		~uint8 | ~uint16 | ~uint32 | ~uint64
	}
	number interface {
		float | sint | unsigned
	}
)

// Per-dtype kernel tables. Each entry picks the op's function for the
// dtype's domain and returns the loop converting to and from it, or nil
// when the op has no function for that domain.

type unaryMaker func(dst, src any, f *fn1) func(lo, hi int)

var unaryKernels = map[tensor.DType]unaryMaker{
	tensor.Float32: unaryF[float32], tensor.Float64: unaryF[float64],
	tensor.Int8: unaryI[int8], tensor.Int16: unaryI[int16], tensor.Int32: unaryI[int32], tensor.Int64: unaryI[int64],
	tensor.Uint8: unaryU[uint8], tensor.Uint16: unaryU[uint16], tensor.Uint32: unaryU[uint32], tensor.Uint64: unaryU[uint64],
	tensor.Bool: func(dst, src any, f *fn1) func(lo, hi int) { return unaryLoop(dst.([]bool), src.([]bool), f.b) },
}

func unaryF[T float](dst, src any, f *fn1) func(lo, hi int) {
	return unaryVia(dst.([]T), src.([]T), f.f)
}
func unaryI[T sint](dst, src any, f *fn1) func(lo, hi int) {
	return unaryVia(dst.([]T), src.([]T), f.i)
}
func unaryU[T unsigned](dst, src any, f *fn1) func(lo, hi int) {
	return unaryVia(dst.([]T), src.([]T), f.u)
}

// unaryVia applies g to src, converting each element to g's domain D and
// the result back to T.
func unaryVia[T, D number](dst, src []T, g func(D) D) func(lo, hi int) {
	if g == nil {
		return nil
	}
	return func(lo, hi int) {
		for i, x := range src[lo:hi] {
			dst[lo+i] = T(g(D(x)))
		}
	}
}

// unaryLoop applies f to src without conversion.
func unaryLoop[A, O any](dst []O, src []A, f func(A) O) func(lo, hi int) {
	if f == nil {
		return nil
	}
	return func(lo, hi int) {
		for i, x := range src[lo:hi] {
			dst[lo+i] = f(x)
		}
	}
}

type binaryMaker func(dst, a, b any, f *fn2) runFn

var binaryKernels = map[tensor.DType]binaryMaker{
	tensor.Float32: binaryF[float32], tensor.Float64: binaryF[float64],
	tensor.Int8: binaryI[int8], tensor.Int16: binaryI[int16], tensor.Int32: binaryI[int32], tensor.Int64: binaryI[int64],
	tensor.Uint8: binaryU[uint8], tensor.Uint16: binaryU[uint16], tensor.Uint32: binaryU[uint32], tensor.Uint64: binaryU[uint64],
	tensor.Bool: func(dst, a, b any, f *fn2) runFn { return binaryLoop(dst.([]bool), a.([]bool), b.([]bool), f.b) },
}

func binaryF[T float](dst, a, b any, f *fn2) runFn {
	return binaryVia(dst.([]T), a.([]T), b.([]T), f.f)
}
func binaryI[T sint](dst, a, b any, f *fn2) runFn {
	return binaryVia(dst.([]T), a.([]T), b.([]T), f.i)
}
func binaryU[T unsigned](dst, a, b any, f *fn2) runFn {
	return binaryVia(dst.([]T), a.([]T), b.([]T), f.u)
}

// binaryVia is the broadcasting loop of g over a and b, computed in g's
// domain D. The same-shape run and the runs where one operand is fixed
// (scalar, bias, scale) get loops the compiler can keep free of bounds
// checks.
func binaryVia[T, D number](dst, a, b []T, g func(D, D) D) runFn {
	if g == nil {
		return nil
	}
	return func(o, n int, off, step []int) {
		d := dst[o : o+n]
		ia, ib, sa, sb := off[0], off[1], step[0], step[1]
		switch {
		case sa == 1 && sb == 1:
			x, y := a[ia:ia+n], b[ib:ib+n]
			for i := range d {
				d[i] = T(g(D(x[i]), D(y[i])))
			}
			return
		case sa == 1 && sb == 0:
			x, y := a[ia:ia+n], D(b[ib])
			for i := range d {
				d[i] = T(g(D(x[i]), y))
			}
			return
		case sa == 0 && sb == 1:
			x, y := D(a[ia]), b[ib:ib+n]
			for i := range d {
				d[i] = T(g(x, D(y[i])))
			}
			return
		}
		for i := range d {
			d[i] = T(g(D(a[ia]), D(b[ib])))
			ia += sa
			ib += sb
		}
	}
}

// binaryLoop is binaryVia without conversions, for operands of any types.
func binaryLoop[A, B, O any](dst []O, a []A, b []B, f func(A, B) O) runFn {
	if f == nil {
		return nil
	}
	return func(o, n int, off, step []int) {
		d := dst[o : o+n]
		ia, ib, sa, sb := off[0], off[1], step[0], step[1]
		if sa == 1 && sb == 1 {
			x, y := a[ia:ia+n], b[ib:ib+n]
			for i := range d {
				d[i] = f(x[i], y[i])
			}
			return
		}
		for i := range d {
			d[i] = f(a[ia], b[ib])
			ia += sa
			ib += sb
		}
	}
}

type compareMaker func(dst []bool, a, b any, f *cmp2) runFn

var compareKernels = map[tensor.DType]compareMaker{
	tensor.Float32: compareF[float32], tensor.Float64: compareF[float64],
	tensor.Int8: compareI[int8], tensor.Int16: compareI[int16], tensor.Int32: compareI[int32], tensor.Int64: compareI[int64],
	tensor.Uint8: compareU[uint8], tensor.Uint16: compareU[uint16], tensor.Uint32: compareU[uint32], tensor.Uint64: compareU[uint64],
	tensor.Bool:   func(dst []bool, a, b any, f *cmp2) runFn { return binaryLoop(dst, a.([]bool), b.([]bool), f.b) },
	tensor.String: func(dst []bool, a, b any, f *cmp2) runFn { return binaryLoop(dst, a.([]string), b.([]string), f.s) },
}

func compareF[T float](dst []bool, a, b any, f *cmp2) runFn {
	return compareVia(dst, a.([]T), b.([]T), f.f)
}
func compareI[T sint](dst []bool, a, b any, f *cmp2) runFn {
	return compareVia(dst, a.([]T), b.([]T), f.i)
}
func compareU[T unsigned](dst []bool, a, b any, f *cmp2) runFn {
	return compareVia(dst, a.([]T), b.([]T), f.u)
}

// compareVia is binaryVia for predicates.
func compareVia[T, D number](dst []bool, a, b []T, g func(D, D) bool) runFn {
	if g == nil {
		return nil
	}
	return func(o, n int, off, step []int) {
		d := dst[o : o+n]
		ia, ib, sa, sb := off[0], off[1], step[0], step[1]
		if sa == 1 && sb == 1 {
			x, y := a[ia:ia+n], b[ib:ib+n]
			for i := range d {
				d[i] = g(D(x[i]), D(y[i]))
			}
			return
		}
		for i := range d {
			d[i] = g(D(a[ia]), D(b[ib]))
			ia += sa
			ib += sb
		}
	}
}

// errType reports an element type an op does not accept.
func errType(dt tensor.DType) error {
	return fmt.Errorf("element type %v is not supported", dt)
}

// scalar reads the single element of t in each domain (for Clip bounds).
func scalar(t *tensor.Tensor) (f float64, i int64, u uint64, err error) {
	if t.Len() != 1 {
		return 0, 0, 0, fmt.Errorf("expected a scalar, got shape %v", t.Shape)
	}
	switch s := t.Data.(type) {
	case []int64:
		return float64(s[0]), s[0], uint64(s[0]), nil
	case []uint64:
		return float64(s[0]), int64(s[0]), s[0], nil
	case []string:
		return 0, 0, 0, errType(t.DType)
	}
	f = t.Float64s()[0]
	return f, toInt(f), uint64(toInt(f)), nil
}

// toInt converts a float to int64 truncating toward zero, saturating out of
// range values and mapping NaN to 0 (Go leaves those conversions undefined).
func toInt(v float64) int64 {
	switch {
	case v != v:
		return 0
	case v >= math.MaxInt64:
		return math.MaxInt64
	case v <= math.MinInt64:
		return math.MinInt64
	}
	return int64(v)
}
