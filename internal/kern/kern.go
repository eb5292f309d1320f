package kern

// Kernel indices of the dispatch tables (the assembly tables are generated
// with these names as keys).

// unaryKind selects an elementwise unary kernel; p0 and p1 are its
// parameters (unused ones are ignored).
type unaryKind uint8

const (
	uRelu           unaryKind = iota
	uClamp                    // p0 <= x <= p1
	uLeaky                    // x < 0 ? p0*x : x
	uScaleShift               // x*p0 + p1
	uScaleShiftRelu           // max(x*p0 + p1, 0)
	uHardSigmoid              // clamp(p0*x + p1, 0, 1)
	uHardSwish                // x * clamp((x+3)/6, 0, 1)
	uNeg
	uAbs
	uSqrt
	uRecip
	uExp // exp(x - p0)
	uSigmoid
	uTanh
	uSiLU // x * sigmoid(x)
	numUnary
)

// Op is a binary elementwise operation.
type Op uint8

const (
	Add Op = iota
	Sub
	Mul
	Div
	Max // NaN if either operand is NaN
	Min
	PRelu // a < 0 ? a*b : a
	numOps
)

// commutative ops have no scalar-first kernel: the operands are swapped.
var commutative = [numOps]bool{Add: true, Mul: true, Max: true, Min: true}

type poolKind uint8

const (
	pMaxS2K2 poolKind = iota
	pMaxS2K3
	pMaxS1K3
	pSumS2K2
	pSumS2K3
	pSumS1K3
	numPool
)

func checkLen(dst, x []float32) int {
	if len(dst) != len(x) {
		panic("kern: operand lengths differ")
	}
	return len(x)
}

func unary(k unaryKind, dst, x []float32, p0, p1 float32) {
	n := checkLen(dst, x)
	if n == 0 {
		return
	}
	if useAVX2 {
		unaryAVX2[k](&dst[0], &x[0], n, p0, p1)
		return
	}
	unaryGo[k](dst, x, p0, p1)
}

// Relu sets dst = max(x, 0). dst may be x.
func Relu(dst, x []float32) { unary(uRelu, dst, x, 0, 0) }

// Clamp sets dst = min(max(x, lo), hi) (hi wins when lo > hi, as in
// ONNX Clip).
func Clamp(dst, x []float32, lo, hi float32) { unary(uClamp, dst, x, lo, hi) }

// LeakyRelu sets dst = x < 0 ? alpha*x : x.
func LeakyRelu(dst, x []float32, alpha float32) { unary(uLeaky, dst, x, alpha, 0) }

// ScaleShift sets dst = x*m + a (one fused multiply-add).
func ScaleShift(dst, x []float32, m, a float32) { unary(uScaleShift, dst, x, m, a) }

// ScaleShiftRelu sets dst = max(x*m + a, 0): BatchNormalization and Relu
// in one pass, for graphs that fuse them.
func ScaleShiftRelu(dst, x []float32, m, a float32) { unary(uScaleShiftRelu, dst, x, m, a) }

// HardSigmoid sets dst = clamp(alpha*x + beta, 0, 1).
func HardSigmoid(dst, x []float32, alpha, beta float32) {
	unary(uHardSigmoid, dst, x, alpha, beta)
}

// HardSwish sets dst = x * clamp((x+3)/6, 0, 1).
func HardSwish(dst, x []float32) { unary(uHardSwish, dst, x, 0, 0) }

// Neg sets dst = -x.
func Neg(dst, x []float32) { unary(uNeg, dst, x, 0, 0) }

// Abs sets dst = |x|.
func Abs(dst, x []float32) { unary(uAbs, dst, x, 0, 0) }

// Sqrt sets dst = sqrt(x), correctly rounded.
func Sqrt(dst, x []float32) { unary(uSqrt, dst, x, 0, 0) }

// Reciprocal sets dst = 1/x, correctly rounded.
func Reciprocal(dst, x []float32) { unary(uRecip, dst, x, 0, 0) }

// Exp sets dst = exp(x).
func Exp(dst, x []float32) { unary(uExp, dst, x, 0, 0) }

// ExpShift sets dst = exp(x - c); Softmax passes the row maximum.
func ExpShift(dst, x []float32, c float32) { unary(uExp, dst, x, c, 0) }

// Sigmoid sets dst = 1/(1+exp(-x)).
func Sigmoid(dst, x []float32) { unary(uSigmoid, dst, x, 0, 0) }

// SiLU sets dst = x * sigmoid(x) = x / (1+exp(-x)) (also called Swish),
// for graphs that fuse Sigmoid and Mul.
func SiLU(dst, x []float32) { unary(uSiLU, dst, x, 0, 0) }

// Tanh sets dst = tanh(x).
func Tanh(dst, x []float32) { unary(uTanh, dst, x, 0, 0) }

// Apply sets dst[i] = a[i] op b[i]. dst may be a or b.
func Apply(op Op, dst, a, b []float32) {
	n := checkLen(dst, a)
	checkLen(dst, b)
	if n == 0 {
		return
	}
	if useAVX2 {
		vvAVX2[op](&dst[0], &a[0], &b[0], n)
		return
	}
	vvGo[op](dst, a, b)
}

// ApplyVS sets dst[i] = a[i] op s.
func ApplyVS(op Op, dst, a []float32, s float32) {
	n := checkLen(dst, a)
	if n == 0 {
		return
	}
	if useAVX2 {
		vsAVX2[op](&dst[0], &a[0], n, s)
		return
	}
	vsGo[op](dst, a, s)
}

// ApplySV sets dst[i] = s op b[i]. PRelu has no scalar-first form.
func ApplySV(op Op, dst []float32, s float32, b []float32) {
	if op == PRelu {
		panic("kern: PRelu with a scalar input")
	}
	if commutative[op] {
		ApplyVS(op, dst, b, s)
		return
	}
	n := checkLen(dst, b)
	if n == 0 {
		return
	}
	if useAVX2 {
		svAVX2[op](&dst[0], &b[0], n, s)
		return
	}
	svGo[op](dst, b, s)
}

// SumOf returns the sum of x, accumulated in float64.
func SumOf(x []float32) float64 {
	if len(x) == 0 {
		return 0
	}
	if useAVX2 {
		return sumAVX2(&x[0], len(x))
	}
	return sumGo(x)
}

// MaxOf returns the largest element of x, or -Inf when x is empty. Which
// value it returns when x holds a NaN is unspecified.
func MaxOf(x []float32) float32 {
	if len(x) == 0 {
		return negInf
	}
	if useAVX2 {
		return maxAVX2(&x[0], len(x))
	}
	return maxGo(x)
}
