package kern

import "math"

// The portable twins of the assembly kernels. They follow the same
// formulas in the same float32 arithmetic (exp.go has the transcendental
// ones), so results agree with the assembly to within an ulp or two (FMA
// against separate rounding).

var negInf = float32(math.Inf(-1))

var unaryGo = [numUnary]func(dst, x []float32, p0, p1 float32){
	uRelu: func(dst, x []float32, _, _ float32) {
		for i, v := range x {
			if v < 0 {
				v = 0
			}
			dst[i] = v
		}
	},
	uClamp: func(dst, x []float32, lo, hi float32) {
		for i, v := range x {
			dst[i] = clamp(v, lo, hi)
		}
	},
	uLeaky: func(dst, x []float32, alpha, _ float32) {
		for i, v := range x {
			dst[i] = leaky(v, alpha)
		}
	},
	uScaleShift: func(dst, x []float32, m, a float32) {
		for i, v := range x {
			dst[i] = v*m + a
		}
	},
	uScaleShiftRelu: func(dst, x []float32, m, a float32) {
		for i, v := range x {
			v = v*m + a
			if v < 0 {
				v = 0
			}
			dst[i] = v
		}
	},
	uHardSigmoid: func(dst, x []float32, alpha, beta float32) {
		for i, v := range x {
			dst[i] = clamp(v*alpha+beta, 0, 1)
		}
	},
	uHardSwish: func(dst, x []float32, _, _ float32) {
		for i, v := range x {
			dst[i] = v * clamp((v+3)*(1.0/6), 0, 1)
		}
	},
	uNeg: func(dst, x []float32, _, _ float32) {
		for i, v := range x {
			dst[i] = -v
		}
	},
	uAbs: func(dst, x []float32, _, _ float32) {
		for i, v := range x {
			dst[i] = math.Float32frombits(math.Float32bits(v) &^ (1 << 31))
		}
	},
	uSqrt: func(dst, x []float32, _, _ float32) {
		for i, v := range x {
			dst[i] = float32(math.Sqrt(float64(v)))
		}
	},
	uRecip: func(dst, x []float32, _, _ float32) {
		for i, v := range x {
			dst[i] = 1 / v
		}
	},
	uExp: func(dst, x []float32, c, _ float32) {
		for i, v := range x {
			dst[i] = exp32(v - c)
		}
	},
	uSigmoid: func(dst, x []float32, _, _ float32) {
		for i, v := range x {
			dst[i] = sigmoid32(v)
		}
	},
	uSiLU: func(dst, x []float32, _, _ float32) {
		for i, v := range x {
			dst[i] = v / (1 + exp32(-v))
		}
	},
	uTanh: func(dst, x []float32, _, _ float32) {
		for i, v := range x {
			dst[i] = tanh32(v)
		}
	},
}

// clamp keeps NaN.
func clamp(v, lo, hi float32) float32 {
	if v < lo {
		v = lo
	}
	if v > hi {
		v = hi
	}
	return v
}

func leaky(v, alpha float32) float32 {
	if math.Signbit(float64(v)) { // as the assembly: on the sign bit
		return v * alpha
	}
	return v
}

// The binary loops are instantiated per op: generic over a zero-size type
// whose method the compiler inlines, so there is no call per element.

type (
	addF   struct{}
	subF   struct{}
	mulF   struct{}
	divF   struct{}
	maxF   struct{}
	minF   struct{}
	preluF struct{}
)

func (addF) f(a, b float32) float32   { return a + b }
func (subF) f(a, b float32) float32   { return a - b }
func (mulF) f(a, b float32) float32   { return a * b }
func (divF) f(a, b float32) float32   { return a / b }
func (maxF) f(a, b float32) float32   { return max(a, b) }
func (minF) f(a, b float32) float32   { return min(a, b) }
func (preluF) f(a, b float32) float32 { return leaky(a, b) }

type binFn interface{ f(a, b float32) float32 }

func vv[F binFn](dst, a, b []float32) {
	var op F
	b = b[:len(a)]
	dst = dst[:len(a)]
	for i, v := range a {
		dst[i] = op.f(v, b[i])
	}
}

func vs[F binFn](dst, a []float32, s float32) {
	var op F
	dst = dst[:len(a)]
	for i, v := range a {
		dst[i] = op.f(v, s)
	}
}

func sv[F binFn](dst, b []float32, s float32) {
	var op F
	dst = dst[:len(b)]
	for i, v := range b {
		dst[i] = op.f(s, v)
	}
}

var vvGo = [numOps]func(dst, a, b []float32){
	Add: vv[addF], Sub: vv[subF], Mul: vv[mulF], Div: vv[divF], Max: vv[maxF], Min: vv[minF], PRelu: vv[preluF],
}

var vsGo = [numOps]func(dst, a []float32, s float32){
	Add: vs[addF], Sub: vs[subF], Mul: vs[mulF], Div: vs[divF], Max: vs[maxF], Min: vs[minF], PRelu: vs[preluF],
}

var svGo = [numOps]func(dst, b []float32, s float32){Sub: sv[subF], Div: sv[divF]}

func sumGo(x []float32) float64 {
	s := 0.0
	for _, v := range x {
		s += float64(v)
	}
	return s
}

func maxGo(x []float32) float32 {
	m := negInf
	for _, v := range x {
		if v > m {
			m = v
		}
	}
	return m
}
