package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The dispatching functions (assembly where the CPU has AVX2) are checked
// against the Go twins on every length up to a few vectors, so the
// unrolled loop, the single-vector loop and each masked tail length run.

func lengths() []int {
	var ns []int
	for n := 0; n <= 67; n++ {
		ns = append(ns, n)
	}
	return append(ns, 128, 1000, 4099)
}

// ulps is the distance in representable float32s; NaNs are equal to each
// other and infinitely far from anything else; +0 and -0 are equal.
func ulps(a, b float32) float64 {
	if a != a || b != b {
		if a != a && b != b {
			return 0
		}
		return math.Inf(1)
	}
	if a == b {
		return 0
	}
	key := func(v float32) int64 {
		u := int64(math.Float32bits(v))
		if u >= 1<<31 {
			return -(u - 1<<31)
		}
		return u
	}
	return math.Abs(float64(key(a) - key(b)))
}

// data returns n values: uniform in [-scale, scale) with a few specials
// sprinkled in (zeros, infinities, NaN, huge values) when specials is set.
func data(r *rand.Rand, n int, scale float32, specials bool) []float32 {
	x := make([]float32, n)
	sp := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
		float32(math.NaN()), 1e30, -1e30, 1e-30, -1e-30, math.MaxFloat32}
	for i := range x {
		x[i] = (r.Float32()*2 - 1) * scale
		if specials && r.IntN(8) == 0 {
			x[i] = sp[r.IntN(len(sp))]
		}
	}
	return x
}

func TestUnaryMatchesTwin(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	cases := []struct {
		name   string
		k      unaryKind
		p0, p1 float32
		scale  float32
		tol    float64 // ulps
		fused  bool    // one FMA: allow the error of an unfused x*p0+p1
	}{
		{"Relu", uRelu, 0, 0, 10, 0, false},
		{"Clamp", uClamp, -1, 6, 10, 0, false},
		{"ClampCrossed", uClamp, 2, 1, 10, 0, false},
		{"Leaky", uLeaky, 0.1, 0, 10, 0, false},
		{"ScaleShift", uScaleShift, 1.7, -0.3, 10, 1, true},
		{"ScaleShiftRelu", uScaleShiftRelu, 1.7, -0.3, 10, 1, true},
		{"HardSigmoid", uHardSigmoid, 0.2, 0.5, 10, 1, true},
		{"HardSwish", uHardSwish, 1.0 / 6, 0.5, 10, 2, false},
		{"Neg", uNeg, 0, 0, 10, 0, false},
		{"Abs", uAbs, 0, 0, 10, 0, false},
		{"Sqrt", uSqrt, 0, 0, 10, 0, false},
		{"Recip", uRecip, 0, 0, 10, 0, false},
		{"Exp", uExp, 0, 0, 100, 3, false},
		{"ExpShift", uExp, 3.5, 0, 20, 3, false},
		{"Sigmoid", uSigmoid, 0, 0, 30, 4, false},
		{"Tanh", uTanh, 0, 0, 10, 4, false},
		{"TanhSmall", uTanh, 0, 0, 1e-3, 4, false},
		{"SiLU", uSiLU, 0, 0, 30, 4, false},
	}
	for _, c := range cases {
		for _, specials := range []bool{false, true} {
			for _, n := range lengths() {
				x := data(r, n, c.scale, specials)
				got, want := make([]float32, n), make([]float32, n)
				unary(c.k, got, x, c.p0, c.p1)
				unaryGo[c.k](want, x, c.p0, c.p1)
				for i := range x {
					if c.fused && closeFused(got[i], want[i], x[i], c.p0, c.p1) {
						continue
					}
					if d := ulps(got[i], want[i]); d > c.tol {
						t.Fatalf("%s n=%d: x[%d]=%g: got %g, twin %g (%g ulp)", c.name, n, i, x[i], got[i], want[i], d)
					}
				}
				// In place gives the same result.
				y := append([]float32(nil), x...)
				unary(c.k, y, y, c.p0, c.p1)
				for i := range y {
					if ulps(y[i], got[i]) != 0 {
						t.Fatalf("%s n=%d in place: element %d differs", c.name, n, i)
					}
				}
			}
		}
	}
}

