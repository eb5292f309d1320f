// Package tensor owns Stride's n-dimensional arrays: element types, shapes,
// typed storage, and the conversions between element types (including the
// 16-bit float formats). It knows nothing of graphs, files or kernels.
package tensor

import "fmt"

// DType is the element type of a tensor.
type DType uint8

// The element types Stride stores. Float16 and BFloat16 are stored as their
// bit patterns ([]uint16) and computed on as float32.
const (
	Undefined DType = iota
	Float32
	Float64
	Float16
	BFloat16
	Int8
	Int16
	Int32
	Int64
	Uint8
	Uint16
	Uint32
	Uint64
	Bool
	String
)

var dtypeInfo = [...]struct {
	name string
	size int // bytes per element; 0 for strings
}{
	Undefined: {"undefined", 0},
	Float32:   {"float32", 4},
	Float64:   {"float64", 8},
	Float16:   {"float16", 2},
	BFloat16:  {"bfloat16", 2},
	Int8:      {"int8", 1},
	Int16:     {"int16", 2},
	Int32:     {"int32", 4},
	Int64:     {"int64", 8},
	Uint8:     {"uint8", 1},
	Uint16:    {"uint16", 2},
	Uint32:    {"uint32", 4},
	Uint64:    {"uint64", 8},
	Bool:      {"bool", 1},
	String:    {"string", 0},
}

func (d DType) String() string {
	if int(d) < len(dtypeInfo) {
		return dtypeInfo[d].name
	}
	return fmt.Sprintf("dtype(%d)", uint8(d))
}

// Size is the number of bytes of one element (0 for String and Undefined).
func (d DType) Size() int {
	if int(d) < len(dtypeInfo) {
		return dtypeInfo[d].size
	}
	return 0
}

// IsFloat reports whether d is a floating-point type.
func (d DType) IsFloat() bool {
	return d == Float32 || d == Float64 || d == Float16 || d == BFloat16
}

// IsInt reports whether d is a signed or unsigned integer type.
func (d DType) IsInt() bool {
	return d >= Int8 && d <= Uint64
}

// IsSigned reports whether d is a signed integer type.
func (d DType) IsSigned() bool { return d >= Int8 && d <= Int64 }

// ParseDType maps a name such as "float32" to its DType.
func ParseDType(s string) (DType, bool) {
	for i, info := range dtypeInfo {
		if info.name == s && i != 0 {
			return DType(i), true
		}
	}
	return Undefined, false
}

// onnxCodes maps ONNX TensorProto.DataType codes to element types. The
// codes are facts of the ONNX format; several packages need them (Cast's
// `to`, output_datatype attributes, the importer).
var onnxCodes = map[int32]DType{
	1:  Float32,
	2:  Uint8,
	3:  Int8,
	4:  Uint16,
	5:  Int16,
	6:  Int32,
	7:  Int64,
	8:  String,
	9:  Bool,
	10: Float16,
	11: Float64,
	12: Uint32,
	13: Uint64,
	16: BFloat16,
}

// FromONNX maps an ONNX element type code to a DType.
func FromONNX(code int32) (DType, bool) {
	dt, ok := onnxCodes[code]
	return dt, ok
}

// ONNXCode returns the ONNX element type code of d (0 if it has none).
func (d DType) ONNXCode() int32 {
	for code, dt := range onnxCodes {
		if dt == d {
			return code
		}
	}
	return 0
}
