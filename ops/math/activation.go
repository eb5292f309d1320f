package mathops

import (
	"fmt"
	"math"

	"stride/graph"
	"stride/internal/kern"
	"stride/ops"
	"stride/tensor"
)

// Activations are unary ops; most take float attributes, read once at
// load. Float32 attributes are used as float64 values of the same number,
// which is what float32 arithmetic with them would see.

// attr is a float attribute and its default.
type attr struct {
	name string
	def  float32
}

// withAttrs builds an activation from its float attributes, passed to mk
// in the order listed.
func withAttrs(attrs []attr, mk func(v []float64) fn1) unaryBuilder {
	return func(n *graph.Node) (*fn1, error) {
		v := make([]float64, len(attrs))
		for i, a := range attrs {
			x, err := n.AttrFloat(a.name, a.def)
			if err != nil {
				return nil, err
			}
			v[i] = float64(x)
		}
		f := mk(v)
		return &f, nil
	}
}

// fixed builds an activation without attributes.
func fixed(f fn1) unaryBuilder {
	return func(*graph.Node) (*fn1, error) { return &f, nil }
}

var activations = map[string]unaryBuilder{
	"Relu": fixed(fn1{
		f:   func(x float64) float64 { return relu(x) },
		i:   func(x int64) int64 { return max(x, 0) },
		f32: kern.Relu,
	}),
	"LeakyRelu": withAttrs([]attr{{"alpha", 0.01}}, func(v []float64) fn1 {
		alpha := v[0]
		return fn1{f: func(x float64) float64 {
			if x < 0 {
				return alpha * x
			}
			return x
		}, f32: func(dst, x []float32) { kern.LeakyRelu(dst, x, float32(alpha)) }}
	}),
	"Elu": withAttrs([]attr{{"alpha", 1}}, func(v []float64) fn1 {
		alpha := v[0]
		return fn1{f: func(x float64) float64 {
			if x < 0 {
				return alpha * math.Expm1(x)
			}
			return x
		}}
	}),
	"Selu": withAttrs([]attr{{"alpha", 1.67326319217681884765625}, {"gamma", 1.05070102214813232421875}}, func(v []float64) fn1 {
		alpha, gamma := v[0], v[1]
		return fn1{f: func(x float64) float64 {
			if x > 0 {
				return gamma * x
			}
			return gamma * alpha * math.Expm1(x)
		}}
	}),
	"Celu": withAttrs([]attr{{"alpha", 1}}, func(v []float64) fn1 {
		alpha := v[0]
		return fn1{f: func(x float64) float64 {
			return relu(x) + math.Min(0, alpha*math.Expm1(x/alpha))
		}}
	}),
	"Sigmoid": fixed(fn1{f: sigmoid, f32: kern.Sigmoid}),
	"HardSigmoid": withAttrs([]attr{{"alpha", 0.2}, {"beta", 0.5}}, func(v []float64) fn1 {
		alpha, beta := v[0], v[1]
		return fn1{f: func(x float64) float64 { return hardSigmoid(alpha*x + beta) },
			f32: func(dst, x []float32) { kern.HardSigmoid(dst, x, float32(alpha), float32(beta)) }}
	}),
	"HardSwish": fixed(fn1{f: func(x float64) float64 { return x * hardSigmoid(x/6+0.5) }, f32: kern.HardSwish}),
	"Softplus":  fixed(fn1{f: softplus}),
	"Softsign":  fixed(fn1{f: func(x float64) float64 { return x / (1 + math.Abs(x)) }}),
	"Tanh":      fixed(fn1{f: math.Tanh, f32: kern.Tanh}),
	"Mish":      fixed(fn1{f: func(x float64) float64 { return x * math.Tanh(softplus(x)) }}),
	"ThresholdedRelu": withAttrs([]attr{{"alpha", 1}}, func(v []float64) fn1 {
		alpha := v[0]
		return fn1{f: func(x float64) float64 {
			if x > alpha {
				return x
			}
			return 0
		}}
	}),
	// Shrink accepts every numeric type; integers go through float64 and
	// are truncated back, as in the reference.
	"Shrink": withAttrs([]attr{{"bias", 0}, {"lambd", 0.5}}, func(v []float64) fn1 {
		bias, lambd := v[0], v[1]
		f := func(x float64) float64 {
			switch {
			case x < -lambd:
				return x + bias
			case x > lambd:
				return x - bias
			}
			return 0
		}
		return fn1{f: f, i: intVia(f), u: uintVia(f)}
	}),
	"Gelu": buildGelu,
}

func relu(x float64) float64 {
	if x < 0 {
		return 0
	}
	return x // NaN stays NaN
}