// TestTranscendentalAccuracy sweeps exp, sigmoid and tanh (assembly and
// twin) against float64 math.
// closeFused accepts results of x*m+a (times x for HardSwish) that differ
// by the rounding of the product: a few ulp of the terms, not the result.
func closeFused(got, want, x, m, a float32) bool {
	terms := math.Abs(float64(x*m)) + math.Abs(float64(a))
	terms *= math.Max(1, math.Abs(float64(x)))
	return math.Abs(float64(got)-float64(want)) <= 3*terms*0x1p-24
}

func TestTranscendentalAccuracy(t *testing.T) {
	const n = 200003
	fns := []struct {
		name   string
		k      unaryKind
		lo, hi float64
		ref    func(float64) float64
		tol    float64
	}{
		{"exp", uExp, -86, 88.7, math.Exp, 2},
		{"exp-small", uExp, -1e-3, 1e-3, math.Exp, 1},
		{"sigmoid", uSigmoid, -80, 80, func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }, 3},
		{"tanh", uTanh, -10, 10, math.Tanh, 3},
		{"tanh-small", uTanh, -0.01, 0.01, math.Tanh, 3},
		{"silu", uSiLU, -80, 80, func(x float64) float64 { return x / (1 + math.Exp(-x)) }, 3},
	}
	for _, f := range fns {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(f.lo + (f.hi-f.lo)*float64(i)/(n-1))
		}
		got := make([]float32, n)
		twin := make([]float32, n)
		unary(f.k, got, x, 0, 0)
		unaryGo[f.k](twin, x, 0, 0)
		worst := 0.0
		for i, v := range x {
			want := float32(f.ref(float64(v)))
			if math.Abs(float64(want)) < math.SmallestNonzeroFloat32*(1<<24) && f.k != uTanh {
				continue // denormal results: absolute error only
			}
			for _, g := range []float32{got[i], twin[i]} {
				d := ulps(g, want)
				worst = max(worst, d)
				if d > f.tol {
					t.Fatalf("%s(%g) = %g, want %g (%g ulp)", f.name, v, g, want, d)
				}
			}
		}
		t.Logf("%s: worst %g ulp", f.name, worst)
	}
	// Limits and specials.
	specials := []struct {
		k    unaryKind
		x    float32
		want float32
	}{
		{uExp, float32(math.Inf(1)), float32(math.Inf(1))},
		{uExp, 89, float32(math.Inf(1))},
		{uExp, float32(math.Inf(-1)), 0},
		{uExp, -1000, 0},
		{uExp, 0, 1},
		{uExp, 88.72, float32(math.Exp(float64(float32(88.72))))},
		{uSigmoid, float32(math.Inf(1)), 1},
		{uSigmoid, float32(math.Inf(-1)), 0},
		{uSigmoid, 0, 0.5},
		{uTanh, float32(math.Inf(1)), 1},
		{uTanh, float32(math.Inf(-1)), -1},
		{uTanh, 0, 0},
		{uTanh, 1e-30, 1e-30},
	}
	for _, s := range specials {
		for _, n := range []int{1, 9} { // masked tail and full vector
			x := make([]float32, n)
			for i := range x {
				x[i] = s.x
			}
			y := make([]float32, n)
			unary(s.k, y, x, 0, 0)
			z := make([]float32, n)
			unaryGo[s.k](z, x, 0, 0)
			for i := range y {
				if ulps(y[i], s.want) > 1 || ulps(z[i], s.want) > 1 {
					t.Errorf("kind %d at %g: got %g (twin %g), want %g", s.k, s.x, y[i], z[i], s.want)
				}
			}
		}
	}
	nan := float32(math.NaN())
	for _, k := range []unaryKind{uExp, uSigmoid, uTanh, uRelu, uClamp} {
		y := make([]float32, 3)
		unary(k, y, []float32{nan, nan, nan}, 0, 1)
		if y[0] == y[0] {
			t.Errorf("kind %d of NaN = %g", k, y[0])
		}
	}
}

