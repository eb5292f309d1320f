// Command asmgen writes the amd64 AVX2+FMA kernels of package
// stride/internal/kern: zkern_amd64.s and the Go declarations and
// dispatch tables in zkern_amd64.go.
//
// Elementwise kernels share one loop skeleton (four vectors per iteration
// where registers allow, then one, then a masked tail with VMASKMOVPS, so
// the Go side never handles leftovers); each kernel only supplies the
// constants it keeps in registers and the instructions applied to one
// vector. Reductions and the pooling row kernels are written out below.
//
// Run from this directory:
//
//	go run . -out ..
//
// It lives in its own module so the main module does not depend on it.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"log"
	"math"
	"os"
	"path/filepath"
	"strings"
)

// sig is a kernel's Go signature.
type sig int

const (
	sigUnary sig = iota // func(dst, x *float32, n int, p0, p1 float32)
	sigVV               // func(dst, a, b *float32, n int)
	sigVS               // func(dst, a *float32, n int, s float32)
)

// mapKernel is one elementwise kernel.
type mapKernel struct {
	name  string // Go function name
	key   string // index constant in the Go dispatch table
	sig   sig
	ntemp int // temporaries one vector's body needs
	// setup loads the constants (into Y8..Y14) before the loop.
	setup func(g *gen)
	// body computes one vector in place in x; b is the second operand
	// (binary kernels), t the temporaries.
	body func(g *gen, x, b string, t []string)
}

type gen struct {
	b      bytes.Buffer
	consts map[string]bool
	cbuf   bytes.Buffer
}

func (g *gen) p(format string, args ...any) { fmt.Fprintf(&g.b, "\t"+format+"\n", args...) }
func (g *gen) label(l string)               { fmt.Fprintf(&g.b, "%s:\n", l) }

// vec returns the name of a read-only 32-byte constant holding eight
// copies of the float32 (or int32) bit pattern v, defining it on first use.
func (g *gen) vec(name string, v uint32) string {
	sym := name + "<>(SB)"
	if g.consts[name] {
		return sym
	}
	g.consts[name] = true
	for i := 0; i < 8; i++ {
		fmt.Fprintf(&g.cbuf, "DATA %s<>+%d(SB)/4, $0x%08x\n", name, 4*i, v)
	}
	fmt.Fprintf(&g.cbuf, "GLOBL %s<>(SB), RODATA|NOPTR, $32\n\n", name)
	return sym
}

func f32(v float64) uint32 { return math.Float32bits(float32(v)) }

// load puts a constant vector into register r.
func (g *gen) load(name string, v uint32, r string) { g.p("VMOVUPS %s, %s", g.vec(name, v), r) }

// param broadcasts a float32 argument into register r.
func (g *gen) param(arg string, off int, r string) { g.p("VBROADCASTSS %s+%d(FP), %s", arg, off, r) }

// Exp support. exp(x) = 2^k * exp(r) with k = round(x/ln2) and
// r = x - k*ln2 in [-ln2/2, ln2/2]; ln2 is split in a high part with few
// bits (k*ln2hi is exact) and a low correction. exp(r) is its Taylor
// polynomial to degree 7, whose truncation error (< 6e-9) is below half an
// ulp. The scale 2^k is built in the exponent bits as 2^(k-1) times 2, so
// that k = 128 (x just below ln(MaxFloat32)) still yields a finite result.
const (
	ln2hi  = 0.693359375
	ln2lo  = -2.12194440e-4
	expLo  = -86.9 // below this exp flushes to zero (results < 2^-125)
	expHi  = 88.73 // above ln(MaxFloat32): overflows to +Inf
	log2e  = 1.4426950408889634
	fMinus = 0x80000000
	fAbs   = 0x7fffffff
)

var taylor = []float64{1.0 / 5040, 1.0 / 720, 1.0 / 120, 1.0 / 24, 1.0 / 6, 1.0 / 2}

// expSetup loads the registers expCore expects.
func expSetup(g *gen) {
	g.load("expLo", f32(expLo), "Y8")
	g.load("expHi", f32(expHi), "Y9")
	g.load("log2e", f32(log2e), "Y10")
	g.load("bias126", 126, "Y11")
}

