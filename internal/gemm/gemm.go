package gemm

import "fmt"

// Runner runs fn(t) for every t in [0,tasks), possibly in parallel, and
// returns when all are done. A nil Runner means run serially. The runtime
// passes its worker pool through this.
type Runner func(tasks int, fn func(t int))

// Act selects the activation applied last by the epilogue.
type Act uint8

const (
	ActNone      Act = iota
	ActRelu          // max(v, 0)
	ActClip          // min(max(v, Epilogue.Min), Epilogue.Max)
	ActLeakyRelu     // v if v >= 0, else Epilogue.Alpha*v
)

// Epilogue is applied to each output element once, after the full sum, in
// this order:
//
//	v = alpha*sum + beta*C_old ; v += bias ; v += Residual[i*LdR+j] ; v = act(v)
//
// NaN inputs propagate through every activation.
type Epilogue struct {
	Bias       []float32 // nil, or len M (BiasPerRow) or len N (per column)
	BiasPerRow bool
	Residual   []float32 // optional, same shape as C with leading dim LdR
	LdR        int       // row stride of Residual; 0 means N
	Act        Act
	Min, Max   float32 // ActClip bounds
	Alpha      float32 // ActLeakyRelu slope
}

// Sgemm computes C = alpha*op(A)*op(B) + beta*C (+ epilogue). op(A) is MxK,
// op(B) is KxN, C is MxN, all row-major. lda/ldb/ldc are the row strides of
// the stored (untransposed) matrices. beta==0 means C is not read (it may
// hold NaN). ep may be nil. Too-short slices or strides panic. C must not
// overlap A, B or the Residual (to add C to itself, use beta=1).
//
// Calls are safe to make concurrently. With a Runner the work is split
// into at most GOMAXPROCS tasks once it is large enough to pay for it.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, ep *Epilogue, run Runner) {
	checkMat("A", transA, m, k, a, lda)
	checkMat("B", transB, k, n, b, ldb)
	checkC(m, n, c, ldc, ep)
	if m == 0 || n == 0 {
		return
	}
	j := job{ks: active, m: m, n: n, k: k, alpha: alpha, beta: beta, c: c, ldc: ldc, ep: ep,
		a: a, lda: lda, transA: transA, b: b, ldb: ldb, transB: transB}
	if gemvDispatch(&j, run) {
		return
	}
	j.kc = blockK(k, j.ks)
	if m == 1 && !transA {
		// A single row is already in packed-panel form.
		j.pa = a[:k]
	}
	j.runRowBlocks(run)
}

// PackedA is op(A) (M x K) packed once into the kernel's panel layout, for a
// constant left operand such as convolution weights (Cout x K).
type PackedA struct {
	ks   *kernelSet
	m, k int
	kc   int
	data []float32
}

// M returns the rows of op(A); K its columns.
func (p *PackedA) M() int { return p.m }

// K returns the columns of op(A).
func (p *PackedA) K() int { return p.k }

// NR returns the B panel width that kernels using p expect from a BPacker.
func (p *PackedA) NR() int { return p.ks.nr }

// PackA packs op(A) (m x k) for repeated use with SgemmPackedA and
// SgemmPackedAWithBPacker.
func PackA(transA bool, m, k int, a []float32, lda int) *PackedA {
	checkMat("A", transA, m, k, a, lda)
	ks := active
	p := &PackedA{ks: ks, m: m, k: k, kc: blockK(k, ks)}
	p.data = alignedFloats(m * k)
	for k0 := 0; k0 < k; k0 += p.kc {
		kc := min(p.kc, k-k0)
		for i := 0; i < m; i += ks.mr {
			mr := min(ks.mr, m-i)
			packA(p.data[k0*m+kc*i:][:kc*mr], a, lda, transA, i, mr, k0, kc)
		}
	}
	return p
}

// SgemmPackedA is Sgemm with a pre-packed op(A); pa fixes M and K.
func SgemmPackedA(pa *PackedA, transB bool, n int, alpha float32, b []float32, ldb int, beta float32, c []float32, ldc int, ep *Epilogue, run Runner) {
	checkMat("B", transB, pa.k, n, b, ldb)
	checkC(pa.m, n, c, ldc, ep)
	if pa.m == 0 || n == 0 {
		return
	}
	j := job{ks: pa.ks, m: pa.m, n: n, k: pa.k, kc: pa.kc, alpha: alpha, beta: beta, c: c, ldc: ldc, ep: ep,
		pa: pa.data, b: b, ldb: ldb, transB: transB}
	j.run(run)
}

// BPacker fills dst with one packed panel of op(B): rows [k0,k0+kc) and
// columns [j0,j0+nc) with nc <= NR. The panel is row-major with width
// w = len(dst)/kc (NR for full panels, PanelWidth(nc) for the last one):
// op(B)[k0+k][j0+j] goes to dst[k*w+j], and columns [nc,w) must be zeroed.
// Each panel is requested once per call, j0 is a multiple of NR, and with
// a Runner the packer is called concurrently (on disjoint dst).
type BPacker func(dst []float32, k0, kc, j0, nc int)

