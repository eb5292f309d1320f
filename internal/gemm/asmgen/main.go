// Command asmgen writes the amd64 microkernels of package stride/internal/gemm.
//
// Each kernel computes one MR x (NV*VL) tile of C from a packed A micro-panel
// and a B micro-panel and applies the whole output epilogue (alpha, beta*C,
// bias, residual, activation) in registers before a single store. One
// function is emitted per (rows, vectors) pair so that M tails never compute
// padded rows; N tails are masked (k-masks on AVX-512, VMASKMOVPS on AVX2).
// For AVX-512 it also emits column-tail kernels (a few leftover columns,
// vectorised along M) and the 16x16 transpose used to pack A and B^T.
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
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Offsets of the kargs fields (kernel.go; TestKargsLayout checks them).
const (
	offA       = 0
	offB       = 8
	offC       = 16
	offBias    = 24
	offRes     = 32
	offK       = 40
	offBStride = 48
	offLdc     = 56
	offLdr     = 64
	offFlags   = 72
	offAlpha   = 76
	offBeta    = 80
	offLo      = 84
	offHi      = 88
	offLeak    = 92
	offKMask   = 96
	offYMask   = 120
	offAStride = 152
)

// Flag bits (must match kernel.go).
const (
	flagAlpha   = 1 << 0
	flagBeta1   = 1 << 1
	flagBetaAny = 1 << 2
	flagBiasRow = 1 << 3
	flagBiasCol = 1 << 4
	flagRes     = 1 << 5
	flagMask    = 1 << 6
	actShift    = 8
	actMask     = 3 << actShift
	actRelu     = 1 << actShift
	actClip     = 2 << actShift
	actLeaky    = 3 << actShift
)

// kset describes one kernel family: the largest tile is mr x nv vectors,
// and every smaller (rows, vectors) pair is emitted for the tails.
type kset struct {
	name  string // Go identifier suffix of the set variable
	isa   string // "avx512" or "avx2"
	mr    int
	nv    int
	embed bool // use embedded-broadcast FMAs instead of VBROADCASTSS
}

// On Zen 4 every AVX-512 shape tried (6x64, 8x48, 12x32, 14x32, 28x16)
// runs within noise of the FMA peak on cached data. 14x32 keeps 28 of the
// 32 registers as accumulators, so it needs the least load bandwidth per
// FMA, and it measured best on the small-M convolution shapes.
var sets = []kset{
	{name: "Avx512x14x32", isa: "avx512", mr: 14, nv: 2},
	{name: "Avx2x6x16", isa: "avx2", mr: 6, nv: 2},
}

// key names the kernel of set s for mr rows and nv vectors. One-vector
// AVX-512 kernels use embedded-broadcast FMAs: with a VBROADCASTSS per FMA
// they reach only ~75% of peak on Zen 4, the fused form ~97%. With two
// vectors per row both forms run at peak.
func (s kset) key(mr, nv int) fnKey {
	return fnKey{s.isa, mr, nv, s.embed || (s.isa == "avx512" && nv == 1)}
}

type fnKey struct {
	isa    string
	mr, nv int
	embed  bool
}

func (k fnKey) name() string {
	p := "k512"
	if k.isa == "avx2" {
		p = "k256"
	}
	s := fmt.Sprintf("%sm%dv%d", p, k.mr, k.nv)
	if k.embed {
		s += "e"
	}
	return s
}

type gen struct {
	b bytes.Buffer
}

func (g *gen) p(format string, args ...any) {
	fmt.Fprintf(&g.b, "\t"+format+"\n", args...)
}

func (g *gen) label(l string) { fmt.Fprintf(&g.b, "%s:\n", l) }