func TestBinaryMatchesTwin(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for op := range numOps {
		for _, n := range lengths() {
			a, b := data(r, n, 10, true), data(r, n, 10, true)
			s := data(r, 1, 10, false)[0]
			check := func(form string, got, want []float32) {
				for i := range got {
					if ulps(got[i], want[i]) != 0 {
						t.Fatalf("op %d %s n=%d: element %d: got %g, want %g", op, form, n, i, got[i], want[i])
					}
				}
			}
			got, want := make([]float32, n), make([]float32, n)
			Apply(op, got, a, b)
			vvGo[op](want, a, b)
			check("vv", got, want)
			ApplyVS(op, got, a, s)
			vsGo[op](want, a, s)
			check("vs", got, want)
			if op != PRelu {
				ApplySV(op, got, s, b)
				for i := range want {
					want[i] = scalarOp(op, s, b[i])
				}
				check("sv", got, want)
			}
			// dst aliasing an operand.
			c := append([]float32(nil), a...)
			Apply(op, c, c, b)
			vvGo[op](want, a, b)
			check("vv in place", c, want)
		}
	}
}

func scalarOp(op Op, a, b float32) float32 {
	w := []float32{0}
	vvGo[op](w, []float32{a}, []float32{b})
	return w[0]
}

func TestBinarySemantics(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	cases := []struct {
		op      Op
		a, b, w float32
	}{
		{Max, nan, 1, nan}, {Max, 1, nan, nan}, {Max, 2, 1, 2}, {Max, -inf, 1, 1},
		{Min, nan, 1, nan}, {Min, 1, nan, nan}, {Min, 2, 1, 1},
		{PRelu, -2, 0.5, -1}, {PRelu, 2, 0.5, 2},
		{Div, 1, 0, inf}, {Sub, 1, 3, -2},
	}
	for _, c := range cases {
		for _, n := range []int{1, 8, 33} {
			a, b, y := make([]float32, n), make([]float32, n), make([]float32, n)
			for i := range a {
				a[i], b[i] = c.a, c.b
			}
			Apply(c.op, y, a, b)
			if ulps(y[n-1], c.w) != 0 {
				t.Errorf("op %d(%g, %g) = %g, want %g", c.op, c.a, c.b, y[n-1], c.w)
			}
		}
	}
}

func TestReductions(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range lengths() {
		x := data(r, n, 100, false)
		if got, want := SumOf(x), sumGo(x); math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
			t.Fatalf("SumOf n=%d: %g, want %g", n, got, want)
		}
		if got, want := MaxOf(x), maxGo(x); got != want {
			t.Fatalf("MaxOf n=%d: %g, want %g", n, got, want)
		}
		if n > 0 {
			// The maximum at every position, including the tail.
			for _, at := range []int{0, n / 2, n - 1} {
				y := append([]float32(nil), x...)
				y[at] = 1000
				if got := MaxOf(y); got != 1000 {
					t.Fatalf("MaxOf n=%d with max at %d: %g", n, at, got)
				}
			}
			// All negative: masked lanes must not contribute zeros.
			y := make([]float32, n)
			for i := range y {
				y[i] = -5 - float32(i)
			}
			if got := MaxOf(y); got != -5 {
				t.Fatalf("MaxOf negative n=%d: %g", n, got)
			}
		}
	}
	if MaxOf(nil) != negInf || SumOf(nil) != 0 {
		t.Fatal("empty reductions")
	}
}

