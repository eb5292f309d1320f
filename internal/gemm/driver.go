package gemm

import (
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

// job is one GEMM call after argument checking. Each operand comes either
// packed for the whole matrix (pa, pb) or raw, in which case it is packed
// piecewise by the tasks that use it.
type job struct {
	ks          *kernelSet
	m, n, k, kc int
	alpha, beta float32
	c           []float32
	ldc         int
	ep          *Epilogue

	pa      []float32       // op(A) in the packed layout (pack.go), or nil
	paState []atomic.Uint32 // per (K block, panel) of pa when packed on demand
	a       []float32
	lda     int
	transA  bool

	pb      []float32 // op(B) in the packed layout with total width pbw, or nil
	pbState []atomic.Uint32
	pbw     int
	bfn     BPacker
	b       []float32
	ldb     int
	transB  bool
}

// minTaskFlops is the least work worth a task of its own: below roughly
// 20µs of compute the hand-off to another worker costs more than it saves.
var minTaskFlops = 2 << 20

// rawBRows is the most rows a task may have for it to read a row-major B
// in place instead of packing it. In place skips a full copy of B, which
// matters when each B element meets few rows; with many rows the aligned,
// contiguous packed panels win: a panel read in place touches a page per
// k row, which with the C and residual tiles overflows the L1 TLB (256
// rows in place ran ResNet-50's 64->256 and 1024->256 1x1 convolutions
// about 8% slower).
const rawBRows = 128

// run executes the job, splitting it across run's workers when worthwhile.
//
// Tasks split either the columns or the rows of C, in a single Runner
// call. The operand every task reads in full (A for a column split, B for
// a row split) must exist packed for the whole matrix; unless the caller
// pre-packed it, its panels are packed on demand by whichever task needs
// each one first (see claim). Each task packs its own slice of the other
// operand.
func (j *job) run(run Runner) {
	if j.k == 0 {
		j.scaleOnly()
		return
	}
	ks := j.ks
	T := 1
	if run != nil {
		T = min(maxThreads(), 2*j.m*j.n*j.k/minTaskFlops)
	}
	mp := (j.m + ks.mr - 1) / ks.mr
	np := (j.n + ks.nr - 1) / ks.nr
	if T <= 1 || max(mp, np) < 2 {
		ws := getWorkspace()
		j.task(ws, 0, j.m, 0, j.n)
		putWorkspace(ws)
		return
	}
	// Split the dimension that balances best (a whole panel is the unit).
	// Prefer rows when B is pre-packed and columns otherwise, so the
	// shared operand is the one already packed.
	bm, bn := balance(j.m, T, ks.mr), balance(j.n, T, ks.nr)
	splitRows := bm > bn || (j.pb != nil && bm >= bn)
	if j.bfn != nil && bn >= 0.75 {
		// A BPacker (implicit im2col) makes B costly to pack, and in a
		// row split the tasks wait on each other for every shared
		// panel: columns give each task its own panels to pack.
		splitRows = false
	}
	kb := (j.k + j.kc - 1) / j.kc
	px := getParallel()
	px.j = *j
	px.splitRows = splitRows
	if splitRows {
		T = min(T, mp)
		px.bounds = splitRange(px.bounds[:0], j.m, T, ks.mr)
		if j.pb == nil && !j.bInPlace((mp+T-1)/T*ks.mr) {
			px.shared = getWorkspace()
			px.j.pbw = paddedWidth(j.n, ks)
			px.j.pb = px.shared.bufB(j.k * px.j.pbw)
			px.j.pbState = px.states(kb * np)
		}
	} else {
		T = min(T, np)
		px.bounds = splitRange(px.bounds[:0], j.n, T, ks.nr)
		if j.pa == nil {
			px.shared = getWorkspace()
			px.j.pa = px.shared.bufA(j.m * j.k)
			px.j.paState = px.states(kb * mp)
		}
	}
	run(T, px.fn)
	putParallel(px)
}

// Panel states for on-demand packing of a shared operand.
const (
	panelEmpty = iota
	panelPacking
	panelReady
	panelFailed // the packer panicked (say, in a caller's BPacker)
)

// claim makes sure the shared panel with state s is packed, packing it
// with pack if no other task has started to. A task that finds the panel
// being packed waits: the packer is running (it claimed the panel from
// inside its own task), so this cannot deadlock even when the Runner runs
// tasks one after another. If the packer panics, waiters panic too rather
// than wait forever, so the Runner can return and report it.
func claim(s *atomic.Uint32, pack func()) {
	if s.Load() == panelReady {
		return
	}
	if s.CompareAndSwap(panelEmpty, panelPacking) {
		defer func() {
			if s.Load() != panelReady {
				s.Store(panelFailed)
			}
		}()
		pack()
		s.Store(panelReady)
		return
	}
	for {
		switch s.Load() {
		case panelReady:
			return
		case panelFailed:
			panic("gemm: a shared panel could not be packed (another task panicked)")
		}
		runtime.Gosched()
	}
}

// balance is the efficiency of cutting n into pieces made of whole units
// for t threads: the ideal piece n/t over the largest piece.
func balance(n, t, unit int) float64 {
	units := (n + unit - 1) / unit
	pieces := min(t, units)
	largest := 0
	for i := 0; i < pieces; i++ {
		lo, hi := min(units*i/pieces*unit, n), min(units*(i+1)/pieces*unit, n)
		largest = max(largest, hi-lo)
	}
	return float64(n) / float64(t*largest)
}

// splitRange cuts [0,n) into t pieces whose inner bounds are multiples of
// unit, as even as the unit allows.
func splitRange(dst []int, n, t, unit int) []int {
	units := (n + unit - 1) / unit
	dst = append(dst, 0)
	for i := 1; i < t; i++ {
		dst = append(dst, min(units*i/t*unit, n))
	}
	return append(dst, n)
}

// maxThreads is the number of tasks worth creating: the Runner's pool is
// assumed to have about one worker per P.
func maxThreads() int { return runtime.GOMAXPROCS(0) }

// parallel carries a job (or a parallel dot product) through the Runner.
// It is pooled together with its bound method value so that a parallel
// call allocates nothing.
type parallel struct {
	j         job
	dot       dotArgs
	isDot     bool
	splitRows bool
	bounds    []int
	state     []atomic.Uint32
	shared    *workspace
	fn        func(int)
}

var parallelPool = sync.Pool{New: func() any {
	px := new(parallel)
	px.fn = px.work
	return px
}}

func getParallel() *parallel { return parallelPool.Get().(*parallel) }

func putParallel(px *parallel) {
	if px.shared != nil {
		putWorkspace(px.shared)
		px.shared = nil
	}
	px.j = job{}
	px.dot = dotArgs{}
	px.isDot = false
	parallelPool.Put(px)
}

// states returns n panel states, all panelEmpty.
func (px *parallel) states(n int) []atomic.Uint32 {
	if cap(px.state) < n {
		px.state = make([]atomic.Uint32, n)
	}
	s := px.state[:n]
	for i := range s {
		s[i].Store(panelEmpty)
	}
	return s
}

func (px *parallel) work(t int) {
	lo, hi := px.bounds[t], px.bounds[t+1]
	if px.isDot {
		px.dot.run(lo, hi)
		return
	}
	ws := getWorkspace()
	if px.splitRows {
		px.j.task(ws, lo, hi, 0, px.j.n)
	} else {
		px.j.task(ws, 0, px.j.m, lo, hi)
	}
	putWorkspace(ws)
}

// task computes the block rows [i0,i1) x columns [j0,j1) of C; i0 and j0
// are multiples of MR and NR.
//
// Loop order (innermost last): NC column blocks, K blocks, MR row panels,
// NR column panels. The B block (kc x nc) stays in L2 while each A
// micro-panel (mr x kc) stays in L1 across the row of B panels.
func (j *job) task(ws *workspace, i0, i1, j0, j1 int) {
	ks := j.ks
	pa, aRows, aBase := j.pa, j.m, 0
	if pa == nil {
		// Pack this task's rows of op(A) for every K block.
		aRows, aBase = i1-i0, i0
		pa = ws.bufA(aRows * j.k)
		for k0 := 0; k0 < j.k; k0 += j.kc {
			kc := min(j.kc, j.k-k0)
			for i := i0; i < i1; i += ks.mr {
				packA(pa[k0*aRows+kc*(i-i0):], j.a, j.lda, j.transA, i, min(ks.mr, i1-i), k0, kc)
			}
		}
	}
	rawB := j.pb == nil && j.bInPlace(i1-i0)

	// The kernels are called through func values, so the argument block
	// would escape; it lives in the pooled workspace instead.
	p := &ws.args
	*p = kargs{ldc: j.ldc * 4, alpha: j.alpha, beta: j.beta}
	var ldr int
	if ep := j.ep; ep != nil {
		p.lo, p.hi, p.leak = ep.Min, ep.Max, ep.Alpha
		ldr = ep.ldr(j.n)
		p.ldr = ldr * 4
	}
	nc := blockN(j.kc, ks)
	for jc := j0; jc < j1; jc += nc {
		jn := min(jc+nc, j1)
		for k0, kb := 0, 0; k0 < j.k; k0, kb = k0+j.kc, kb+1 {
			kc := min(j.kc, j.k-k0)
			flags := j.flags(k0 == 0, k0+kc == j.k)
			var bblk []float32
			switch {
			case j.pb != nil:
				bblk = j.pb[k0*j.pbw+kc*jc:]
			case !rawB:
				bblk = ws.bufB(kc * paddedWidth(jn-jc, ks))
				packBBlock(bblk, ks, j.b, j.ldb, j.transB, j.bfn, k0, kc, jc, jn, j.n)
			}
			p.k = kc
			for i := i0; i < i1; i += ks.mr {
				mr := min(ks.mr, i1-i)
				if j.paState != nil {
					claim(&j.paState[kb*j.panelsM()+i/ks.mr], func() {
						packA(pa[k0*aRows+kc*i:], j.a, j.lda, j.transA, i, mr, k0, kc)
					})
				}
				p.a = unsafe.Pointer(&pa[k0*aRows+kc*(i-aBase)])
				for jp := jc; jp < jn; jp += ks.nr {
					nr := min(ks.nr, jn-jp)
					w := ks.nr
					if nr < w {
						w = ks.panelWidth(nr)
					}
					if j.pbState != nil {
						claim(&j.pbState[kb*j.panelsN()+jp/ks.nr], func() {
							packBBlock(bblk[kc*(jp-jc):], ks, j.b, j.ldb, j.transB, j.bfn, k0, kc, jp, jp+nr, j.n)
						})
					}
					if bblk != nil {
						p.b = unsafe.Pointer(&bblk[kc*(jp-jc)])
						p.bstride = w * 4
					} else if last := (k0+kc-1)*j.ldb + jp + w; last <= len(j.b) {
						p.b = unsafe.Pointer(&j.b[k0*j.ldb+jp])
						p.bstride = j.ldb * 4
					} else {
						// The vector loads would run past the end of b.
						d := ws.bufB(kc * w)
						packBPanel(d, j.b, j.ldb, false, k0, kc, jp, nr, w)
						p.b = unsafe.Pointer(&d[0])
						p.bstride = w * 4
					}
					p.c = unsafe.Pointer(&j.c[i*j.ldc+jp])
					p.flags = flags
					if flags&flagBiasRow != 0 {
						p.bias = unsafe.Pointer(&j.ep.Bias[i])
					} else if flags&flagBiasCol != 0 {
						p.bias = unsafe.Pointer(&j.ep.Bias[jp])
					}
					if flags&flagRes != 0 {
						p.res = unsafe.Pointer(&j.ep.Residual[i*ldr+jp])
					}
					if rem := nr % ks.vl; ks.tails != nil && rem != 0 && mr >= rem+4 && kc >= 32 {
						j.columnTail(ws, p, mr, nr, rem)
					} else {
						ks.kernel(p, mr, nr)(p)
					}
				}
			}
		}
	}
}

// columnTail computes a tile whose last rem columns (rem < vl) would fill
// only rem lanes of a vector: the full vectors go through the normal
// kernel, the last columns through the column-tail kernel (vectors along
// M, mr of 16 lanes busy) into a scratch tile finished in Go.
func (j *job) columnTail(ws *workspace, p *kargs, mr, nr, rem int) {
	ks := j.ks
	full := nr - rem
	if full > 0 {
		ks.kernel(p, mr, full)(p)
	}
	b, c, bias, res := p.b, p.c, p.bias, p.res
	p.b = unsafe.Add(b, 4*full)
	p.c = unsafe.Pointer(&ws.tile[0])
	p.astride = 4 * mr
	p.kmask[0] = uint16(1<<mr - 1)
	ks.tails[rem](p)
	p.b = b
	p.c = unsafe.Add(c, 4*full)
	if p.flags&flagBiasCol != 0 {
		p.bias = unsafe.Add(bias, 4*full)
	}
	if p.flags&flagRes != 0 {
		p.res = unsafe.Add(res, 4*full)
	}
	p.mr, p.n = mr, rem
	finishTile(p, ws.tile[:], 1, 16)
	p.c, p.bias, p.res = c, bias, res
}

// bInPlace reports whether a task with rows rows reads B in place rather
// than packing it (see rawBRows).
func (j *job) bInPlace(rows int) bool {
	return j.bfn == nil && !j.transB && rows <= rawBRows
}

func (j *job) panelsM() int { return (j.m + j.ks.mr - 1) / j.ks.mr }
func (j *job) panelsN() int { return (j.n + j.ks.nr - 1) / j.ks.nr }

// flags returns the kernel flags for a K block: alpha and beta apply to
// the first block, later blocks accumulate into C, and the epilogue runs
// with the last.
func (j *job) flags(first, last bool) uint32 {
	var f uint32
	if j.alpha != 1 {
		f |= flagAlpha
	}
	switch {
	case !first || j.beta == 1:
		f |= flagBeta1
	case j.beta != 0:
		f |= flagBetaAny
	}
	if ep := j.ep; last && ep != nil {
		if ep.Bias != nil {
			if ep.BiasPerRow {
				f |= flagBiasRow
			} else {
				f |= flagBiasCol
			}
		}
		if ep.Residual != nil {
			f |= flagRes
		}
		f |= uint32(ep.Act) << actShift
	}
	return f
}

// scaleOnly handles K == 0, where C = beta*C followed by the epilogue.
func (j *job) scaleOnly() {
	var acc [1]float32
	var p kargs
	p.ldc = j.ldc * 4
	if ep := j.ep; ep != nil {
		p.lo, p.hi, p.leak = ep.Min, ep.Max, ep.Alpha
		p.ldr = ep.ldr(j.n) * 4
	}
	p.alpha, p.beta = j.alpha, j.beta
	f := j.flags(true, true) &^ flagAlpha
	for i := 0; i < j.m; i++ {
		for jj := 0; jj < j.n; jj++ {
			p.flags, p.mr, p.n = f, 1, 1
			p.c = unsafe.Pointer(&j.c[i*j.ldc+jj])
			if f&flagBiasRow != 0 {
				p.bias = unsafe.Pointer(&j.ep.Bias[i])
			} else if f&flagBiasCol != 0 {
				p.bias = unsafe.Pointer(&j.ep.Bias[jj])
			}
			if f&flagRes != 0 {
				p.res = unsafe.Pointer(&j.ep.Residual[i*j.ep.ldr(j.n)+jj])
			}
			finishTile(&p, acc[:], 0, 0)
		}
	}
}

// workspace holds one goroutine's packing buffers; it is pooled so steady
// state GEMM calls do not allocate.
type workspace struct {
	a, b []float32
	args kargs
	tile [16 * 16]float32 // column-tail scratch
}

var workspacePool = sync.Pool{New: func() any { return new(workspace) }}

func getWorkspace() *workspace  { return workspacePool.Get().(*workspace) }
func putWorkspace(w *workspace) { workspacePool.Put(w) }

func (w *workspace) bufA(n int) []float32 { return growAligned(&w.a, n) }
func (w *workspace) bufB(n int) []float32 { return growAligned(&w.b, n) }

func growAligned(buf *[]float32, n int) []float32 {
	if cap(*buf) < n+16 {
		*buf = make([]float32, n+n/4+16)
	}
	return alignSlice((*buf)[:cap(*buf)], n)
}