// kernel emits one microkernel.
//
// Register use: DI args, SI A, DX B, CX k counter, R8 B stride, R9 C/res
// row pointer, R10 ldc, R11 bias, R12 residual, R13 ldr, AX flags, BX scratch.
func (g *gen) kernel(k fnKey) {
	avx512 := k.isa == "avx512"
	vbytes := 32
	reg := "Y"
	if avx512 {
		vbytes = 64
		reg = "Z"
	}
	nacc := k.mr * k.nv
	// Small tiles have too few accumulators to cover the FMA latency
	// (4 cycles x 2 pipes on Zen 4), so consecutive k steps rotate through
	// nsplit accumulator sets that are summed before the epilogue.
	nsplit := 1
	for nsplit < 4 && nacc*nsplit < 8 {
		nsplit *= 2
	}
	acc := func(r, v int) string { return fmt.Sprintf("%s%d", reg, r*k.nv+v) }
	accS := func(s, r, v int) string { return fmt.Sprintf("%s%d", reg, s*nacc+r*k.nv+v) }
	breg := func(v int) string { return fmt.Sprintf("%s%d", reg, nsplit*nacc+v) }
	// Broadcast temporaries: alternate between the registers left over.
	nregs := 16
	if avx512 {
		nregs = 32
	}
	var bc []string
	for r := nsplit*nacc + k.nv; r < nregs && len(bc) < 2; r++ {
		bc = append(bc, fmt.Sprintf("%s%d", reg, r))
	}
	if !k.embed && len(bc) == 0 {
		log.Fatalf("%s: no broadcast register", k.name())
	}
	// Epilogue temporaries (the B and broadcast registers are dead by then).
	t := func(i int) string { return fmt.Sprintf("%s%d", reg, nacc+i) }
	if nregs-nacc < 2 || (!avx512 && nregs-nacc < 4) {
		log.Fatalf("%s: not enough epilogue registers", k.name())
	}

	fmt.Fprintf(&g.b, "// func %s(p *kargs)\n", k.name())
	fmt.Fprintf(&g.b, "TEXT ·%s(SB), NOSPLIT, $0-8\n", k.name())
	g.p("MOVQ p+0(FP), DI")
	g.p("MOVQ %d(DI), SI", offA)
	g.p("MOVQ %d(DI), DX", offB)
	g.p("MOVQ %d(DI), CX", offK)
	g.p("MOVQ %d(DI), R8", offBStride)
	g.p("MOVQ %d(DI), R9", offC)
	g.p("MOVQ %d(DI), R10", offLdc)
	// Touch the C tile early so its lines arrive while the k loop runs.
	rowBytes := k.nv * vbytes
	for r := 0; r < k.mr; r++ {
		g.p("PREFETCHT0 (R9)")
		if rowBytes > 64 {
			g.p("PREFETCHT0 %d(R9)", rowBytes-4)
		}
		if r < k.mr-1 {
			g.p("ADDQ R10, R9")
		}
	}
	// Likewise the residual tile, read by the epilogue: a residual that
	// missed the cache cost a third of the time of K=64 convolutions.
	g.p("MOVL %d(DI), BX", offFlags)
	g.p("TESTL $%d, BX", flagRes)
	g.p("JEQ nopfres")
	g.p("MOVQ %d(DI), R12", offRes)
	g.p("MOVQ %d(DI), R13", offLdr)
	for r := 0; r < k.mr; r++ {
		g.p("PREFETCHT0 (R12)")
		if rowBytes > 64 {
			g.p("PREFETCHT0 %d(R12)", rowBytes-4)
		}
		if r < k.mr-1 {
			g.p("ADDQ R13, R12")
		}
	}
	g.label("nopfres")
	for i := 0; i < nsplit*nacc; i++ {
		x := fmt.Sprintf("%s%d", reg, i)
		if avx512 {
			g.p("VPXORD %s, %s, %s", x, x, x)
		} else {
			g.p("VXORPS %s, %s, %s", x, x, x)
		}
	}
	const unroll = 4
	step := func(aoff, set int) {
		acc := func(r, v int) string { return accS(set, r, v) }
		for v := 0; v < k.nv; v++ {
			g.p("VMOVUPS %d(DX), %s", v*vbytes, breg(v))
		}
		g.p("ADDQ R8, DX")
		for r := 0; r < k.mr; r++ {
			if k.embed {
				for v := 0; v < k.nv; v++ {
					g.p("VFMADD231PS.BCST %d(SI), %s, %s", aoff+4*r, breg(v), acc(r, v))
				}
				continue
			}
			x := bc[r%len(bc)]
			g.p("VBROADCASTSS %d(SI), %s", aoff+4*r, x)
			for v := 0; v < k.nv; v++ {
				g.p("VFMADD231PS %s, %s, %s", breg(v), x, acc(r, v))
			}
		}
	}
	g.p("CMPQ CX, $%d", unroll)
	g.p("JLT tail")
	g.label("loop")
	for u := 0; u < unroll; u++ {
		step(u*k.mr*4, u%nsplit)
	}
	g.p("ADDQ $%d, SI", unroll*k.mr*4)
	g.p("SUBQ $%d, CX", unroll)
	g.p("CMPQ CX, $%d", unroll)
	g.p("JGE loop")
	g.label("tail")
	g.p("TESTQ CX, CX")
	g.p("JEQ epilogue")
	g.label("tail1")
	step(0, 0)
	g.p("ADDQ $%d, SI", k.mr*4)
	g.p("DECQ CX")
	g.p("JNE tail1")

	g.label("epilogue")
	for set := 1; set < nsplit; set++ {
		g.forAll(k, func(r, v int) {
			g.p("VADDPS %s, %s, %s", accS(set, r, v), acc(r, v), acc(r, v))
		})
	}
	g.p("MOVL %d(DI), AX", offFlags)
	if avx512 {
		for v := 0; v < k.nv; v++ {
			g.p("KMOVW %d(DI), K%d", offKMask+2*v, v+1)
		}
		g.epilogue512(k, acc, t)
	} else {
		g.epilogue256(k, acc, t)
	}
	g.p("VZEROUPPER")
	g.p("RET")
	g.b.WriteString("\n")
}

