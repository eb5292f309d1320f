package imageops

import (
	"fmt"
	"math"

	"stride/graph"
	"stride/ops"
	"stride/tensor"
)

// float is the element types the float kernels are written for; the runtime
// widens Float16/BFloat16 to float32 before they run.
type float interface{ ~float32 | ~float64 }

// number is every element type that supports arithmetic.
type number interface {
	~float32 | ~float64 | ~int8 | ~int16 | ~int32 | ~int64 |
		~uint8 | ~uint16 | ~uint32 | ~uint64
}

// onnxDTypes maps the ONNX TensorProto.DataType codes that attributes such
// as output_datatype carry to Stride's element types.
var onnxDTypes = map[int64]tensor.DType{
	1: tensor.Float32, 2: tensor.Uint8, 3: tensor.Int8, 4: tensor.Uint16,
	5: tensor.Int16, 6: tensor.Int32, 7: tensor.Int64, 9: tensor.Bool,
	10: tensor.Float16, 11: tensor.Float64, 12: tensor.Uint32,
	13: tensor.Uint64, 16: tensor.BFloat16,
}

// outputDType reads the output_datatype attribute of the generator ops.
func outputDType(n *graph.Node) (tensor.DType, error) {
	code, err := n.AttrInt("output_datatype", 1)
	if err != nil {
		return 0, err
	}
	dt, ok := onnxDTypes[code]
	if !ok {
		return 0, fmt.Errorf("unsupported output_datatype %d", code)
	}
	return dt, nil
}

// enumAttr reads a string attribute and maps it through table, so each op
// lists its accepted spellings in one place.
func enumAttr[E any](n *graph.Node, name, def string, table map[string]E) (E, error) {
	var zero E
	s, err := n.AttrString(name, def)
	if err != nil {
		return zero, err
	}
	v, ok := table[s]
	if !ok {
		return zero, fmt.Errorf("unsupported %s %q", name, s)
	}
	return v, nil
}

// boolAttr reads a 0/1 int attribute.
func boolAttr(n *graph.Node, name string, def bool) (bool, error) {
	d := int64(0)
	if def {
		d = 1
	}
	v, err := n.AttrInt(name, d)
	if err != nil {
		return false, err
	}
	if v != 0 && v != 1 {
		return false, fmt.Errorf("attribute %s must be 0 or 1, got %d", name, v)
	}
	return v == 1, nil
}

// scalarInt reads a one-element integer operand (a scalar or a 1-D tensor of
// length 1, as exporters produce both).
func scalarInt(t *tensor.Tensor, what string) (int64, error) {
	if t.Len() != 1 {
		return 0, fmt.Errorf("%s must hold one value, got shape %v", what, t.Shape)
	}
	v, err := t.Ints()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	return v[0], nil
}

// scalarFloat reads a one-element numeric operand as float64.
func scalarFloat(t *tensor.Tensor, what string) (float64, error) {
	if t.Len() != 1 || t.DType == tensor.String {
		return 0, fmt.Errorf("%s must hold one number, got %v%v", what, t.DType, t.Shape)
	}
	return t.Float64s()[0], nil
}

// numbers returns the elements of a numeric tensor as float64.
func numbers(t *tensor.Tensor, what string) ([]float64, error) {
	if t.DType == tensor.String {
		return nil, fmt.Errorf("%s must be numeric, got %v", what, t.DType)
	}
	return t.Float64s(), nil
}

// floatsOf returns the elements of a Float32 or Float64 tensor.
func floatsOf[T float](t *tensor.Tensor) []T { return t.Data.([]T) }

// intRange is the value range of each integer type, used to saturate when a
// float result is stored into an integer tensor.
var intRange = map[tensor.DType][2]float64{
	tensor.Int8: {math.MinInt8, math.MaxInt8}, tensor.Uint8: {0, math.MaxUint8},
	tensor.Int16: {math.MinInt16, math.MaxInt16}, tensor.Uint16: {0, math.MaxUint16},
	tensor.Int32: {math.MinInt32, math.MaxInt32}, tensor.Uint32: {0, math.MaxUint32},
	tensor.Int64: {math.MinInt64, math.MaxInt64}, tensor.Uint64: {0, math.MaxUint64},
}

