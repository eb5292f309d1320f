// Command asmgen writes the amd64 microkernels of package stride/internal/gemm.
//
// Each kernel computes one MR x (NV*VL) tile of C from a packed A micro-panel
// and a B micro-panel and applies the whole output epilogue (alpha, beta*C,
// bias, residual, activation) in registers before a single store. One
// function is emitted per (rows, vectors) pair so that M tails never compute
// padded rows; N tails are masked (k-masks on AVX-512, VMASKMOVPS on AVX2).
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

// Offsets of the kargs fields (see kernel.go; kernel_test.go checks them).
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

var sets = []kset{
	{name: "Avx512x14x32", isa: "avx512", mr: 14, nv: 2},
	{name: "Avx512x12x32", isa: "avx512", mr: 12, nv: 2},
	{name: "Avx512x8x48", isa: "avx512", mr: 8, nv: 3},
	{name: "Avx512x6x64", isa: "avx512", mr: 6, nv: 4},
	{name: "Avx512x28x16", isa: "avx512", mr: 28, nv: 1, embed: true},
	{name: "Avx2x6x16", isa: "avx2", mr: 6, nv: 2},
	{name: "Avx2x4x24", isa: "avx2", mr: 4, nv: 3},
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
	acc := func(r, v int) string { return fmt.Sprintf("%s%d", reg, r*k.nv+v) }
	breg := func(v int) string { return fmt.Sprintf("%s%d", reg, nacc+v) }
	// Broadcast temporaries: alternate between the registers left over.
	nregs := 16
	if avx512 {
		nregs = 32
	}
	var bc []string
	for r := nacc + k.nv; r < nregs && len(bc) < 2; r++ {
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
	for i := 0; i < nacc; i++ {
		if avx512 {
			g.p("VPXORD %s, %s, %s", acc(i/k.nv, i%k.nv), acc(i/k.nv, i%k.nv), acc(i/k.nv, i%k.nv))
		} else {
			g.p("VXORPS %s, %s, %s", acc(i/k.nv, i%k.nv), acc(i/k.nv, i%k.nv), acc(i/k.nv, i%k.nv))
		}
	}
	const unroll = 4
	step := func(aoff int) {
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
		step(u * k.mr * 4)
	}
	g.p("ADDQ $%d, SI", unroll*k.mr*4)
	g.p("SUBQ $%d, CX", unroll)
	g.p("CMPQ CX, $%d", unroll)
	g.p("JGE loop")
	g.label("tail")
	g.p("TESTQ CX, CX")
	g.p("JEQ epilogue")
	g.label("tail1")
	step(0)
	g.p("ADDQ $%d, SI", k.mr*4)
	g.p("DECQ CX")
	g.p("JNE tail1")

	g.label("epilogue")
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

func main() {
	out := flag.String("out", "..", "directory of package gemm")
	flag.Parse()

	keys := map[fnKey]bool{}
	for _, s := range sets {
		for nv := 1; nv <= s.nv; nv++ {
			for mr := 1; mr <= s.mr; mr++ {
				keys[fnKey{s.isa, mr, nv, s.embed}] = true
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

	var gsrc strings.Builder
	gsrc.WriteString("// Code generated by asmgen; DO NOT EDIT.\n\n//go:build !purego\n\npackage gemm\n\n")
	for _, k := range list {
		fmt.Fprintf(&gsrc, "//go:noescape\nfunc %s(p *kargs)\n\n", k.name())
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
				fmt.Fprintf(&gsrc, ", %s", fnKey{st.isa, mr, nv, st.embed}.name())
			}
			gsrc.WriteString("},\n")
		}
		gsrc.WriteString("\t},\n}\n\n")
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