// reduce leaves k = round(x*log2e) in a and r = x - k*ln2 in b.
func (g *gen) reduce(x, a, b string) {
	g.p("VMULPS Y10, %s, %s", x, a)
	g.p("VROUNDPS $0, %s, %s", a, a)
	g.p("VMOVAPS %s, %s", x, b)
	g.p("VFNMADD231PS %s, %s, %s", g.vec("ln2hi", f32(ln2hi)), a, b)
	g.p("VFNMADD231PS %s, %s, %s", g.vec("ln2lo", f32(ln2lo)), a, b)
}

// poly sets c to the Taylor polynomial of exp(r)-1 divided by r, that is
// 1 + r/2 + ... + r^6/5040, for r in b.
func (g *gen) poly(b, c string) {
	g.p("VMOVUPS %s, %s", g.vec("c7", f32(taylor[0])), c)
	for i, v := range taylor[1:] {
		g.p("VFMADD213PS %s, %s, %s", g.vec(fmt.Sprintf("c%d", 6-i), f32(v)), b, c)
	}
	g.p("VFMADD213PS %s, %s, %s", g.vec("one", f32(1)), b, c)
}

// expCore replaces x by exp(x) using temporaries a, b, c and the registers
// of expSetup. NaN propagates: the clamps return x when it is NaN.
func (g *gen) expCore(x, a, b, c string) {
	g.p("VMAXPS %s, Y8, %s", x, x)
	g.p("VMINPS %s, Y9, %s", x, x)
	g.reduce(x, a, b)
	g.poly(b, c)
	g.p("VFMADD213PS %s, %s, %s", g.vec("one", f32(1)), b, c) // exp(r)
	g.p("VCVTPS2DQ %s, %s", a, a)
	g.p("VPADDD Y11, %s, %s", a, a)
	g.p("VPSLLD $23, %s, %s", a, a)
	g.p("VMULPS %s, %s, %s", a, c, c)
	g.p("VADDPS %s, %s, %s", c, c, c)
	// x clamped to expLo means the result is (nearly) zero.
	g.p("VCMPPS $4, Y8, %s, %s", x, a) // x != lo, or unordered
	g.p("VANDPS %s, %s, %s", a, c, x)
}

// max2 sets x = max(x, b) propagating a NaN in either operand (VMAXPS
// alone returns its second source when either is NaN).
func maxmin(inst string) func(g *gen, x, b string, t []string) {
	return func(g *gen, x, b string, t []string) {
		g.p("%s %s, %s, %s", inst, b, x, t[0]) // x op b, NaN -> b
		g.p("VCMPPS $3, %s, %s, %s", x, x, t[1])
		g.p("VBLENDVPS %s, %s, %s, %s", t[1], x, t[0], x)
	}
}

func simple(inst string) func(g *gen, x, b string, t []string) {
	return func(g *gen, x, b string, t []string) { g.p("%s %s, %s, %s", inst, b, x, x) }
}

// reversed computes x = b op x (b is the broadcast scalar).
func reversed(inst string) func(g *gen, x, b string, t []string) {
	return func(g *gen, x, b string, t []string) { g.p("%s %s, %s, %s", inst, x, b, x) }
}

// prelu: x < 0 (sign bit set) ? x*b : x. BLENDV selects on the sign bit.
func prelu(g *gen, x, b string, t []string) {
	g.p("VMULPS %s, %s, %s", b, x, t[0])
	g.p("VBLENDVPS %s, %s, %s, %s", x, t[0], x, x)
}

func noSetup(*gen) {}

