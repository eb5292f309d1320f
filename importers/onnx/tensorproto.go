package onnx

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unsafe"

	"stride/proto/onnxpb"
	"stride/tensor"
)

// DTypeFromONNX maps an ONNX element type code to a DType.
func DTypeFromONNX(code int32) (tensor.DType, error) {
	if dt, ok := tensor.FromONNX(code); ok {
		return dt, nil
	}
	name := onnxpb.TensorProto_DataType_name[code]
	if name == "" {
		name = strconv.Itoa(int(code))
	}
	return tensor.Undefined, fmt.Errorf("unsupported element type %s", name)
}

// DTypeToONNX maps a DType to its ONNX element type code.
func DTypeToONNX(dt tensor.DType) int32 { return dt.ONNXCode() }

// externalResolver reads external tensor data from files inside one folder.
type externalResolver struct {
	dir string // "" when the model came from bytes: external data is refused
}

// DecodeTensor converts a TensorProto (with inline data) to a tensor.
func DecodeTensor(tp *onnxpb.TensorProto) (*tensor.Tensor, error) {
	return decodeTensor(tp, externalResolver{})
}

func decodeTensor(tp *onnxpb.TensorProto, ext externalResolver) (*tensor.Tensor, error) {
	if tp.GetSegment() != nil {
		return nil, fmt.Errorf("tensor %q: segmented tensors are not supported", tp.GetName())
	}
	dt, err := DTypeFromONNX(tp.GetDataType())
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %w", tp.GetName(), err)
	}
	shape := make([]int, len(tp.GetDims()))
	for i, d := range tp.GetDims() {
		if d < 0 || d > tensor.MaxElements {
			return nil, fmt.Errorf("tensor %q: invalid dimension %d in dims %v", tp.GetName(), d, tp.GetDims())
		}
		shape[i] = int(d)
	}
	n, err := tensor.NumElements(shape)
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %w", tp.GetName(), err)
	}
	raw := tp.GetRawData()
	if tp.GetDataLocation() == onnxpb.TensorProto_EXTERNAL {
		if raw, err = ext.read(tp, int64(n)*int64(dt.Size())); err != nil {
			return nil, fmt.Errorf("tensor %q: %w", tp.GetName(), err)
		}
	}
	t := &tensor.Tensor{DType: dt, Shape: shape}
	if dt == tensor.String {
		if len(tp.GetStringData()) != n {
			return nil, fmt.Errorf("tensor %q: %d strings for shape %v (%d elements)", tp.GetName(), len(tp.GetStringData()), shape, n)
		}
		s := make([]string, n)
		for i, b := range tp.GetStringData() {
			s[i] = string(b)
		}
		t.Data = s
		return t, nil
	}
	if raw != nil || tp.GetDataLocation() == onnxpb.TensorProto_EXTERNAL {
		want := int64(n) * int64(dt.Size())
		if int64(len(raw)) != want {
			return nil, fmt.Errorf("tensor %q: raw data holds %d bytes, but shape %v of %v needs %d", tp.GetName(), len(raw), shape, dt, want)
		}
		t.Data = decodeRaw(dt, raw, n)
		return t, nil
	}
	// Typed fields.
	var count int
	switch dt {
	case tensor.Float32:
		count = len(tp.GetFloatData())
	case tensor.Float64:
		count = len(tp.GetDoubleData())
	case tensor.Int64:
		count = len(tp.GetInt64Data())
	case tensor.Uint32, tensor.Uint64:
		count = len(tp.GetUint64Data())
	default:
		count = len(tp.GetInt32Data())
	}
	if count != n {
		return nil, fmt.Errorf("tensor %q: %d values for shape %v (%d elements)", tp.GetName(), count, shape, n)
	}
	data := tensor.MakeSlice(dt, n)
	switch d := data.(type) {
	case []float32:
		copy(d, tp.GetFloatData())
	case []float64:
		copy(d, tp.GetDoubleData())
	case []int64:
		copy(d, tp.GetInt64Data())
	case []uint64:
		copy(d, tp.GetUint64Data())
	case []uint32:
		for i, v := range tp.GetUint64Data() {
			d[i] = uint32(v)
		}
	case []int32:
		copy(d, tp.GetInt32Data())
	case []int16:
		for i, v := range tp.GetInt32Data() {
			d[i] = int16(v)
		}
	case []int8:
		for i, v := range tp.GetInt32Data() {
			d[i] = int8(v)
		}
	case []uint8:
		for i, v := range tp.GetInt32Data() {
			d[i] = uint8(v)
		}
	case []uint16:
		for i, v := range tp.GetInt32Data() {
			d[i] = uint16(v)
		}
	case []bool:
		for i, v := range tp.GetInt32Data() {
			d[i] = v != 0
		}
	}
	t.Data = data
	return t, nil
}

