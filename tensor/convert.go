package tensor

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Convert returns t's elements converted to type to, with ONNX Cast
// semantics: floats to integers truncate toward zero, anything to bool is
// "not zero", float to float16/bfloat16 rounds to nearest even, strings are
// parsed and formatted as numbers. Converting to the same type copies.
func Convert(t *Tensor, to DType) (*Tensor, error) {
	n := t.Len()
	out := &Tensor{DType: to, Shape: append([]int{}, t.Shape...), Data: MakeSlice(to, n)}
	if t.DType == to {
		CopyData(out.Data, t.Data)
		return out, nil
	}
	if t.DType == String {
		if to.IsInt() {
			if ints, ok := parseInts(t.Data.([]string)); ok {
				storeInts(out, ints)
				return out, nil
			}
		}
		return out, fromStrings(out, t.Data.([]string))
	}
	if to == String {
		dst := out.Data.([]string)
		f := t.Float64s()
		for i, v := range f {
			switch {
			case t.DType.IsInt():
				dst[i] = strconv.FormatInt(int64(v), 10)
			case t.DType == Bool:
				dst[i] = strconv.FormatBool(v != 0)
			default:
				dst[i] = formatFloat(v, t.DType)
			}
		}
		if t.DType == Int64 || t.DType == Uint64 {
			for i := range dst {
				dst[i] = fmt.Sprint(indexAny(t.Data, i))
			}
		}
		return out, nil
	}
	// Integer sources keep full precision through int64.
	if t.DType.IsInt() && to.IsInt() || t.DType == Bool && to.IsInt() {
		src := toInt64s(t)
		storeInts(out, src)
		return out, nil
	}
	f := t.Float64s()
	storeFloats(out, f)
	return out, nil
}

func indexAny(d any, i int) any {
	switch s := d.(type) {
	case []int64:
		return s[i]
	case []uint64:
		return s[i]
	}
	return nil
}

func formatFloat(v float64, dt DType) string {
	if math.IsInf(v, 1) {
		return "INF"
	}
	if math.IsInf(v, -1) {
		return "-INF"
	}
	if math.IsNaN(v) {
		return "NaN"
	}
	bits := 32
	if dt == Float64 {
		bits = 64
	}
	return strconv.FormatFloat(v, 'g', -1, bits)
}

func toInt64s(t *Tensor) []int64 {
	n := t.Len()
	out := make([]int64, n)
	switch s := t.Data.(type) {
	case []int64:
		copy(out, s)
	case []uint64:
		for i, v := range s {
			out[i] = int64(v)
		}
	case []int32:
		for i, v := range s {
			out[i] = int64(v)
		}
	case []uint32:
		for i, v := range s {
			out[i] = int64(v)
		}
	case []int16:
		for i, v := range s {
			out[i] = int64(v)
		}
	case []uint16:
		for i, v := range s {
			out[i] = int64(v)
		}
	case []int8:
		for i, v := range s {
			out[i] = int64(v)
		}
	case []uint8:
		for i, v := range s {
			out[i] = int64(v)
		}
	case []bool:
		for i, v := range s {
			if v {
				out[i] = 1
			}
		}
	}
	return out
}

func storeInts(out *Tensor, src []int64) {
	switch d := out.Data.(type) {
	case []int64:
		copy(d, src)
	case []uint64:
		for i, v := range src {
			d[i] = uint64(v)
		}
	case []int32:
		for i, v := range src {
			d[i] = int32(v)
		}
	case []uint32:
		for i, v := range src {
			d[i] = uint32(v)
		}
	case []int16:
		for i, v := range src {
			d[i] = int16(v)
		}
	case []uint16:
		for i, v := range src {
			d[i] = uint16(v)
		}
	case []int8:
		for i, v := range src {
			d[i] = int8(v)
		}
	case []uint8:
		for i, v := range src {
			d[i] = uint8(v)
		}
	}
}

// f2i truncates toward zero; NaN and out-of-range values saturate the way
// x86 conversions do for int64 (the result is implementation-defined in ONNX).
func f2i(v float64) int64 {
	if math.IsNaN(v) {
		return math.MinInt64
	}
	if v >= 9.223372036854775807e18 || v < -9.223372036854775808e18 {
		return math.MinInt64
	}
	return int64(v)
}

func storeFloats(out *Tensor, f []float64) {
	switch d := out.Data.(type) {
	case []float32:
		for i, v := range f {
			d[i] = float32(v)
		}
	case []float64:
		copy(d, f)
	case []uint16:
		for i, v := range f {
			switch out.DType {
			case Float16:
				d[i] = F64ToF16(v)
			case BFloat16:
				d[i] = F64ToBF16(v)
			default:
				d[i] = uint16(f2i(v))
			}
		}
	case []bool:
		for i, v := range f {
			d[i] = v != 0
		}
	case []int64:
		for i, v := range f {
			d[i] = f2i(v)
		}
	case []uint64:
		for i, v := range f {
			if v >= 9.223372036854775807e18 {
				d[i] = uint64(v)
			} else {
				d[i] = uint64(f2i(v))
			}
		}
	case []int32:
		for i, v := range f {
			d[i] = int32(f2i(v))
		}
	case []uint32:
		for i, v := range f {
			d[i] = uint32(f2i(v))
		}
	case []int16:
		for i, v := range f {
			d[i] = int16(f2i(v))
		}
	case []int8:
		for i, v := range f {
			d[i] = int8(f2i(v))
		}
	case []uint8:
		for i, v := range f {
			d[i] = uint8(f2i(v))
		}
	}
}

func fromStrings(out *Tensor, src []string) error {
	f := make([]float64, len(src))
	for i, s := range src {
		s = strings.TrimSpace(s)
		switch strings.ToLower(s) {
		case "inf", "+inf", "infinity", "+infinity":
			f[i] = math.Inf(1)
			continue
		case "-inf", "-infinity":
			f[i] = math.Inf(-1)
			continue
		case "nan", "-nan", "+nan":
			f[i] = math.NaN()
			continue
		case "true":
			f[i] = 1
			continue
		case "false":
			f[i] = 0
			continue
		}
		if out.DType.IsInt() {
			if v, err := strconv.ParseInt(s, 10, 64); err == nil {
				f[i] = float64(v)
				continue
			}
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("cannot convert string %q to %v", s, out.DType)
		}
		f[i] = v
	}
	if out.DType == Float32 {
		// Parse as float32 directly so rounding happens once.
		d := out.Data.([]float32)
		for i, s := range src {
			if v, err := strconv.ParseFloat(strings.TrimSpace(s), 32); err == nil {
				d[i] = float32(v)
			} else {
				d[i] = float32(f[i])
			}
		}
		return nil
	}
	storeFloats(out, f)
	return nil
}

// ToFloat32 returns t as Float32, converting if needed (shares data when t
// is already Float32).
func ToFloat32(t *Tensor) *Tensor {
	if t.DType == Float32 {
		return t
	}
	c, err := Convert(t, Float32)
	if err != nil {
		panic(err)
	}
	return c
}

// parseInts parses every string as a base-10 integer, exactly.
func parseInts(src []string) ([]int64, bool) {
	out := make([]int64, len(src))
	for i, s := range src {
		v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			u, err2 := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
			if err2 != nil {
				return nil, false
			}
			v = int64(u)
		}
		out[i] = v
	}
	return out, true
}