var unary = []mapKernel{
	{name: "reluAVX2", key: "uRelu",
		setup: func(g *gen) { g.p("VXORPS Y8, Y8, Y8") },
		// max(0, x) with x as the source returned for NaN.
		body: func(g *gen, x, _ string, _ []string) { g.p("VMAXPS %s, Y8, %s", x, x) }},
	{name: "clampAVX2", key: "uClamp",
		setup: func(g *gen) { g.param("p0", 24, "Y8"); g.param("p1", 28, "Y9") },
		body: func(g *gen, x, _ string, _ []string) {
			g.p("VMAXPS %s, Y8, %s", x, x)
			g.p("VMINPS %s, Y9, %s", x, x)
		}},
	{name: "leakyAVX2", key: "uLeaky", ntemp: 1,
		setup: func(g *gen) { g.param("p0", 24, "Y14") },
		body:  func(g *gen, x, _ string, t []string) { prelu(g, x, "Y14", t) }},
	{name: "scaleShiftAVX2", key: "uScaleShift",
		setup: func(g *gen) { g.param("p0", 24, "Y8"); g.param("p1", 28, "Y9") },
		body:  func(g *gen, x, _ string, _ []string) { g.p("VFMADD213PS Y9, Y8, %s", x) }},
	// BatchNormalization followed by Relu, for graphs that fuse the two.
	{name: "scaleShiftReluAVX2", key: "uScaleShiftRelu",
		setup: func(g *gen) {
			g.param("p0", 24, "Y8")
			g.param("p1", 28, "Y9")
			g.p("VXORPS Y10, Y10, Y10")
		},
		body: func(g *gen, x, _ string, _ []string) {
			g.p("VFMADD213PS Y9, Y8, %s", x)
			g.p("VMAXPS %s, Y10, %s", x, x)
		}},
	{name: "hardSigmoidAVX2", key: "uHardSigmoid",
		setup: func(g *gen) {
			g.param("p0", 24, "Y8")
			g.param("p1", 28, "Y9")
			g.p("VXORPS Y10, Y10, Y10")
			g.load("one", f32(1), "Y11")
		},
		body: func(g *gen, x, _ string, _ []string) {
			g.p("VFMADD213PS Y9, Y8, %s", x)
			g.p("VMAXPS %s, Y10, %s", x, x)
			g.p("VMINPS %s, Y11, %s", x, x)
		}},
	{name: "hardSwishAVX2", key: "uHardSwish", ntemp: 1,
		// (x+3)/6 rather than x/6+1/2: exact near x = -3, where the
		// result is small.
		setup: func(g *gen) {
			g.load("sixth", f32(1.0/6), "Y8")
			g.load("three", f32(3), "Y9")
			g.p("VXORPS Y10, Y10, Y10")
			g.load("one", f32(1), "Y11")
		},
		body: func(g *gen, x, _ string, t []string) {
			g.p("VADDPS Y9, %s, %s", x, t[0])
			g.p("VMULPS Y8, %s, %s", t[0], t[0])
			g.p("VMAXPS %s, Y10, %s", t[0], t[0])
			g.p("VMINPS %s, Y11, %s", t[0], t[0])
			g.p("VMULPS %s, %s, %s", t[0], x, x)
		}},
	{name: "negAVX2", key: "uNeg",
		setup: func(g *gen) { g.load("minus", fMinus, "Y8") },
		body:  func(g *gen, x, _ string, _ []string) { g.p("VXORPS Y8, %s, %s", x, x) }},
	{name: "absAVX2", key: "uAbs",
		setup: func(g *gen) { g.load("absmask", fAbs, "Y8") },
		body:  func(g *gen, x, _ string, _ []string) { g.p("VANDPS Y8, %s, %s", x, x) }},
	{name: "sqrtAVX2", key: "uSqrt", setup: noSetup,
		body: func(g *gen, x, _ string, _ []string) { g.p("VSQRTPS %s, %s", x, x) }},
	{name: "recipAVX2", key: "uRecip",
		setup: func(g *gen) { g.load("one", f32(1), "Y8") },
		body:  func(g *gen, x, _ string, _ []string) { g.p("VDIVPS %s, Y8, %s", x, x) }},
	// exp(x - p0): Softmax passes the row maximum, Exp passes 0.
	{name: "expAVX2", key: "uExp", ntemp: 3,
		setup: func(g *gen) { expSetup(g); g.param("p0", 24, "Y12") },
		body: func(g *gen, x, _ string, t []string) {
			g.p("VSUBPS Y12, %s, %s", x, x)
			g.expCore(x, t[0], t[1], t[2])
		}},
	// 1 / (1 + exp(-x)): exact limits 0 and 1 for large |x|.
	{name: "sigmoidAVX2", key: "uSigmoid", ntemp: 3,
		setup: func(g *gen) {
			expSetup(g)
			g.load("one", f32(1), "Y12")
			g.load("minus", fMinus, "Y13")
		},
		body: func(g *gen, x, _ string, t []string) {
			g.p("VXORPS Y13, %s, %s", x, x)
			g.expCore(x, t[0], t[1], t[2])
			g.p("VADDPS Y12, %s, %s", x, x)
			g.p("VDIVPS %s, Y12, %s", x, x)
		}},
	// x * sigmoid(x) (SiLU, Swish), for fused Sigmoid+Mul.
	{name: "siluAVX2", key: "uSiLU", ntemp: 4,
		setup: func(g *gen) {
			expSetup(g)
			g.load("one", f32(1), "Y12")
			g.load("minus", fMinus, "Y13")
		},
		body: func(g *gen, x, _ string, t []string) {
			g.p("VMOVAPS %s, %s", x, t[3])
			g.p("VXORPS Y13, %s, %s", x, x)
			g.expCore(x, t[0], t[1], t[2])
			g.p("VADDPS Y12, %s, %s", x, x)
			g.p("VDIVPS %s, %s, %s", x, t[3], x)
		}},
	// tanh(|x|) = -e/(2+e) with e = expm1(-2|x|), computed as
	// 2^k*expm1(r) + (2^k - 1) so that small |x| keeps full relative
	// precision; the sign of x is then copied onto the result.
	{name: "tanhAVX2", key: "uTanh", ntemp: 3,
		setup: func(g *gen) {
			g.load("expLo", f32(expLo), "Y8")
			g.p("VXORPS Y9, Y9, Y9")
			g.load("log2e", f32(log2e), "Y10")
			g.load("bias127", 127, "Y11")
			g.load("one", f32(1), "Y12")
			g.load("two", f32(2), "Y13")
			g.load("minus", fMinus, "Y14")
		},
		body: func(g *gen, x, _ string, t []string) {
			a, b, c := t[0], t[1], t[2]
			g.p("VANDNPS %s, Y14, %s", x, b) // |x|
			g.p("VMULPS %s, %s, %s", g.vec("minus2", f32(-2)), b, b)
			g.p("VMAXPS %s, Y8, %s", b, b)
			g.reduce(b, a, b)
			g.poly(b, c)
			g.p("VMULPS %s, %s, %s", b, c, c) // expm1(r)
			g.p("VCVTPS2DQ %s, %s", a, a)
			g.p("VPADDD Y11, %s, %s", a, a)
			g.p("VPSLLD $23, %s, %s", a, a) // 2^k
			g.p("VSUBPS Y12, %s, %s", a, b)
			g.p("VFMADD213PS %s, %s, %s", b, a, c) // e
			g.p("VADDPS Y13, %s, %s", c, b)
			g.p("VSUBPS %s, Y9, %s", c, c)
			g.p("VDIVPS %s, %s, %s", b, c, c)
			g.p("VANDPS Y14, %s, %s", x, b)
			g.p("VORPS %s, %s, %s", b, c, x)
		}},
}

