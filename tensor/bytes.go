package tensor

import (
	"encoding/binary"
	"fmt"
	"math"
)

// DecodeLE reads n little-endian elements of type dt from raw (the layout
// of ONNX raw_data and .npy files). raw must hold n*dt.Size() bytes.
func DecodeLE(dt DType, raw []byte, n int) any {
	le := binary.LittleEndian
	data := MakeSlice(dt, n)
	switch d := data.(type) {
	case []float32:
		for i := range d {
			d[i] = math.Float32frombits(le.Uint32(raw[4*i:]))
		}
	case []float64:
		for i := range d {
			d[i] = math.Float64frombits(le.Uint64(raw[8*i:]))
		}
	case []uint16:
		for i := range d {
			d[i] = le.Uint16(raw[2*i:])
		}
	case []int8:
		for i := range d {
			d[i] = int8(raw[i])
		}
	case []int16:
		for i := range d {
			d[i] = int16(le.Uint16(raw[2*i:]))
		}
	case []int32:
		for i := range d {
			d[i] = int32(le.Uint32(raw[4*i:]))
		}
	case []int64:
		for i := range d {
			d[i] = int64(le.Uint64(raw[8*i:]))
		}
	case []uint8:
		copy(d, raw)
	case []uint32:
		for i := range d {
			d[i] = le.Uint32(raw[4*i:])
		}
	case []uint64:
		for i := range d {
			d[i] = le.Uint64(raw[8*i:])
		}
	case []bool:
		for i := range d {
			d[i] = raw[i] != 0
		}
	}
	return data
}

// EncodeLE returns the elements of t as little-endian bytes (bools as one
// byte each). Strings have no such form.
func EncodeLE(t *Tensor) ([]byte, error) {
	if t.DType == String || t.DType.Size() == 0 {
		return nil, fmt.Errorf("cannot encode %v tensors as bytes", t.DType)
	}
	n := t.Len()
	sz := t.DType.Size()
	raw := make([]byte, n*sz)
	le := binary.LittleEndian
	switch d := t.Data.(type) {
	case []float32:
		for i, v := range d {
			le.PutUint32(raw[4*i:], math.Float32bits(v))
		}
	case []float64:
		for i, v := range d {
			le.PutUint64(raw[8*i:], math.Float64bits(v))
		}
	case []uint16:
		for i, v := range d {
			le.PutUint16(raw[2*i:], v)
		}
	case []int8:
		for i, v := range d {
			raw[i] = byte(v)
		}
	case []int16:
		for i, v := range d {
			le.PutUint16(raw[2*i:], uint16(v))
		}
	case []int32:
		for i, v := range d {
			le.PutUint32(raw[4*i:], uint32(v))
		}
	case []int64:
		for i, v := range d {
			le.PutUint64(raw[8*i:], uint64(v))
		}
	case []uint8:
		copy(raw, d)
	case []uint32:
		for i, v := range d {
			le.PutUint32(raw[4*i:], v)
		}
	case []uint64:
		for i, v := range d {
			le.PutUint64(raw[8*i:], v)
		}
	case []bool:
		for i, v := range d {
			if v {
				raw[i] = 1
			}
		}
	default:
		return nil, fmt.Errorf("cannot encode data of type %T", t.Data)
	}
	return raw, nil
}