// littleEndian reports whether this machine stores numbers as the ONNX
// raw_data format does, so float32 raw data can be used in place.
var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

func decodeRaw(dt tensor.DType, raw []byte, n int) any {
	// Weights are most of a model's bytes: on little-endian machines use
	// the decoded protobuf's buffer as the tensor's storage instead of
	// copying it (the buffer belongs to this tensor alone).
	if dt == tensor.Float32 && littleEndian && n > 0 && uintptr(unsafe.Pointer(&raw[0]))%4 == 0 {
		return unsafe.Slice((*float32)(unsafe.Pointer(&raw[0])), n)
	}
	return tensor.DecodeLE(dt, raw, n)
}

// EncodeTensor converts a tensor to a TensorProto with raw_data (strings use
// string_data, as the format requires).
func EncodeTensor(name string, t *tensor.Tensor) (*onnxpb.TensorProto, error) {
	code := DTypeToONNX(t.DType)
	if code == 0 {
		return nil, fmt.Errorf("tensor %q: cannot encode %v", name, t.DType)
	}
	tp := &onnxpb.TensorProto{Name: name, DataType: code}
	for _, d := range t.Shape {
		tp.Dims = append(tp.Dims, int64(d))
	}
	if strs, ok := t.Data.([]string); ok {
		for _, s := range strs {
			tp.StringData = append(tp.StringData, []byte(s))
		}
		return tp, nil
	}
	raw, err := tensor.EncodeLE(t)
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %w", name, err)
	}
	tp.RawData = raw
	if raw == nil {
		tp.RawData = []byte{}
	}
	return tp, nil
}

// read loads the bytes of an external tensor. The location must be a
// relative path that stays inside the model's folder, also after symlinks
// are resolved.
func (r externalResolver) read(tp *onnxpb.TensorProto, want int64) ([]byte, error) {
	if r.dir == "" {
		return nil, fmt.Errorf("external data needs the model's folder: load the model from a file")
	}
	var location string
	var offset, length int64 = 0, -1
	for _, kv := range tp.GetExternalData() {
		var err error
		switch kv.GetKey() {
		case "location":
			location = kv.GetValue()
		case "offset":
			offset, err = strconv.ParseInt(kv.GetValue(), 10, 64)
		case "length":
			length, err = strconv.ParseInt(kv.GetValue(), 10, 64)
		}
		if err != nil {
			return nil, fmt.Errorf("external data %s %q: %w", kv.GetKey(), kv.GetValue(), err)
		}
	}
	if location == "" {
		return nil, fmt.Errorf("external data has no location")
	}
	path, err := safeJoin(r.dir, location)
	if err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, fmt.Errorf("external data offset %d is negative", offset)
	}
	if length < 0 {
		length = want
	}
	if length != want {
		return nil, fmt.Errorf("external data length %d, but the shape needs %d bytes", length, want)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("external data: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if offset+length > fi.Size() {
		return nil, fmt.Errorf("external data %q: %d bytes at offset %d run past the end of the file (%d bytes)", location, length, offset, fi.Size())
	}
	buf := make([]byte, length)
	if _, err := f.ReadAt(buf, offset); err != nil {
		return nil, fmt.Errorf("external data %q: %w", location, err)
	}
	return buf, nil
}

// safeJoin resolves a relative location inside dir, refusing absolute
// paths, ".." components and symlinks that lead outside dir.
func safeJoin(dir, location string) (string, error) {
	if location == "" || filepath.IsAbs(location) || strings.HasPrefix(location, "/") || strings.HasPrefix(location, `\`) || filepath.VolumeName(location) != "" {
		return "", fmt.Errorf("external data location %q must be a relative path inside the model's folder", location)
	}
	for _, part := range strings.FieldsFunc(location, func(r rune) bool { return r == '/' || r == '\\' }) {
		if part == ".." {
			return "", fmt.Errorf("external data location %q escapes the model's folder", location)
		}
	}
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", fmt.Errorf("model folder: %w", err)
	}
	root, _ = filepath.Abs(root)
	full, err := filepath.EvalSymlinks(filepath.Join(root, filepath.FromSlash(location)))
	if err != nil {
		return "", fmt.Errorf("external data %q: %w", location, err)
	}
	full, _ = filepath.Abs(full)
	rel, err := filepath.Rel(root, full)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("external data location %q resolves outside the model's folder", location)
	}
	return full, nil
}