// storeFloat64s writes src into dst, whatever dst's element type: floats are
// rounded to the nearest representable value, integers are truncated toward
// zero (as a Cast would) after saturating to the type's range, and NaN
// becomes 0; bools are "not zero".
func storeFloat64s(dst *tensor.Tensor, src []float64) error {
	switch d := dst.Data.(type) {
	case []float32:
		for i, v := range src {
			d[i] = float32(v)
		}
	case []float64:
		copy(d, src)
	case []bool:
		for i, v := range src {
			d[i] = v != 0
		}
	case []uint16:
		switch dst.DType {
		case tensor.Float16:
			for i, v := range src {
				d[i] = tensor.F32ToF16(float32(v))
			}
		case tensor.BFloat16:
			for i, v := range src {
				d[i] = tensor.F32ToBF16(float32(v))
			}
		default:
			storeInts(d, src, intRange[dst.DType], math.MaxUint16)
		}
	case []int8:
		storeInts(d, src, intRange[dst.DType], math.MaxInt8)
	case []int16:
		storeInts(d, src, intRange[dst.DType], math.MaxInt16)
	case []int32:
		storeInts(d, src, intRange[dst.DType], math.MaxInt32)
	case []int64:
		storeInts(d, src, intRange[dst.DType], math.MaxInt64)
	case []uint8:
		storeInts(d, src, intRange[dst.DType], math.MaxUint8)
	case []uint32:
		storeInts(d, src, intRange[dst.DType], math.MaxUint32)
	case []uint64:
		storeInts(d, src, intRange[dst.DType], math.MaxUint64)
	default:
		return fmt.Errorf("cannot store numbers into a %v tensor", dst.DType)
	}
	return nil
}

func storeInts[T number](d []T, src []float64, r [2]float64, max T) {
	for i, v := range src {
		switch {
		case math.IsNaN(v):
			d[i] = 0
		case v <= r[0]:
			d[i] = T(r[0])
		case v >= r[1]:
			// MaxInt64 and MaxUint64 are not exact in float64, so the
			// saturated value comes from the integer constant.
			d[i] = max
		default:
			d[i] = T(v)
		}
	}
}

// needFloat checks that t holds float32 or float64 elements, the types the
// float kernels are instantiated for.
func needFloat(t *tensor.Tensor, what string) error {
	if t.DType != tensor.Float32 && t.DType != tensor.Float64 {
		return fmt.Errorf("%s must be a float tensor, got %v", what, t.DType)
	}
	return nil
}

// unknownOfRank is a type with rank known and every dim unknown.
func unknownOfRank(dt tensor.DType, rank int) graph.Type {
	s := make([]graph.Dim, rank)
	for i := range s {
		s[i] = graph.Unknown
	}
	return graph.Type{DType: dt, Shape: s, Ranked: true}
}

// attrReader reads a node's attributes and keeps the first error, so a
// builder can read all of them and check once.
type attrReader struct {
	n   *graph.Node
	err error
}

func (a *attrReader) keep(err error) {
	if a.err == nil && err != nil {
		a.err = err
	}
}

func (a *attrReader) int(name string, def int64) int64 {
	v, err := a.n.AttrInt(name, def)
	a.keep(err)
	return v
}

func (a *attrReader) float(name string, def float32) float64 {
	v, err := a.n.AttrFloat(name, def)
	a.keep(err)
	return float64(v)
}

func (a *attrReader) ints(name string, def []int64) []int64 {
	v, err := a.n.AttrInts(name, def)
	a.keep(err)
	return v
}

func (a *attrReader) bool(name string, def bool) bool {
	v, err := boolAttr(a.n, name, def)
	a.keep(err)
	return v
}

// enumOf is attrReader's enum reader (a method cannot be generic).
func enumOf[E any](a *attrReader, name, def string, table map[string]E) E {
	v, err := enumAttr(a.n, name, def, table)
	a.keep(err)
	return v
}

// need checks that the first n inputs (the required ones) are present.
func need(in []*tensor.Tensor, n int) error {
	for i := range n {
		if _, err := ops.NeedInput(in, i, "required"); err != nil {
			return err
		}
	}
	return nil
}

// optional returns input i, or nil when it is omitted or empty (exporters
// often pass an empty tensor for "not given").
func optional(in []*tensor.Tensor, i int) *tensor.Tensor {
	if i < len(in) && in[i] != nil && in[i].Len() > 0 {
		return in[i]
	}
	return nil
}

// result returns y as the kernel's only output unless err is set.
func result(y *tensor.Tensor, err error) ([]*tensor.Tensor, error) {
	if err != nil {
		return nil, err
	}
	return []*tensor.Tensor{y}, nil
}