// binary ops: name suffix, table key, body, temporaries.
type binOp struct {
	name, key string
	body      func(g *gen, x, b string, t []string)
	ntemp     int
	rev       func(g *gen, x, b string, t []string) // scalar-first form, for non-commutative ops
}

var binOps = []binOp{
	{name: "add", key: "Add", body: simple("VADDPS")},
	{name: "sub", key: "Sub", body: simple("VSUBPS"), rev: reversed("VSUBPS")},
	{name: "mul", key: "Mul", body: simple("VMULPS")},
	{name: "div", key: "Div", body: simple("VDIVPS"), rev: reversed("VDIVPS")},
	{name: "max", key: "Max", body: maxmin("VMAXPS"), ntemp: 2},
	{name: "min", key: "Min", body: maxmin("VMINPS"), ntemp: 2},
	{name: "prelu", key: "PRelu", body: prelu, ntemp: 1},
}

// mapLoop emits one elementwise kernel.
//
// Registers: DI dst, SI first source, DX second source (VV), CX count,
// Y0..Y7 data and temporaries, Y8..Y14 constants, Y15 tail mask.
func (g *gen) mapLoop(k mapKernel) {
	srcName, frame := "x", 32
	switch k.sig {
	case sigVV:
		srcName = "a"
	case sigVS:
		srcName, frame = "a", 28
	}
	perVec := 1 + k.ntemp
	if k.sig == sigVV {
		perVec++
	}
	unroll := min(4, 8/perVec)
	g.b.WriteString(fmt.Sprintf("// func %s%s\n", k.name, goSig(k.sig)))
	g.b.WriteString(fmt.Sprintf("TEXT ·%s(SB), NOSPLIT, $0-%d\n", k.name, frame))
	g.p("MOVQ dst+0(FP), DI")
	g.p("MOVQ %s+8(FP), SI", srcName)
	if k.sig == sigVV {
		g.p("MOVQ b+16(FP), DX")
		g.p("MOVQ n+24(FP), CX")
	} else {
		g.p("MOVQ n+16(FP), CX")
	}
	if k.sig == sigVS {
		g.param("s", 24, "Y14")
	}
	k.setup(g)
	regs := func(u int) (x, b string, t []string) {
		base := u * perVec
		x = fmt.Sprintf("Y%d", base)
		next := base + 1
		if k.sig == sigVV {
			b = fmt.Sprintf("Y%d", next)
			next++
		} else if k.sig == sigVS {
			b = "Y14"
		}
		for i := 0; i < k.ntemp; i++ {
			t = append(t, fmt.Sprintf("Y%d", next+i))
		}
		return
	}
	block := func(u int, loadX, loadB func(off int, r string), store func(off int, r string)) {
		for i := 0; i < u; i++ {
			x, b, _ := regs(i)
			loadX(32*i, x)
			if k.sig == sigVV {
				loadB(32*i, b)
			}
		}
		for i := 0; i < u; i++ {
			x, b, t := regs(i)
			k.body(g, x, b, t)
		}
		for i := 0; i < u; i++ {
			x, _, _ := regs(i)
			store(32*i, x)
		}
	}
	plainX := func(off int, r string) { g.p("VMOVUPS %d(SI), %s", off, r) }
	plainB := func(off int, r string) { g.p("VMOVUPS %d(DX), %s", off, r) }
	plainS := func(off int, r string) { g.p("VMOVUPS %s, %d(DI)", r, off) }
	advance := func(elems int) {
		g.p("ADDQ $%d, SI", 4*elems)
		if k.sig == sigVV {
			g.p("ADDQ $%d, DX", 4*elems)
		}
		g.p("ADDQ $%d, DI", 4*elems)
		g.p("SUBQ $%d, CX", elems)
	}
	if unroll > 1 {
		g.label("loop")
		g.p("CMPQ CX, $%d", 8*unroll)
		g.p("JLT one")
		block(unroll, plainX, plainB, plainS)
		advance(8 * unroll)
		g.p("JMP loop")
	}
	g.label("one")
	g.p("CMPQ CX, $8")
	g.p("JLT tail")
	block(1, plainX, plainB, plainS)
	advance(8)
	g.p("JMP one")
	g.label("tail")
	g.p("TESTQ CX, CX")
	g.p("JEQ done")
	g.tailMask()
	block(1,
		func(_ int, r string) { g.p("VMASKMOVPS (SI), Y15, %s", r) },
		func(_ int, r string) { g.p("VMASKMOVPS (DX), Y15, %s", r) },
		func(_ int, r string) { g.p("VMASKMOVPS %s, Y15, (DI)", r) })
	g.label("done")
	g.p("VZEROUPPER")
	g.p("RET")
	g.b.WriteString("\n")
}

