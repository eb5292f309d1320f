package mathops

import (
	"fmt"
	"math"

	"stride/ops"
	"stride/tensor"
)

// Pow's base and exponent may have different types; the result has the
// base's type. The exponent is first turned into one canonical slice: float64
// when either operand is a float (the float base is raised in float64 and
// rounded once), int64 when both are integers (raised exactly, wrapping
// like repeated multiplication). A float exponent with an integer base
// truncates the float result, like the reference.
//
// Pow handles Float16 and BFloat16 itself (Native16): the runtime widens
// only one 16-bit type per node, which would mis-type the result of, say,
// a float32 base with a float16 exponent.

func init() {
	ops.Register(&ops.Def{Op: "Pow", Build: buildPow, Infer: inferBroadcast(tensor.Undefined, 0, 0, 1),
		Native16: true, Float64: true})
}

// powMaker returns the loop for one base type, given the exponent.
type powMaker func(dst, base any, e *tensor.Tensor) (runFn, error)

var powKernels = map[tensor.DType]powMaker{
	tensor.Float32:  powFloat[float32],
	tensor.Float64:  powFloat[float64],
	tensor.Float16:  pow16(tensor.F16ToF32, tensor.F32ToF16),
	tensor.BFloat16: pow16(tensor.BF16ToF32, tensor.F32ToBF16),
	tensor.Int8:     powInt[int8], tensor.Int16: powInt[int16], tensor.Int32: powInt[int32], tensor.Int64: powInt[int64],
	tensor.Uint8: powInt[uint8], tensor.Uint16: powInt[uint16], tensor.Uint32: powInt[uint32], tensor.Uint64: powInt[uint64],
}

func buildPow(b *ops.Build) (ops.Kernel, error) {
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x, err := ops.NeedInput(in, 0, "X")
		if err != nil {
			return nil, err
		}
		e, err := ops.NeedInput(in, 1, "Y")
		if err != nil {
			return nil, err
		}
		mk := powKernels[x.DType]
		if mk == nil {
			return nil, errType(x.DType)
		}
		if !e.DType.IsFloat() && !e.DType.IsInt() {
			return nil, fmt.Errorf("exponent type %v is not numeric", e.DType)
		}
		p, err := broadcast(x.Shape, e.Shape)
		if err != nil {
			return nil, err
		}
		y, err := c.Alloc(x.DType, p.shape...)
		if err != nil {
			return nil, err
		}
		run, err := mk(y.Data, x.Data, e)
		if err != nil {
			return nil, err
		}
		p.run(c, run)
		return ops.Outs(y)
	}), nil
}

func powFloat[T float](dst, base any, e *tensor.Tensor) (runFn, error) {
	return binaryLoop(dst.([]T), base.([]T), e.Float64s(), func(b T, e float64) T {
		return T(math.Pow(float64(b), e))
	}), nil
}

// pow16 raises 16-bit float bit patterns, decoding and encoding with the
// given conversions.
func pow16(decode func(uint16) float32, encode func(float32) uint16) powMaker {
	return func(dst, base any, e *tensor.Tensor) (runFn, error) {
		return binaryLoop(dst.([]uint16), base.([]uint16), e.Float64s(), func(b uint16, e float64) uint16 {
			return encode(float32(math.Pow(float64(decode(b)), e)))
		}), nil
	}
}

func powInt[T sint | unsigned](dst, base any, e *tensor.Tensor) (runFn, error) {
	if e.DType.IsFloat() {
		return binaryLoop(dst.([]T), base.([]T), e.Float64s(), func(b T, e float64) T {
			return T(toInt(math.Pow(float64(b), e)))
		}), nil
	}
	return binaryLoop(dst.([]T), base.([]T), intExponents(e), func(b T, e int64) T {
		return T(ipow(int64(b), e))
	}), nil
}

// intExponents returns an integer exponent tensor as int64. A uint64
// exponent above MaxInt64 is replaced by 2^62 + e mod 2^62, which gives the
// same power modulo 2^64: even bases reach 0 from the 64th power on, and
// odd ones satisfy b^(2^62) = 1 mod 2^64.
func intExponents(e *tensor.Tensor) []int64 {
	if u, ok := e.Data.([]uint64); ok {
		out := make([]int64, len(u))
		for i, v := range u {
			if v > math.MaxInt64 {
				v = 1<<62 + v%(1<<62)
			}
			out[i] = int64(v)
		}
		return out
	}
	out, _ := e.Ints() // cannot fail: e is an integer tensor
	return out
}

// ipow is b^e by squaring, wrapping on overflow. Negative exponents give
// the truncated value of 1/b^|e|: 1 and -1 stay units, other bases give 0
// (0 included, where numpy would raise an error).
func ipow(b, e int64) int64 {
	if e < 0 {
		switch b {
		case 1:
			return 1
		case -1:
			if e&1 != 0 {
				return -1
			}
			return 1
		}
		return 0
	}
	r := int64(1)
	for e > 0 {
		if e&1 != 0 {
			r *= b
		}
		b *= b
		e >>= 1
	}
	return r
}