// SgemmPackedAWithBPacker computes C = op(A)*B (+ epilogue), C being
// pa.M() x n, with the B panels produced by packB on demand (implicit
// im2col). C is not read unless the epilogue reads it.
func SgemmPackedAWithBPacker(pa *PackedA, n int, packB BPacker, c []float32, ldc int, ep *Epilogue, run Runner) {
	checkC(pa.m, n, c, ldc, ep)
	if pa.m == 0 || n == 0 {
		return
	}
	j := job{ks: pa.ks, m: pa.m, n: n, k: pa.k, kc: pa.kc, alpha: 1, c: c, ldc: ldc, ep: ep,
		pa: pa.data, bfn: packB}
	j.run(run)
}

// NR returns the panel width (columns) a BPacker must produce for panels
// used with matrices packed by PackA from now on.
func NR() int { return active.nr }

// PanelWidth returns the padded width w of a packed B panel holding nc
// columns (nc <= NR): nc rounded up to the kernel's vector length.
func PanelWidth(nc int) int { return active.panelWidth(nc) }

// PackedB is op(B) (K x N) packed once into the kernel's panel layout, for a
// constant right operand such as fully-connected weights.
type PackedB struct {
	ks     *kernelSet
	k, n   int
	kc, nw int // K block, total padded width
	data   []float32
}

// K returns the rows of op(B); N its columns.
func (p *PackedB) K() int { return p.k }

// N returns the columns of op(B).
func (p *PackedB) N() int { return p.n }

// PackB packs op(B) (k x n) for repeated use with SgemmPackedB.
func PackB(transB bool, k, n int, b []float32, ldb int) *PackedB {
	checkMat("B", transB, k, n, b, ldb)
	ks := active
	p := &PackedB{ks: ks, k: k, n: n, kc: blockK(k, ks), nw: paddedWidth(n, ks)}
	p.data = alignedFloats(k * p.nw)
	for k0 := 0; k0 < k; k0 += p.kc {
		kc := min(p.kc, k-k0)
		packBBlock(p.data[k0*p.nw:], ks, b, ldb, transB, nil, k0, kc, 0, n, n)
	}
	return p
}

// SgemmPackedB is Sgemm with a pre-packed op(B); pb fixes K and N.
func SgemmPackedB(transA bool, m int, alpha float32, a []float32, lda int, pb *PackedB, beta float32, c []float32, ldc int, ep *Epilogue, run Runner) {
	checkMat("A", transA, m, pb.k, a, lda)
	checkC(m, pb.n, c, ldc, ep)
	if m == 0 || pb.n == 0 {
		return
	}
	j := job{ks: pb.ks, m: m, n: pb.n, k: pb.k, kc: pb.kc, alpha: alpha, beta: beta, c: c, ldc: ldc, ep: ep,
		a: a, lda: lda, transA: transA, pb: pb.data, pbw: pb.nw}
	if m == 1 && !transA {
		j.pa = a[:pb.k]
	}
	j.runRowBlocks(run)
}

// runRowBlocks runs a job whose op(A) is packed by the GEMM itself in
// blocks of rows sized by blockM, bounding the packing memory to about
// half of L3 however large A is.
func (j *job) runRowBlocks(run Runner) {
	mc := blockM(j.m, j.k, j.ks)
	if mc >= j.m || j.pa != nil {
		j.run(run)
		return
	}
	var ep Epilogue
	for i := 0; i < j.m; i += mc {
		sub := *j
		sub.m = min(mc, j.m-i)
		if j.transA {
			sub.a = j.a[i:]
		} else {
			sub.a = j.a[i*j.lda:]
		}
		sub.c = j.c[i*j.ldc:]
		if j.ep != nil {
			ep = *j.ep
			if ep.Bias != nil && ep.BiasPerRow {
				ep.Bias = ep.Bias[i:]
			}
			if ep.Residual != nil {
				ep.LdR = j.ep.ldr(j.n)
				ep.Residual = ep.Residual[i*ep.LdR:]
			}
			sub.ep = &ep
		}
		sub.run(run)
	}
}

// paddedWidth is the total width of n columns split into NR panels, the
// last padded to the vector length.
func paddedWidth(n int, ks *kernelSet) int {
	return n/ks.nr*ks.nr + ks.panelWidth(n%ks.nr)
}

func checkMat(name string, trans bool, rows, cols int, x []float32, ld int) {
	if rows < 0 || cols < 0 {
		panic(fmt.Sprintf("gemm: negative dimension of %s (%dx%d)", name, rows, cols))
	}
	if trans {
		rows, cols = cols, rows
	}
	if ld < max(cols, 1) {
		panic(fmt.Sprintf("gemm: leading dimension of %s is %d, want >= %d", name, ld, cols))
	}
	if rows > 0 && cols > 0 && len(x) < (rows-1)*ld+cols {
		panic(fmt.Sprintf("gemm: %s has %d elements, want >= %d", name, len(x), (rows-1)*ld+cols))
	}
}

func checkC(m, n int, c []float32, ldc int, ep *Epilogue) {
	checkMat("C", false, m, n, c, ldc)
	if ep == nil {
		return
	}
	if ep.Bias != nil {
		want := n
		if ep.BiasPerRow {
			want = m
		}
		if len(ep.Bias) < want {
			panic(fmt.Sprintf("gemm: bias has %d elements, want >= %d", len(ep.Bias), want))
		}
	}
	if ep.Residual != nil {
		checkMat("Residual", false, m, n, ep.Residual, ep.ldr(n))
	}
	if ep.Act > ActLeakyRelu {
		panic(fmt.Sprintf("gemm: unknown activation %d", ep.Act))
	}
}

func (ep *Epilogue) ldr(n int) int {
	if ep.LdR == 0 {
		return n
	}
	return ep.LdR
}