func (g *gen) forAll(k fnKey, f func(r, v int)) {
	for r := 0; r < k.mr; r++ {
		for v := 0; v < k.nv; v++ {
			f(r, v)
		}
	}
}

// rows walks the rows of a C-shaped matrix whose pointer is in ptr and
// whose byte stride is in stride, calling f for each row.
func (g *gen) rows(k fnKey, ptr, stride string, f func(r int)) {
	for r := 0; r < k.mr; r++ {
		f(r)
		if r < k.mr-1 {
			g.p("ADDQ %s, %s", stride, ptr)
		}
	}
}

func (g *gen) epilogue512(k fnKey, acc func(r, v int) string, t func(int) string) {
	kreg := func(v int) string { return fmt.Sprintf("K%d", v+1) }
	g.p("TESTL $%d, AX", flagAlpha)
	g.p("JEQ noalpha")
	g.p("VBROADCASTSS %d(DI), %s", offAlpha, t(0))
	g.forAll(k, func(r, v int) { g.p("VMULPS %s, %s, %s", t(0), acc(r, v), acc(r, v)) })
	g.label("noalpha")
	g.p("MOVQ %d(DI), R9", offC)
	g.p("TESTL $%d, AX", flagBeta1)
	g.p("JEQ nobeta1")
	g.rows(k, "R9", "R10", func(r int) {
		for v := 0; v < k.nv; v++ {
			g.p("VADDPS %d(R9), %s, %s, %s", 64*v, acc(r, v), kreg(v), acc(r, v))
		}
	})
	g.p("JMP nobeta")
	g.label("nobeta1")
	g.p("TESTL $%d, AX", flagBetaAny)
	g.p("JEQ nobeta")
	g.p("VBROADCASTSS %d(DI), %s", offBeta, t(0))
	g.rows(k, "R9", "R10", func(r int) {
		for v := 0; v < k.nv; v++ {
			g.p("VFMADD231PS %d(R9), %s, %s, %s", 64*v, t(0), kreg(v), acc(r, v))
		}
	})
	g.label("nobeta")
	g.p("MOVQ %d(DI), R11", offBias)
	g.p("TESTL $%d, AX", flagBiasRow)
	g.p("JEQ nobiasrow")
	for r := 0; r < k.mr; r++ {
		g.p("VBROADCASTSS %d(R11), %s", 4*r, t(0))
		for v := 0; v < k.nv; v++ {
			g.p("VADDPS %s, %s, %s", t(0), acc(r, v), acc(r, v))
		}
	}
	g.label("nobiasrow")
	g.p("TESTL $%d, AX", flagBiasCol)
	g.p("JEQ nobiascol")
	g.forAll(k, func(r, v int) {
		g.p("VADDPS %d(R11), %s, %s, %s", 64*v, acc(r, v), kreg(v), acc(r, v))
	})
	g.label("nobiascol")
	g.p("TESTL $%d, AX", flagRes)
	g.p("JEQ nores")
	g.p("MOVQ %d(DI), R12", offRes)
	g.p("MOVQ %d(DI), R13", offLdr)
	g.rows(k, "R12", "R13", func(r int) {
		for v := 0; v < k.nv; v++ {
			g.p("VADDPS %d(R12), %s, %s, %s", 64*v, acc(r, v), kreg(v), acc(r, v))
		}
	})
	g.label("nores")
	g.p("MOVL AX, BX")
	g.p("ANDL $%d, BX", actMask)
	g.p("JEQ store")
	g.p("CMPL BX, $%d", actRelu)
	g.p("JNE notrelu")
	g.p("VPXORD %s, %s, %s", t(0), t(0), t(0))
	// acc is the second source so a NaN input stays NaN.
	g.forAll(k, func(r, v int) { g.p("VMAXPS %s, %s, %s", acc(r, v), t(0), acc(r, v)) })
	g.p("JMP store")
	g.label("notrelu")
	g.p("CMPL BX, $%d", actClip)
	g.p("JNE notclip")
	g.p("VBROADCASTSS %d(DI), %s", offLo, t(0))
	g.p("VBROADCASTSS %d(DI), %s", offHi, t(1))
	g.forAll(k, func(r, v int) {
		g.p("VMAXPS %s, %s, %s", acc(r, v), t(0), acc(r, v))
		g.p("VMINPS %s, %s, %s", acc(r, v), t(1), acc(r, v))
	})
	g.p("JMP store")
	g.label("notclip")
	g.p("VPXORD %s, %s, %s", t(0), t(0), t(0))
	g.p("VBROADCASTSS %d(DI), %s", offLeak, t(1))
	g.forAll(k, func(r, v int) {
		g.p("VCMPPS $1, %s, %s, K7", t(0), acc(r, v))
		g.p("VMULPS %s, %s, K7, %s", t(1), acc(r, v), acc(r, v))
	})
	g.label("store")
	g.p("MOVQ %d(DI), R9", offC)
	g.rows(k, "R9", "R10", func(r int) {
		for v := 0; v < k.nv; v++ {
			g.p("VMOVUPS %s, %s, %d(R9)", acc(r, v), kreg(v), 64*v)
		}
	})
}