// tailMask sets Y15 to a mask of the first CX (1..7) lanes: a window of a
// table holding eight all-ones words followed by eight zeros. CX is
// clobbered.
func (g *gen) tailMask() {
	if !g.consts["tailmask"] {
		g.consts["tailmask"] = true
		for i := 0; i < 16; i++ {
			v := uint32(0)
			if i < 8 {
				v = 0xffffffff
			}
			fmt.Fprintf(&g.cbuf, "DATA tailmask<>+%d(SB)/4, $0x%08x\n", 4*i, v)
		}
		g.cbuf.WriteString("GLOBL tailmask<>(SB), RODATA|NOPTR, $64\n\n")
	}
	g.p("LEAQ tailmask<>+32(SB), AX")
	g.p("SHLQ $2, CX")
	g.p("SUBQ CX, AX")
	g.p("VMOVDQU (AX), Y15")
}

func goSig(s sig) string {
	switch s {
	case sigVV:
		return "(dst, a, b *float32, n int)"
	case sigVS:
		return "(dst, a *float32, n int, s float32)"
	}
	return "(dst, x *float32, n int, p0, p1 float32)"
}

// sum adds n float32 values in float64 (four accumulators of four lanes).
func (g *gen) sum() {
	g.b.WriteString("// func sumAVX2(x *float32, n int) float64\n")
	g.b.WriteString("TEXT ·sumAVX2(SB), NOSPLIT, $0-24\n")
	g.p("MOVQ x+0(FP), SI")
	g.p("MOVQ n+8(FP), CX")
	for i := 0; i < 4; i++ {
		g.p("VXORPD Y%d, Y%d, Y%d", i, i, i)
	}
	g.label("loop")
	g.p("CMPQ CX, $16")
	g.p("JLT four")
	for i := 0; i < 4; i++ {
		g.p("VCVTPS2PD %d(SI), Y%d", 16*i, 4+i)
	}
	for i := 0; i < 4; i++ {
		g.p("VADDPD Y%d, Y%d, Y%d", 4+i, i, i)
	}
	g.p("ADDQ $64, SI")
	g.p("SUBQ $16, CX")
	g.p("JMP loop")
	g.label("four")
	g.p("CMPQ CX, $4")
	g.p("JLT fold")
	g.p("VCVTPS2PD (SI), Y4")
	g.p("VADDPD Y4, Y0, Y0")
	g.p("ADDQ $16, SI")
	g.p("SUBQ $4, CX")
	g.p("JMP four")
	g.label("fold")
	g.p("VADDPD Y1, Y0, Y0")
	g.p("VADDPD Y3, Y2, Y2")
	g.p("VADDPD Y2, Y0, Y0")
	g.p("VEXTRACTF128 $1, Y0, X1")
	g.p("VADDPD X1, X0, X0")
	g.p("VHADDPD X0, X0, X0")
	g.label("tail")
	g.p("TESTQ CX, CX")
	g.p("JEQ done")
	g.p("VMOVSS (SI), X4")
	g.p("VCVTSS2SD X4, X4, X4")
	g.p("VADDSD X4, X0, X0")
	g.p("ADDQ $4, SI")
	g.p("DECQ CX")
	g.p("JMP tail")
	g.label("done")
	g.p("VZEROUPPER")
	g.p("MOVSD X0, ret+16(FP)")
	g.p("RET")
	g.b.WriteString("\n")
}

