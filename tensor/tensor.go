package tensor

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// MaxElements bounds the number of elements of one tensor (2^31: 8 GiB of
// float32). A shape beyond it comes from a corrupt or hostile file, not from
// a real network; refusing it early turns an out-of-memory crash into an
// error naming the shape.
const MaxElements = 1 << 31

// ErrTooLarge is returned when a shape's element count overflows or exceeds
// MaxElements.
var ErrTooLarge = errors.New("tensor too large")

// Tensor is a dense, row-major (C order) n-dimensional array.
//
// Data holds the elements in a typed slice whose Go type follows DType:
// []float32, []float64, []uint16 (Float16, BFloat16 and Uint16), []int8,
// []int16, []int32, []int64, []uint8, []uint32, []uint64, []bool or []string.
// A scalar has an empty Shape and one element.
type Tensor struct {
	DType DType
	Shape []int
	Data  any
}

// NumElements returns the product of shape, or an error when it is negative,
// overflows or exceeds MaxElements.
func NumElements(shape []int) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension %d in shape %v", d, shape)
		}
		if d == 0 {
			n = 0
			continue
		}
		if n > MaxElements/d {
			return 0, fmt.Errorf("shape %v: %w (more than %d elements)", shape, ErrTooLarge, int64(MaxElements))
		}
		n *= d
	}
	if n > MaxElements {
		return 0, fmt.Errorf("shape %v: %w", shape, ErrTooLarge)
	}
	return n, nil
}