// sigmoid avoids overflow of exp for large |x|.
func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

func hardSigmoid(v float64) float64 { return math.Max(0, math.Min(1, v)) }

// softplus is log(1+exp(x)), written not to overflow.
func softplus(x float64) float64 { return relu(x) + math.Log1p(math.Exp(-math.Abs(x))) }

// buildGelu reads Gelu's approximate attribute (opset 20): "none" uses erf,
// "tanh" the tanh approximation.
func buildGelu(n *graph.Node) (*fn1, error) {
	mode, err := n.AttrString("approximate", "none")
	if err != nil {
		return nil, err
	}
	switch mode {
	case "none":
		return &fn1{f: func(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) }}, nil
	case "tanh":
		k := math.Sqrt(2 / math.Pi)
		return &fn1{f: func(x float64) float64 { return 0.5 * x * (1 + math.Tanh(k*(x+0.044715*x*x*x))) }}, nil
	}
	return nil, fmt.Errorf("Gelu approximate %q is not one of none, tanh", mode)
}

func init() {
	for name, mk := range activations {
		registerUnary(name, mk)
	}
	ops.Register(
		&ops.Def{Op: "Clip", Build: buildClip, Infer: inferSame, Float64: true},
		&ops.Def{Op: "PRelu", Build: buildPRelu, Infer: inferSame, Float64: true},
	)
}

// Clip's bounds are optional scalar inputs 1 and 2; an absent bound does
// not clip. Applying min then max makes every element max when min > max,
// as the spec says.
func buildClip(b *ops.Build) (ops.Kernel, error) {
	// Constant bounds (Relu6 and the like) are read once, here.
	var fixed *fn1
	if (!b.HasInput(1) || b.Const(1) != nil) && (!b.HasInput(2) || b.Const(2) != nil) {
		var err error
		if fixed, err = clipFn(b.Const(1), b.Const(2)); err != nil {
			return nil, err
		}
	}
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x, err := ops.NeedInput(in, 0, "input")
		if err != nil {
			return nil, err
		}
		f := fixed
		if f == nil {
			var bounds [2]*tensor.Tensor
			copy(bounds[:], in[1:])
			if f, err = clipFn(bounds[0], bounds[1]); err != nil {
				return nil, err
			}
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
}

// clipFn makes Clip's element functions from its bounds (nil: absent).
func clipFn(minT, maxT *tensor.Tensor) (*fn1, error) {
	lo := clipBound{math.Inf(-1), math.MinInt64, 0}
	hi := clipBound{math.Inf(1), math.MaxInt64, math.MaxUint64}
	var err error
	if minT != nil {
		if lo, err = readBound(minT); err != nil {
			return nil, fmt.Errorf("min: %w", err)
		}
	}
	if maxT != nil {
		if hi, err = readBound(maxT); err != nil {
			return nil, fmt.Errorf("max: %w", err)
		}
	}
	// Bounds have the input's type, so a float32 input's convert exactly.
	l, h := float32(lo.f), float32(hi.f)
	return &fn1{f: clamp(lo.f, hi.f), i: clamp(lo.i, hi.i), u: clamp(lo.u, hi.u),
		f32: func(dst, x []float32) { kern.Clamp(dst, x, l, h) }}, nil
}

// clipBound is one Clip bound in each domain.
type clipBound struct {
	f float64
	i int64
	u uint64
}

func readBound(t *tensor.Tensor) (b clipBound, err error) {
	b.f, b.i, b.u, err = scalar(t)
	return b, err
}

func clamp[T number](lo, hi T) func(T) T {
	return func(x T) T {
		if x < lo {
			x = lo
		}
		if x > hi {
			x = hi
		}
		return x
	}
}

// PRelu is binary: slope broadcasts to X's shape (not the other way).
var preluFn = fn2{
	vec: vecOp(kern.PRelu),
	f: func(x, s float64) float64 {
		if x < 0 {
			return s * x
		}
		return x
	},
	i: func(x, s int64) int64 {
		if x < 0 {
			return s * x
		}
		return x
	},
	u: func(x, _ uint64) uint64 { return x },
}

func buildPRelu(b *ops.Build) (ops.Kernel, error) {
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x, slope, err := sameTypeInputs(in)
		if err != nil {
			return nil, err
		}
		p, err := planTo(x.Shape, x.Shape, slope.Shape)
		if err != nil {
			return nil, fmt.Errorf("slope: %w", err)
		}
		y, err := c.Alloc(x.DType, x.Shape...)
		if err != nil {
			return nil, err
		}
		if err := applyBinary(c, p, y, x, slope, &preluFn); err != nil {
			return nil, err
		}
		return ops.Outs(y)
	}), nil
}