// max returns the largest of n >= 1 float32 values.
func (g *gen) max() {
	g.b.WriteString("// func maxAVX2(x *float32, n int) float32\n")
	g.b.WriteString("TEXT ·maxAVX2(SB), NOSPLIT, $0-20\n")
	g.p("MOVQ x+0(FP), SI")
	g.p("MOVQ n+8(FP), CX")
	ninf := g.vec("ninf", 0xff800000)
	g.p("VMOVUPS %s, Y5", ninf)
	for i := 0; i < 4; i++ {
		g.p("VMOVAPS Y5, Y%d", i)
	}
	g.label("loop")
	g.p("CMPQ CX, $32")
	g.p("JLT one")
	for i := 0; i < 4; i++ {
		g.p("VMAXPS %d(SI), Y%d, Y%d", 32*i, i, i)
	}
	g.p("ADDQ $128, SI")
	g.p("SUBQ $32, CX")
	g.p("JMP loop")
	g.label("one")
	g.p("CMPQ CX, $8")
	g.p("JLT tail")
	g.p("VMAXPS (SI), Y0, Y0")
	g.p("ADDQ $32, SI")
	g.p("SUBQ $8, CX")
	g.p("JMP one")
	g.label("tail")
	g.p("TESTQ CX, CX")
	g.p("JEQ fold")
	g.tailMask()
	g.p("VMASKMOVPS (SI), Y15, Y4")
	g.p("VBLENDVPS Y15, Y4, Y5, Y4")
	g.p("VMAXPS Y4, Y0, Y0")
	g.label("fold")
	g.p("VMAXPS Y1, Y0, Y0")
	g.p("VMAXPS Y3, Y2, Y2")
	g.p("VMAXPS Y2, Y0, Y0")
	g.p("VEXTRACTF128 $1, Y0, X1")
	g.p("VMAXPS X1, X0, X0")
	g.p("VPERMILPS $0x4e, X0, X1")
	g.p("VMAXPS X1, X0, X0")
	g.p("VPERMILPS $0xb1, X0, X1")
	g.p("VMAXPS X1, X0, X0")
	g.p("VZEROUPPER")
	g.p("MOVSS X0, ret+16(FP)")
	g.p("RET")
	g.b.WriteString("\n")
}