// epilogue256 is the AVX2 epilogue. Only the last vector of a row can be
// partial; when flagMask is set it is loaded and stored with VMASKMOVPS
// using the lane mask in kargs.ymask, so every memory pass has two bodies.
func (g *gen) epilogue256(k fnKey, acc func(r, v int) string, t func(int) string) {
	last := k.nv - 1
	mask := t(3)
	// memPass emits a pass over rows of a C-shaped operand: op(mem, v, r)
	// for full vectors and opMasked(tmp, r) for the partial last vector.
	memPass := func(name, ptr, stride string, full func(r, v int), partial func(r int)) {
		g.p("TESTL $%d, AX", flagMask)
		g.p("JNE %s_m", name)
		g.rows(k, ptr, stride, func(r int) {
			for v := 0; v < k.nv; v++ {
				full(r, v)
			}
		})
		g.p("JMP %s_done", name)
		g.label(name + "_m")
		g.rows(k, ptr, stride, func(r int) {
			for v := 0; v < last; v++ {
				full(r, v)
			}
			partial(r)
		})
		g.label(name + "_done")
	}
	g.p("VMOVDQU %d(DI), %s", offYMask, mask)
	g.p("TESTL $%d, AX", flagAlpha)
	g.p("JEQ noalpha")
	g.p("VBROADCASTSS %d(DI), %s", offAlpha, t(0))
	g.forAll(k, func(r, v int) { g.p("VMULPS %s, %s, %s", t(0), acc(r, v), acc(r, v)) })
	g.label("noalpha")
	g.p("MOVQ %d(DI), R9", offC)
	g.p("TESTL $%d, AX", flagBeta1)
	g.p("JEQ nobeta1")
	memPass("beta1", "R9", "R10",
		func(r, v int) { g.p("VADDPS %d(R9), %s, %s", 32*v, acc(r, v), acc(r, v)) },
		func(r int) {
			g.p("VMASKMOVPS %d(R9), %s, %s", 32*last, mask, t(1))
			g.p("VADDPS %s, %s, %s", t(1), acc(r, last), acc(r, last))
		})
	g.p("JMP nobeta")
	g.label("nobeta1")
	g.p("TESTL $%d, AX", flagBetaAny)
	g.p("JEQ nobeta")
	g.p("VBROADCASTSS %d(DI), %s", offBeta, t(0))
	memPass("betag", "R9", "R10",
		func(r, v int) { g.p("VFMADD231PS %d(R9), %s, %s", 32*v, t(0), acc(r, v)) },
		func(r int) {
			g.p("VMASKMOVPS %d(R9), %s, %s", 32*last, mask, t(1))
			g.p("VFMADD231PS %s, %s, %s", t(1), t(0), acc(r, last))
		})
	g.label("nobeta")
	g.p("MOVQ %d(DI), R11", offBias)
	g.p("TESTL $%d, AX", flagBiasRow)
	g.p("JEQ nobiasrow")
	for r := 0; r < k.mr; r++ {
		g.p("VBROADCASTSS %d(R11), %s", 4*r, t(0))
		for v := 0; v < k.nv; v++ {
			g.p("VADDPS %s, %s, %s", t(0), acc(r, v), acc(r, v))
		}
	}
	g.label("nobiasrow")
	g.p("TESTL $%d, AX", flagBiasCol)
	g.p("JEQ nobiascol")
	// Row-independent: one masked load of the last bias vector suffices.
	g.p("VMASKMOVPS %d(R11), %s, %s", 32*last, mask, t(1))
	g.forAll(k, func(r, v int) {
		if v == last {
			g.p("VADDPS %s, %s, %s", t(1), acc(r, v), acc(r, v))
		} else {
			g.p("VADDPS %d(R11), %s, %s", 32*v, acc(r, v), acc(r, v))
		}
	})
	g.label("nobiascol")
	g.p("TESTL $%d, AX", flagRes)
	g.p("JEQ nores")
	g.p("MOVQ %d(DI), R12", offRes)
	g.p("MOVQ %d(DI), R13", offLdr)
	memPass("res", "R12", "R13",
		func(r, v int) { g.p("VADDPS %d(R12), %s, %s", 32*v, acc(r, v), acc(r, v)) },
		func(r int) {
			g.p("VMASKMOVPS %d(R12), %s, %s", 32*last, mask, t(1))
			g.p("VADDPS %s, %s, %s", t(1), acc(r, last), acc(r, last))
		})
	g.label("nores")
	g.p("MOVL AX, BX")
	g.p("ANDL $%d, BX", actMask)
	g.p("JEQ store")
	g.p("CMPL BX, $%d", actRelu)
	g.p("JNE notrelu")
	g.p("VXORPS %s, %s, %s", t(0), t(0), t(0))
	g.forAll(k, func(r, v int) { g.p("VMAXPS %s, %s, %s", acc(r, v), t(0), acc(r, v)) })
	g.p("JMP store")
	g.label("notrelu")
	g.p("CMPL BX, $%d", actClip)
	g.p("JNE notclip")
	g.p("VBROADCASTSS %d(DI), %s", offLo, t(0))
	g.p("VBROADCASTSS %d(DI), %s", offHi, t(1))
	g.forAll(k, func(r, v int) {
		g.p("VMAXPS %s, %s, %s", acc(r, v), t(0), acc(r, v))
		g.p("VMINPS %s, %s, %s", acc(r, v), t(1), acc(r, v))
	})
	g.p("JMP store")
	g.label("notclip")
	// Leaky ReLU borrows the mask register as a product temporary.
	g.p("VXORPS %s, %s, %s", t(0), t(0), t(0))
	g.p("VBROADCASTSS %d(DI), %s", offLeak, t(1))
	g.forAll(k, func(r, v int) {
		g.p("VCMPPS $1, %s, %s, %s", t(0), acc(r, v), t(2))
		g.p("VMULPS %s, %s, %s", t(1), acc(r, v), mask)
		g.p("VBLENDVPS %s, %s, %s, %s", t(2), mask, acc(r, v), acc(r, v))
	})
	g.p("VMOVDQU %d(DI), %s", offYMask, mask)
	g.label("store")
	g.p("MOVQ %d(DI), R9", offC)
	memPass("store", "R9", "R10",
		func(r, v int) { g.p("VMOVUPS %s, %d(R9)", acc(r, v), 32*v) },
		func(r int) { g.p("VMASKMOVPS %s, %s, %d(R9)", acc(r, last), mask, 32*last) })
}