func TestPoolRows(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, ks := range [][2]int{{2, 2}, {3, 2}, {3, 1}, {2, 1}, {4, 3}, {1, 1}} {
		k, s := ks[0], ks[1]
		for _, sum := range []bool{false, true} {
			for n := 1; n <= 67; n++ {
				for extra := 0; extra <= 1; extra++ {
					v := data(r, (n-1)*s+k+extra, 10, false)
					got, want := make([]float32, n), make([]float32, n)
					poolRow(sum, got, v, k, s)
					poolRowGo(sum, want, v, k, s)
					for i := range got {
						// Sums may associate differently: allow 2 ulp.
						if d := ulps(got[i], want[i]); d > 2 || !sum && d != 0 {
							t.Fatalf("k=%d s=%d sum=%v n=%d: out %d got %g want %g", k, s, sum, n, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

// refPool2D is the direct definition: every window, every tap.
func refPool2D(p *Pool2D, src []float32) []float32 {
	out := make([]float32, p.OH*p.OW)
	for oh := range p.OH {
		for ow := range p.OW {
			acc, cnt, padded := float32(0), 0, 0
			if !p.Avg {
				acc = lowest
			}
			for q := range p.KH {
				for w := range p.KW {
					i, j := oh*p.SH-p.PadT+q, ow*p.SW-p.PadL+w
					if i >= -p.PadT && i < p.H+p.PadB && j >= -p.PadL && j < p.W+p.PadR {
						padded++
					}
					if i < 0 || i >= p.H || j < 0 || j >= p.W {
						continue
					}
					cnt++
					v := src[i*p.W+j]
					if p.Avg {
						acc += v
					} else {
						acc = max(acc, v)
					}
				}
			}
			if p.Avg {
				if p.IncludePad {
					cnt = padded
				}
				acc /= float32(cnt)
			}
			out[oh*p.OW+ow] = acc
		}
	}
	return out
}

func TestPool2D(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, win := range [][4]int{{3, 3, 2, 2}, {2, 2, 2, 2}, {3, 3, 1, 1}, {2, 3, 1, 2}, {5, 5, 3, 3}, {1, 1, 2, 2}} {
		kh, kw, sh, sw := win[0], win[1], win[2], win[3]
		for _, pad := range [][4]int{{0, 0, 0, 0}, {1, 1, 1, 1}, {0, 1, 1, 0}, {1, 0, 0, 2}} {
			if pad[0] >= kh || pad[1] >= kw || pad[2] >= kh || pad[3] >= kw {
				continue
			}
			for _, hw := range [][2]int{{1, 1}, {5, 7}, {7, 5}, {16, 33}, {13, 67}, {8, 112}} {
				h, w := hw[0], hw[1]
				for _, ceil := range []bool{false, true} {
					for _, mode := range []int{0, 1, 2} { // max, avg, avg including pads
						p := Pool2D{H: h, W: w, KH: kh, KW: kw, SH: sh, SW: sw,
							PadT: pad[0], PadL: pad[1], PadB: pad[2], PadR: pad[3], Avg: mode > 0, IncludePad: mode == 2}
						p.OH, p.OW = outSize(h, kh, sh, pad[0], pad[2], ceil), outSize(w, kw, sw, pad[1], pad[3], ceil)
						if p.OH < 1 || p.OW < 1 {
							continue
						}
						src := data(r, h*w, 10, false)
						got := make([]float32, p.OH*p.OW)
						p.Plane(got, src, make([]float32, p.ScratchLen()))
						want := refPool2D(&p, src)
						name := fmt.Sprintf("%+v", p)
						for i := range got {
							// Sums associate differently: compare averages
							// absolutely (inputs are at most 10).
							if d := ulps(got[i], want[i]); mode == 0 && d != 0 ||
								mode > 0 && d != 0 && !(math.Abs(float64(got[i]-want[i])) < 1e-5) {
								t.Fatalf("%s: out %d: got %g want %g", name, i, got[i], want[i])
							}
						}
					}
				}
			}
		}
	}
}

// outSize is the ONNX pooling output size, ceil_mode included.
func outSize(in, k, s, pb, pe int, ceil bool) int {
	room := in + pb + pe - k
	if room < 0 {
		return 0
	}
	if !ceil {
		return room/s + 1
	}
	out := (room+s-1)/s + 1
	if (out-1)*s >= in+pb {
		out--
	}
	return out
}