// poolRow emits dst[o] = op over the taps of window o of the row v, for n
// (a multiple of 8) outputs; stride 2 windows of 2 or 3 taps, or stride 1
// windows of 3 taps. Stride 2 loads 16 inputs, splits them into even and
// odd lanes with VSHUFPS (in a lane-crossed order that the elementwise op
// does not care about) and restores the order once with VPERMPD.
// Reads v[0 : 2n+2) (stride 2, 3 taps), v[0 : 2n) (2 taps), v[0 : n+2)
// (stride 1).
func (g *gen) poolRow(name, inst string, stride, taps int) {
	g.b.WriteString(fmt.Sprintf("// func %s(dst, v *float32, n int)\n", name))
	g.b.WriteString(fmt.Sprintf("TEXT ·%s(SB), NOSPLIT, $0-24\n", name))
	g.p("MOVQ dst+0(FP), DI")
	g.p("MOVQ v+8(FP), SI")
	g.p("MOVQ n+16(FP), CX")
	g.label("loop")
	g.p("CMPQ CX, $8")
	g.p("JLT done")
	if stride == 1 {
		g.p("VMOVUPS (SI), Y0")
		for q := 1; q < taps; q++ {
			g.p("%s %d(SI), Y0, Y0", inst, 4*q)
		}
		g.p("VMOVUPS Y0, (DI)")
		g.p("ADDQ $32, SI")
	} else {
		g.p("VMOVUPS (SI), Y0")
		g.p("VMOVUPS 32(SI), Y1")
		g.p("VSHUFPS $0x88, Y1, Y0, Y2")
		g.p("VSHUFPS $0xdd, Y1, Y0, Y3")
		g.p("%s Y3, Y2, Y2", inst)
		if taps == 3 {
			g.p("VMOVUPS 8(SI), Y4")
			g.p("VMOVUPS 40(SI), Y5")
			g.p("VSHUFPS $0x88, Y5, Y4, Y4")
			g.p("%s Y4, Y2, Y2", inst)
		}
		g.p("VPERMPD $0xd8, Y2, Y2")
		g.p("VMOVUPS Y2, (DI)")
		g.p("ADDQ $64, SI")
	}
	g.p("ADDQ $32, DI")
	g.p("SUBQ $8, CX")
	g.p("JMP loop")
	g.label("done")
	g.p("VZEROUPPER")
	g.p("RET")
	g.b.WriteString("\n")
}

type poolKernel struct {
	name, inst   string
	stride, taps int
	key          string
}