// columnTail emits ktail512r{r}(p *kargs): the sums of an mr x r tile
// (r < 16 columns, mr <= 16 rows) computed with vectors along M. Each k
// step loads the A panel column (mr floats, stride kargs.astride, lanes
// kmask[0]) and broadcasts the r B values from kargs.b. The raw sums go to
// kargs.c as a column-major 16 x r scratch tile; Go applies the epilogue.
// A tail of a few columns would otherwise fill only a few lanes of a full
// 16-wide vector per FMA.
func (g *gen) columnTail(r int) {
	nsplit := 1
	for nsplit < 4 && r*nsplit < 8 {
		nsplit *= 2
	}
	acc := func(s, j int) string { return fmt.Sprintf("Z%d", s*r+j) }
	name := fmt.Sprintf("ktail512r%d", r)
	fmt.Fprintf(&g.b, "// func %s(p *kargs)\n", name)
	fmt.Fprintf(&g.b, "TEXT ·%s(SB), NOSPLIT, $0-8\n", name)
	g.p("MOVQ p+0(FP), DI")
	g.p("MOVQ %d(DI), SI", offA)
	g.p("MOVQ %d(DI), DX", offB)
	g.p("MOVQ %d(DI), CX", offK)
	g.p("MOVQ %d(DI), R8", offBStride)
	g.p("MOVQ %d(DI), R11", offAStride)
	g.p("KMOVW %d(DI), K1", offKMask)
	for i := 0; i < nsplit*r; i++ {
		g.p("VPXORD Z%d, Z%d, Z%d", i, i, i)
	}
	step := func(set int) {
		g.p("VMOVUPS.Z (SI), K1, Z31")
		g.p("ADDQ R11, SI")
		for j := 0; j < r; j++ {
			g.p("VFMADD231PS.BCST %d(DX), Z31, %s", 4*j, acc(set, j))
		}
		g.p("ADDQ R8, DX")
	}
	g.p("CMPQ CX, $4")
	g.p("JLT tail")
	g.label("loop")
	for u := 0; u < 4; u++ {
		step(u % nsplit)
	}
	g.p("SUBQ $4, CX")
	g.p("CMPQ CX, $4")
	g.p("JGE loop")
	g.label("tail")
	g.p("TESTQ CX, CX")
	g.p("JEQ done")
	g.label("tail1")
	step(0)
	g.p("DECQ CX")
	g.p("JNE tail1")
	g.label("done")
	for s := 1; s < nsplit; s++ {
		for j := 0; j < r; j++ {
			g.p("VADDPS %s, %s, %s", acc(s, j), acc(0, j), acc(0, j))
		}
	}
	g.p("MOVQ %d(DI), R9", offC)
	for j := 0; j < r; j++ {
		g.p("VMOVUPS %s, %d(R9)", acc(0, j), 64*j)
	}
	g.p("VZEROUPPER")
	g.p("RET")
	g.b.WriteString("\n")
}