// Size returns the product of shape, assuming it was validated.
func Size(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// MakeSlice allocates a zeroed slice of n elements of type dt.
func MakeSlice(dt DType, n int) any {
	switch dt {
	case Float32:
		return make([]float32, n)
	case Float64:
		return make([]float64, n)
	case Float16, BFloat16, Uint16:
		return make([]uint16, n)
	case Int8:
		return make([]int8, n)
	case Int16:
		return make([]int16, n)
	case Int32:
		return make([]int32, n)
	case Int64:
		return make([]int64, n)
	case Uint8:
		return make([]uint8, n)
	case Uint32:
		return make([]uint32, n)
	case Uint64:
		return make([]uint64, n)
	case Bool:
		return make([]bool, n)
	case String:
		return make([]string, n)
	}
	panic("tensor: MakeSlice of " + dt.String())
}

// New allocates a zero tensor. It returns an error for invalid or huge shapes.
func New(dt DType, shape ...int) (*Tensor, error) {
	n, err := NumElements(shape)
	if err != nil {
		return nil, err
	}
	if dt == Undefined || int(dt) >= len(dtypeInfo) {
		return nil, fmt.Errorf("cannot allocate tensor of type %v", dt)
	}
	return &Tensor{DType: dt, Shape: append([]int{}, shape...), Data: MakeSlice(dt, n)}, nil
}

// Zeros is New for shapes known to be valid; it panics otherwise.
func Zeros(dt DType, shape ...int) *Tensor {
	t, err := New(dt, shape...)
	if err != nil {
		panic(err)
	}
	return t
}

// Elem is the set of Go element types a tensor can hold.
type Elem interface {
	~float32 | ~float64 | ~int8 | ~int16 | ~int32 | ~int64 |
		~uint8 | ~uint16 | ~uint32 | ~uint64 | ~bool | ~string
}

// DTypeOf returns the DType that stores Go values of type T ([]uint16 maps
// to Uint16; use FromBits for Float16 and BFloat16).
func DTypeOf[T Elem]() DType {
	var z T
	switch any(z).(type) {
	case float32:
		return Float32
	case float64:
		return Float64
	case int8:
		return Int8
	case int16:
		return Int16
	case int32:
		return Int32
	case int64:
		return Int64
	case uint8:
		return Uint8
	case uint16:
		return Uint16
	case uint32:
		return Uint32
	case uint64:
		return Uint64
	case bool:
		return Bool
	case string:
		return String
	}
	return Undefined
}

// From wraps data (not copied) as a tensor of the given shape. It panics if
// len(data) does not match the shape: callers build both together.
func From[T Elem](shape []int, data []T) *Tensor {
	if Size(shape) != len(data) {
		panic(fmt.Sprintf("tensor.From: shape %v needs %d elements, got %d", shape, Size(shape), len(data)))
	}
	return &Tensor{DType: DTypeOf[T](), Shape: append([]int{}, shape...), Data: data}
}

// Scalar returns a rank-0 tensor holding v.
func Scalar[T Elem](v T) *Tensor { return From(nil, []T{v}) }

// FromBits wraps 16-bit float bit patterns as a Float16 or BFloat16 tensor.
func FromBits(dt DType, shape []int, bits []uint16) *Tensor {
	if Size(shape) != len(bits) {
		panic("tensor.FromBits: length mismatch")
	}
	return &Tensor{DType: dt, Shape: append([]int{}, shape...), Data: bits}
}

// Len returns the number of elements.
func (t *Tensor) Len() int { return sliceLen(t.Data) }

// Rank returns the number of dimensions.
func (t *Tensor) Rank() int { return len(t.Shape) }

func sliceLen(d any) int {
	switch s := d.(type) {
	case []float32:
		return len(s)
	case []float64:
		return len(s)
	case []uint16:
		return len(s)
	case []int8:
		return len(s)
	case []int16:
		return len(s)
	case []int32:
		return len(s)
	case []int64:
		return len(s)
	case []uint8:
		return len(s)
	case []uint32:
		return len(s)
	case []uint64:
		return len(s)
	case []bool:
		return len(s)
	case []string:
		return len(s)
	}
	return 0
}

// F32 returns the float32 elements; it panics if the tensor is not Float32.
func (t *Tensor) F32() []float32 { return t.Data.([]float32) }

// I64 returns the int64 elements; it panics if the tensor is not Int64.
func (t *Tensor) I64() []int64 { return t.Data.([]int64) }

// Reshape returns a tensor sharing t's data with a new shape of the same size.
func (t *Tensor) Reshape(shape ...int) *Tensor {
	if Size(shape) != t.Len() {
		panic(fmt.Sprintf("tensor.Reshape: %v to %v", t.Shape, shape))
	}
	return &Tensor{DType: t.DType, Shape: append([]int{}, shape...), Data: t.Data}
}

// Clone returns a deep copy.
func (t *Tensor) Clone() *Tensor {
	c := &Tensor{DType: t.DType, Shape: append([]int{}, t.Shape...), Data: MakeSlice(t.DType, t.Len())}
	CopyData(c.Data, t.Data)
	return c
}

// CopyData copies src into dst; both must be slices of the same Go type.
func CopyData(dst, src any) int {
	switch d := dst.(type) {
	case []float32:
		return copy(d, src.([]float32))
	case []float64:
		return copy(d, src.([]float64))
	case []uint16:
		return copy(d, src.([]uint16))
	case []int8:
		return copy(d, src.([]int8))
	case []int16:
		return copy(d, src.([]int16))
	case []int32:
		return copy(d, src.([]int32))
	case []int64:
		return copy(d, src.([]int64))
	case []uint8:
		return copy(d, src.([]uint8))
	case []uint32:
		return copy(d, src.([]uint32))
	case []uint64:
		return copy(d, src.([]uint64))
	case []bool:
		return copy(d, src.([]bool))
	case []string:
		return copy(d, src.([]string))
	}
	panic(fmt.Sprintf("tensor.CopyData: unsupported %T", dst))
}

// Float64s returns the elements converted to float64 (bools as 0/1). It is
// meant for comparisons and printing, not hot paths. Strings give nil.
func (t *Tensor) Float64s() []float64 {
	n := t.Len()
	out := make([]float64, n)
	switch s := t.Data.(type) {
	case []float32:
		for i, v := range s {
			out[i] = float64(v)
		}
	case []float64:
		copy(out, s)
	case []uint16:
		for i, v := range s {
			switch t.DType {
			case Float16:
				out[i] = float64(F16ToF32(v))
			case BFloat16:
				out[i] = float64(BF16ToF32(v))
			default:
				out[i] = float64(v)
			}
		}
	case []int8:
		for i, v := range s {
			out[i] = float64(v)
		}
	case []int16:
		for i, v := range s {
			out[i] = float64(v)
		}
	case []int32:
		for i, v := range s {
			out[i] = float64(v)
		}
	case []int64:
		for i, v := range s {
			out[i] = float64(v)
		}
	case []uint8:
		for i, v := range s {
			out[i] = float64(v)
		}
	case []uint32:
		for i, v := range s {
			out[i] = float64(v)
		}
	case []uint64:
		for i, v := range s {
			out[i] = float64(v)
		}
	case []bool:
		for i, v := range s {
			if v {
				out[i] = 1
			}
		}
	default:
		return nil
	}
	return out
}

// Ints returns the elements of an integer tensor as int64 (shape operands,
// indices, axes). It fails for non-integer types.
func (t *Tensor) Ints() ([]int64, error) {
	switch s := t.Data.(type) {
	case []int64:
		return append([]int64{}, s...), nil
	case []int32:
		out := make([]int64, len(s))
		for i, v := range s {
			out[i] = int64(v)
		}
		return out, nil
	case []int16, []int8, []uint8, []uint32, []uint64:
		f := t.Float64s()
		out := make([]int64, len(f))
		for i, v := range f {
			out[i] = int64(v)
		}
		return out, nil
	case []uint16:
		if t.DType == Uint16 {
			out := make([]int64, len(s))
			for i, v := range s {
				out[i] = int64(v)
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("expected an integer tensor, got %v", t.DType)
}

// String summarises the tensor (type, shape and the first elements).
func (t *Tensor) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v%v", t.DType, t.Shape)
	if t.DType == String {
		fmt.Fprintf(&b, "%q", t.Data)
		return b.String()
	}
	f := t.Float64s()
	b.WriteString("[")
	for i, v := range f {
		if i == 8 {
			b.WriteString(" ...")
			break
		}
		if i > 0 {
			b.WriteString(" ")
		}
		if v == math.Trunc(v) && math.Abs(v) < 1e15 {
			fmt.Fprintf(&b, "%d", int64(v))
		} else {
			fmt.Fprintf(&b, "%.6g", v)
		}
	}
	b.WriteString("]")
	return b.String()
}

// Strides returns the row-major strides of shape, in elements.
func Strides(shape []int) []int {
	s := make([]int, len(shape))
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = acc
		acc *= shape[i]
	}
	return s
}

// SameShape reports whether a and b are equal shapes.
func SameShape(a, b []int) bool { return slices.Equal(a, b) }

// CopyElem copies element j of src into element i of dst (slices of the
// same Go type).
func CopyElem(dst any, i int, src any, j int) {
	switch d := dst.(type) {
	case []float32:
		d[i] = src.([]float32)[j]
	case []float64:
		d[i] = src.([]float64)[j]
	case []uint16:
		d[i] = src.([]uint16)[j]
	case []int8:
		d[i] = src.([]int8)[j]
	case []int16:
		d[i] = src.([]int16)[j]
	case []int32:
		d[i] = src.([]int32)[j]
	case []int64:
		d[i] = src.([]int64)[j]
	case []uint8:
		d[i] = src.([]uint8)[j]
	case []uint32:
		d[i] = src.([]uint32)[j]
	case []uint64:
		d[i] = src.([]uint64)[j]
	case []bool:
		d[i] = src.([]bool)[j]
	case []string:
		d[i] = src.([]string)[j]
	default:
		panic(fmt.Sprintf("tensor.CopyElem: unsupported %T", dst))
	}
}