var poolKernels = []poolKernel{
	{"poolMaxS2K2AVX2", "VMAXPS", 2, 2, "pMaxS2K2"},
	{"poolMaxS2K3AVX2", "VMAXPS", 2, 3, "pMaxS2K3"},
	{"poolMaxS1K3AVX2", "VMAXPS", 1, 3, "pMaxS1K3"},
	{"poolSumS2K2AVX2", "VADDPS", 2, 2, "pSumS2K2"},
	{"poolSumS2K3AVX2", "VADDPS", 2, 3, "pSumS2K3"},
	{"poolSumS1K3AVX2", "VADDPS", 1, 3, "pSumS1K3"},
}

func main() {
	out := flag.String("out", "..", "directory of package kern")
	flag.Parse()
	g := &gen{consts: map[string]bool{}}
	var decl strings.Builder
	declare := func(name, sig string) {
		fmt.Fprintf(&decl, "//go:noescape\nfunc %s%s\n\n", name, sig)
	}
	var kernels []mapKernel
	kernels = append(kernels, unary...)
	for _, op := range binOps {
		kernels = append(kernels,
			mapKernel{name: op.name + "VVAVX2", key: op.key, sig: sigVV, ntemp: op.ntemp, setup: noSetup, body: op.body},
			mapKernel{name: op.name + "VSAVX2", key: op.key, sig: sigVS, ntemp: op.ntemp, setup: noSetup, body: op.body})
		if op.rev != nil {
			kernels = append(kernels, mapKernel{name: op.name + "SVAVX2", key: op.key, sig: sigVS, setup: noSetup, body: op.rev})
		}
	}
	for _, k := range kernels {
		g.mapLoop(k)
		declare(k.name, goSig(k.sig))
	}
	g.sum()
	declare("sumAVX2", "(x *float32, n int) float64")
	g.max()
	declare("maxAVX2", "(x *float32, n int) float32")
	for _, p := range poolKernels {
		g.poolRow(p.name, p.inst, p.stride, p.taps)
		declare(p.name, "(dst, v *float32, n int)")
	}

	var s bytes.Buffer
	s.WriteString("// Code generated by asmgen; DO NOT EDIT.\n\n//go:build !purego\n\n#include \"textflag.h\"\n\n")
	s.Write(g.cbuf.Bytes())
	s.Write(g.b.Bytes())

	var goSrc strings.Builder
	goSrc.WriteString("// Code generated by asmgen; DO NOT EDIT.\n\n//go:build !purego\n\npackage kern\n\n")
	goSrc.WriteString(decl.String())
	table := func(name, typ string, pick func(k mapKernel) bool) {
		fmt.Fprintf(&goSrc, "var %s = [...]%s{\n", name, typ)
		for _, k := range kernels {
			if pick(k) {
				fmt.Fprintf(&goSrc, "\t%s: %s,\n", k.key, k.name)
			}
		}
		goSrc.WriteString("}\n\n")
	}
	table("unaryAVX2", "func(dst, x *float32, n int, p0, p1 float32)", func(k mapKernel) bool { return k.sig == sigUnary })
	table("vvAVX2", "func(dst, a, b *float32, n int)", func(k mapKernel) bool { return k.sig == sigVV })
	table("vsAVX2", "func(dst, a *float32, n int, s float32)", func(k mapKernel) bool {
		return k.sig == sigVS && strings.HasSuffix(k.name, "VSAVX2")
	})
	table("svAVX2", "func(dst, a *float32, n int, s float32)", func(k mapKernel) bool {
		return k.sig == sigVS && strings.HasSuffix(k.name, "SVAVX2")
	})
	goSrc.WriteString("var poolAVX2 = [...]func(dst, v *float32, n int){\n")
	for _, p := range poolKernels {
		fmt.Fprintf(&goSrc, "\t%s: %s,\n", p.key, p.name)
	}
	goSrc.WriteString("}\n")

	if err := os.WriteFile(filepath.Join(*out, "zkern_amd64.s"), s.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	src, err := format.Source([]byte(goSrc.String()))
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(*out, "zkern_amd64.go"), src, 0o644); err != nil {
		log.Fatal(err)
	}
}