// transpose16 emits transpose16x16(dst, src *float32, srcStride, dstStride,
// rows, chunks int, mask uint16): for each of chunks consecutive 16-column
// chunks of a rows x 16 block of src (rows <= 16, byte strides), write its
// transpose as 16 rows of dst, storing the lanes in mask. Missing rows read
// as zero, so unmasked padding lanes come out zeroed.
//
// The transpose interleaves 32-bit then 64-bit elements within 128-bit
// lanes, then moves 128-bit lanes twice with VSHUFF32X4.
func (g *gen) transpose16() {
	g.b.WriteString("// func transpose16x16(dst, src *float32, srcStride, dstStride, rows, chunks int, mask uint16)\n")
	g.b.WriteString("TEXT ·transpose16x16(SB), NOSPLIT, $0-50\n")
	g.p("MOVQ dst+0(FP), DI")
	g.p("MOVQ src+8(FP), SI")
	g.p("MOVQ srcStride+16(FP), R8")
	g.p("MOVQ dstStride+24(FP), R9")
	g.p("MOVQ rows+32(FP), BX")
	g.p("MOVQ chunks+40(FP), CX")
	g.p("KMOVW mask+48(FP), K1")
	g.p("TESTQ CX, CX")
	g.p("JEQ done")
	g.label("chunk")
	g.p("MOVQ SI, R10")
	for r := 0; r < 16; r++ {
		g.p("CMPQ BX, $%d", r+1)
		g.p("JLT zero%d", r)
		g.p("VMOVUPS (R10), Z%d", r)
		g.p("ADDQ R8, R10")
		g.p("JMP next%d", r)
		g.label(fmt.Sprintf("zero%d", r))
		g.p("VPXORD Z%d, Z%d, Z%d", r, r, r)
		g.label(fmt.Sprintf("next%d", r))
	}
	// Stage 1: t[2i], t[2i+1] interleave rows 2i and 2i+1 (32-bit).
	for i := 0; i < 8; i++ {
		g.p("VUNPCKLPS Z%d, Z%d, Z%d", 2*i+1, 2*i, 16+2*i)
		g.p("VUNPCKHPS Z%d, Z%d, Z%d", 2*i+1, 2*i, 16+2*i+1)
	}
	// Stage 2: u[4g+c] holds rows 4g..4g+3 of columns c, c+4, c+8, c+12.
	for grp := 0; grp < 4; grp++ {
		t0, t1, t2, t3 := 16+4*grp, 16+4*grp+1, 16+4*grp+2, 16+4*grp+3
		g.p("VUNPCKLPD Z%d, Z%d, Z%d", t2, t0, 4*grp)
		g.p("VUNPCKHPD Z%d, Z%d, Z%d", t2, t0, 4*grp+1)
		g.p("VUNPCKLPD Z%d, Z%d, Z%d", t3, t1, 4*grp+2)
		g.p("VUNPCKHPD Z%d, Z%d, Z%d", t3, t1, 4*grp+3)
	}
	// Stage 3: p[4c+0..3] pair row groups (0,1) and (2,3).
	for c := 0; c < 4; c++ {
		g.p("VSHUFF32X4 $0x88, Z%d, Z%d, Z%d", 4+c, c, 16+4*c)
		g.p("VSHUFF32X4 $0xDD, Z%d, Z%d, Z%d", 4+c, c, 16+4*c+1)
		g.p("VSHUFF32X4 $0x88, Z%d, Z%d, Z%d", 12+c, 8+c, 16+4*c+2)
		g.p("VSHUFF32X4 $0xDD, Z%d, Z%d, Z%d", 12+c, 8+c, 16+4*c+3)
	}
	// Stage 4: output column c+4q.
	for c := 0; c < 4; c++ {
		p0, p1, p2, p3 := 16+4*c, 16+4*c+1, 16+4*c+2, 16+4*c+3
		g.p("VSHUFF32X4 $0x88, Z%d, Z%d, Z%d", p2, p0, c)
		g.p("VSHUFF32X4 $0xDD, Z%d, Z%d, Z%d", p2, p0, c+8)
		g.p("VSHUFF32X4 $0x88, Z%d, Z%d, Z%d", p3, p1, c+4)
		g.p("VSHUFF32X4 $0xDD, Z%d, Z%d, Z%d", p3, p1, c+12)
	}
	g.p("MOVQ DI, R10")
	for col := 0; col < 16; col++ {
		g.p("VMOVUPS Z%d, K1, (R10)", col)
		if col < 15 {
			g.p("ADDQ R9, R10")
		}
	}
	g.p("ADDQ $64, SI")
	g.p("LEAQ (R10)(R9*1), DI")
	g.p("DECQ CX")
	g.p("JNE chunk")
	g.label("done")
	g.p("VZEROUPPER")
	g.p("RET")
	g.b.WriteString("\n")
}

