package kern

import "math"

// Scalar float32 versions of the vector exp, sigmoid and tanh (the Go
// twins of the assembly; asmgen/main.go documents the method).
//
// exp(x) = 2^k * exp(r), k = round(x/ln2), r = x - k*ln2 in [-ln2/2, ln2/2]:
// ln2 is split into a high part with few significant bits (so k*ln2hi is
// exact) and a low correction, and exp(r) is its degree-7 Taylor
// polynomial, whose truncation error (< 6e-9) stays below half an ulp.
// Results are within 2 ulp of the correctly rounded ones.

const (
	ln2hi = 0.693359375
	ln2lo = -2.12194440e-4
	log2e = 1.4426950408889634
	// expLo is where exp flushes to zero (the true results are below
	// 2^-125); expHi lies above ln(MaxFloat32), so it overflows to +Inf.
	expLo = -86.9
	expHi = 88.73
)

// expm1Poly returns (exp(r)-1)/r by its Taylor polynomial.
func expm1Poly(r float32) float32 {
	p := float32(1.0 / 5040)
	p = p*r + 1.0/720
	p = p*r + 1.0/120
	p = p*r + 1.0/24
	p = p*r + 1.0/6
	p = p*r + 1.0/2
	return p*r + 1
}

// roundMagic is 1.5*2^23: adding and subtracting it rounds a float32 of
// magnitude below 2^22 to an integer, to nearest even, in two adds.
const roundMagic = 12582912

// reduce returns k and r.
func reduce(x float32) (k, r float32) {
	k = x*log2e + roundMagic
	k -= roundMagic
	r = x - k*ln2hi
	r -= k * ln2lo
	return k, r
}

// pow2 returns 2^k for an integer k in [-126, 127].
func pow2(k float32) float32 { return math.Float32frombits(uint32(int32(k)+127) << 23) }

func exp32(x float32) float32 {
	if x != x {
		return x
	}
	x = min(max(x, expLo), expHi)
	if x == expLo {
		return 0
	}
	k, r := reduce(x)
	// 2^(k-1) * 2: k may be 128.
	return (expm1Poly(r)*r + 1) * pow2(k-1) * 2
}

func sigmoid32(x float32) float32 { return 1 / (1 + exp32(-x)) }

// tanh32 computes tanh(|x|) = -e/(2+e) with e = expm1(-2|x|), evaluated as
// 2^k*expm1(r) + (2^k - 1) so small arguments keep their relative
// precision, and copies x's sign.
func tanh32(x float32) float32 {
	u := -2 * float32(math.Abs(float64(x)))
	if u != u {
		return x
	}
	u = max(u, expLo)
	k, r := reduce(u)
	s := pow2(k)
	e := s*(expm1Poly(r)*r) + (s - 1)
	t := (0 - e) / (e + 2)
	return float32(math.Copysign(float64(t), float64(x)))
}
