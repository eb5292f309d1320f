package mathops

import (
	"fmt"
	"math"

	"stride/graph"
	"stride/internal/kern"
	"stride/ops"
	"stride/tensor"
)

// unaryOps are the attribute-free unary math ops. Functions on floats work
// in float64; integer domains are listed where ONNX accepts integers.
var unaryOps = map[string]fn1{
	"Abs":        {f: math.Abs, i: func(x int64) int64 { return max(x, -x) }, u: identity[uint64], f32: kern.Abs},
	"Neg":        {f: neg[float64], i: neg[int64], f32: kern.Neg},
	"Exp":        {f: math.Exp, f32: kern.Exp},
	"Log":        {f: math.Log},
	"Sqrt":       {f: math.Sqrt, f32: kern.Sqrt},
	"Reciprocal": {f: func(x float64) float64 { return 1 / x }, f32: kern.Reciprocal},
	"Floor":      {f: math.Floor},
	"Ceil":       {f: math.Ceil},
	"Round":      {f: math.RoundToEven},
	"Sign":       {f: sign[float64], i: sign[int64], u: sign[uint64]},
	"Sin":        {f: math.Sin},
	"Cos":        {f: math.Cos},
	"Tan":        {f: math.Tan},
	"Asin":       {f: math.Asin},
	"Acos":       {f: math.Acos},
	"Atan":       {f: math.Atan},
	"Sinh":       {f: math.Sinh},
	"Cosh":       {f: math.Cosh},
	"Asinh":      {f: math.Asinh},
	"Acosh":      {f: math.Acosh},
	"Atanh":      {f: math.Atanh},
	// Erf accepts integers; like the reference, the float result is
	// truncated back to the integer type.
	"Erf":        {f: math.Erf, i: intVia(math.Erf), u: uintVia(math.Erf)},
	"Not":        {b: func(x bool) bool { return !x }},
	"BitwiseNot": {i: func(x int64) int64 { return ^x }, u: func(x uint64) uint64 { return ^x }},
}

func identity[T any](x T) T { return x }
func neg[T number](x T) T   { return -x }
func sign[T number](x T) T {
	switch {
	case x > 0:
		return 1
	case x < 0:
		one := T(1)
		return -one
	}
	return x // 0, and NaN stays NaN
}

// intVia and uintVia apply a float function to integers, truncating the
// result toward zero.
func intVia(f func(float64) float64) func(int64) int64 {
	return func(x int64) int64 { return toInt(f(float64(x))) }
}

func uintVia(f func(float64) float64) func(uint64) uint64 {
	return func(x uint64) uint64 { return uint64(toInt(f(float64(x)))) }
}

// unaryBuilder makes an op's element functions from the node's attributes.
type unaryBuilder func(n *graph.Node) (*fn1, error)

func init() {
	for name, f := range unaryOps {
		registerUnary(name, func(*graph.Node) (*fn1, error) { return &f, nil })
	}
	ops.Register(
		&ops.Def{Op: "IsNaN", Build: buildIsNaN, Infer: inferBool, Float64: true},
		&ops.Def{Op: "IsInf", Build: buildIsInf, Infer: inferBool, Float64: true},
	)
}

func registerUnary(op string, mk unaryBuilder) {
	ops.Register(&ops.Def{Op: op, Infer: inferSame, Float64: true, Build: func(b *ops.Build) (ops.Kernel, error) {
		f, err := mk(b.Node)
		if err != nil {
			return nil, err
		}
		return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
			x, err := ops.NeedInput(in, 0, "X")
			if err != nil {
				return nil, err
			}
			y, err := c.Alloc(x.DType, x.Shape...)
			if err != nil {
				return nil, err
			}
			if err := applyUnary(c, y, x, f); err != nil {
				return nil, err
			}
			return ops.Outs(y)
		}), nil
	}})
}

// applyUnary computes dst = f(src) elementwise; dst may be src.
func applyUnary(c *ops.Ctx, dst, src *tensor.Tensor, f *fn1) error {
	if src.DType == tensor.Float32 && f.f32 != nil {
		unaryF32(c, dst.F32(), src.F32(), f.f32)
		return nil
	}
	mk := unaryKernels[src.DType]
	if mk == nil {
		return errType(src.DType)
	}
	loop := mk(dst.Data, src.Data, f)
	if loop == nil {
		return errType(src.DType)
	}
	c.For(src.Len(), grain, loop)
	return nil
}

// Float predicates (IsNaN, IsInf): float32 and float64 inputs, bool output.

func buildIsNaN(b *ops.Build) (ops.Kernel, error) {
	return predicateKernel(func(x float64) bool { return x != x }), nil
}

func buildIsInf(b *ops.Build) (ops.Kernel, error) {
	neg, err := b.Node.AttrInt("detect_negative", 1)
	if err != nil {
		return nil, err
	}
	pos, err := b.Node.AttrInt("detect_positive", 1)
	if err != nil {
		return nil, err
	}
	return predicateKernel(func(x float64) bool {
		return pos != 0 && math.IsInf(x, 1) || neg != 0 && math.IsInf(x, -1)
	}), nil
}

var predicateKernels = map[tensor.DType]func(dst []bool, src any, g func(float64) bool) func(lo, hi int){
	tensor.Float32: predicateF[float32],
	tensor.Float64: predicateF[float64],
}

func predicateF[T float](dst []bool, src any, g func(float64) bool) func(lo, hi int) {
	s := src.([]T)
	return func(lo, hi int) {
		for i, x := range s[lo:hi] {
			dst[lo+i] = g(float64(x))
		}
	}
}

func predicateKernel(g func(float64) bool) ops.Kernel {
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x, err := ops.NeedInput(in, 0, "X")
		if err != nil {
			return nil, err
		}
		mk := predicateKernels[x.DType]
		if mk == nil {
			return nil, fmt.Errorf("element type %v is not supported (want a float type)", x.DType)
		}
		y, err := c.Alloc(tensor.Bool, x.Shape...)
		if err != nil {
			return nil, err
		}
		c.For(x.Len(), grain, mk(y.Data.([]bool), x.Data, g))
		return ops.Outs(y)
	})
}