func main() {
	out := flag.String("out", "..", "directory of package gemm")
	flag.Parse()

	keys := map[fnKey]bool{}
	for _, s := range sets {
		for nv := 1; nv <= s.nv; nv++ {
			for mr := 1; mr <= s.mr; mr++ {
				keys[s.key(mr, nv)] = true
			}
		}
	}
	var list []fnKey
	for k := range keys {
		list = append(list, k)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].name() < list[j].name() })

	var s gen
	s.b.WriteString("// Code generated by asmgen; DO NOT EDIT.\n\n//go:build !purego\n\n#include \"textflag.h\"\n\n")
	for _, k := range list {
		s.kernel(k)
	}
	s.transpose16()
	for r := 1; r < 16; r++ {
		s.columnTail(r)
	}

	var gsrc strings.Builder
	gsrc.WriteString("// Code generated by asmgen; DO NOT EDIT.\n\n//go:build !purego\n\npackage gemm\n\n")
	for _, k := range list {
		fmt.Fprintf(&gsrc, "//go:noescape\nfunc %s(p *kargs)\n\n", k.name())
	}

	gsrc.WriteString("//go:noescape\nfunc transpose16x16(dst, src *float32, srcStride, dstStride, rows, chunks int, mask uint16)\n\n")
	for r := 1; r < 16; r++ {
		fmt.Fprintf(&gsrc, "//go:noescape\nfunc ktail512r%d(p *kargs)\n\n", r)
	}
	for _, st := range sets {
		vl := 16
		if st.isa == "avx2" {
			vl = 8
		}
		fmt.Fprintf(&gsrc, "var kernels%s = &kernelSet{\n\tname: %q,\n\tisa:  %q,\n\tmr:   %d,\n\tnr:   %d,\n\tvl:   %d,\n\tfns: [][]func(*kargs){\n\t\tnil,\n",
			st.name, strings.ToLower(st.isa)+fmt.Sprintf("-%dx%d", st.mr, st.nv*vl), st.isa, st.mr, st.nv*vl, vl)
		for nv := 1; nv <= st.nv; nv++ {
			gsrc.WriteString("\t\t{nil")
			for mr := 1; mr <= st.mr; mr++ {
				fmt.Fprintf(&gsrc, ", %s", st.key(mr, nv).name())
			}
			gsrc.WriteString("},\n")
		}
		gsrc.WriteString("\t},\n")
		if st.isa == "avx512" {
			gsrc.WriteString("\ttails: []func(*kargs){nil")
			for r := 1; r < 16; r++ {
				fmt.Fprintf(&gsrc, ", ktail512r%d", r)
			}
			gsrc.WriteString("},\n")
		}
		gsrc.WriteString("}\n\n")
	}
	gsrc.WriteString("var generatedSets = []*kernelSet{")
	for i, st := range sets {
		if i > 0 {
			gsrc.WriteString(", ")
		}
		fmt.Fprintf(&gsrc, "kernels%s", st.name)
	}
	gsrc.WriteString("}\n")

	if err := os.WriteFile(filepath.Join(*out, "zkernel_amd64.s"), s.b.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(*out, "zkernel_amd64.go"), []byte(gsrc.String()), 0o644); err != nil {
		log.Fatal(err)
	}
}
