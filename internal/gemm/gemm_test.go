package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"
	"unsafe"
)

// goRunner is a parallel Runner: one goroutine per task.
func goRunner(tasks int, fn func(t int)) {
	var wg sync.WaitGroup
	for t := 0; t < tasks; t++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(t)
		}()
	}
	wg.Wait()
}

// forEachKernel runs f once with every kernel set this machine supports,
// with the packing and dot helpers of that set's instruction set, as on a
// machine where it is the best available.
func forEachKernel(t *testing.T, f func(t *testing.T)) {
	saved := active
	defer func() { active = saved }()
	for _, ks := range kernelSets {
		active = ks
		restore := simulateISA(ks.isa)
		t.Run(ks.name, f)
		restore()
	}
}

// params describes one test case.
type params struct {
	transA, transB bool
	m, n, k        int
	lda, ldb, ldc  int
	alpha, beta    float32
	ep             *Epilogue
}

func (p params) String() string {
	s := fmt.Sprintf("tA=%v tB=%v m=%d n=%d k=%d lda=%d ldb=%d ldc=%d alpha=%v beta=%v",
		p.transA, p.transB, p.m, p.n, p.k, p.lda, p.ldb, p.ldc, p.alpha, p.beta)
	if ep := p.ep; ep != nil {
		s += fmt.Sprintf(" bias=%v/row=%v res=%v act=%d", ep.Bias != nil, ep.BiasPerRow, ep.Residual != nil, ep.Act)
	}
	return s
}

// operands holds random inputs for a case.
type operands struct {
	a, b, c []float32
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = r.Float32()*2 - 1
	}
	return s
}

func newOperands(r *rand.Rand, p params) operands {
	ar, br := p.m, p.k
	if p.transA {
		ar = p.k
	}
	if p.transB {
		br = p.n
	}
	o := operands{
		a: randSlice(r, max(ar*p.lda, 1)),
		b: randSlice(r, max(br*p.ldb, 1)),
		c: randSlice(r, max(p.m*p.ldc, 1)),
	}
	if p.beta == 0 {
		// beta == 0 must not read C.
		for i := range o.c {
			o.c[i] = float32(math.NaN())
		}
	}
	return o
}

// reference computes the expected C and a per-element error bound.
func reference(p params, o operands) (want, bound []float64) {
	want = make([]float64, p.m*p.n)
	bound = make([]float64, p.m*p.n)
	at := func(i, l int) float64 {
		if p.transA {
			return float64(o.a[l*p.lda+i])
		}
		return float64(o.a[i*p.lda+l])
	}
	bt := func(l, j int) float64 {
		if p.transB {
			return float64(o.b[j*p.ldb+l])
		}
		return float64(o.b[l*p.ldb+j])
	}
	for i := 0; i < p.m; i++ {
		for j := 0; j < p.n; j++ {
			var s, mag float64
			for l := 0; l < p.k; l++ {
				s += at(i, l) * bt(l, j)
				mag += math.Abs(at(i, l) * bt(l, j))
			}
			v := float64(p.alpha) * s
			mag *= math.Abs(float64(p.alpha))
			if p.beta != 0 {
				cv := float64(p.beta) * float64(o.c[i*p.ldc+j])
				v += cv
				mag += math.Abs(cv)
			}
			if ep := p.ep; ep != nil {
				if ep.Bias != nil {
					var bv float64
					if ep.BiasPerRow {
						bv = float64(ep.Bias[i])
					} else {
						bv = float64(ep.Bias[j])
					}
					v += bv
					mag += math.Abs(bv)
				}
				if ep.Residual != nil {
					rv := float64(ep.Residual[i*ep.ldr(p.n)+j])
					v += rv
					mag += math.Abs(rv)
				}
				switch ep.Act {
				case ActRelu:
					v = math.Max(v, 0)
				case ActClip:
					v = math.Min(math.Max(v, float64(ep.Min)), float64(ep.Max))
				case ActLeakyRelu:
					if v < 0 {
						v *= float64(ep.Alpha)
						mag *= math.Max(1, math.Abs(float64(ep.Alpha)))
					}
				}
			}
			want[i*p.n+j] = v
			bound[i*p.n+j] = 2e-6*float64(p.k+4)*mag + 1e-30
		}
	}
	return want, bound
}

// check compares got (the C buffer after the call) with the reference and
// verifies that the padding between rows of C was not touched.
func check(t *testing.T, p params, o operands, got []float32, path string) {
	t.Helper()
	want, bound := reference(p, o)
	checkRef(t, p, o, got, path, want, bound)
}

func checkRef(t *testing.T, p params, o operands, got []float32, path string, want, bound []float64) {
	t.Helper()
	bad := 0
	for i := 0; i < p.m; i++ {
		for j := 0; j < p.n; j++ {
			g := float64(got[i*p.ldc+j])
			w := want[i*p.n+j]
			if !(math.Abs(g-w) <= bound[i*p.n+j]) {
				if bad < 3 {
					t.Errorf("%s %v: C[%d,%d] = %v, want %v (bound %g)", path, p, i, j, g, w, bound[i*p.n+j])
				}
				bad++
			}
		}
		for j := p.n; j < p.ldc && i*p.ldc+j < len(got); j++ {
			if g, w := got[i*p.ldc+j], o.c[i*p.ldc+j]; math.Float32bits(g) != math.Float32bits(w) {
				t.Fatalf("%s %v: padding C[%d,%d] changed to %v", path, p, i, j, g)
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%s %v: %d wrong elements", path, p, bad)
	}
}

func (p params) storedA() (rows, cols int) {
	if p.transA {
		return p.k, p.m
	}
	return p.m, p.k
}

func (p params) storedB() (rows, cols int) {
	if p.transB {
		return p.n, p.k
	}
	return p.k, p.n
}

// runPaths runs a case through every entry point that can express it.
func runPaths(t *testing.T, r *rand.Rand, p params, run Runner) {
	t.Helper()
	o := newOperands(r, p)
	got := func() []float32 { return append([]float32(nil), o.c...) }
	want, bound := reference(p, o)
	check := func(t *testing.T, p params, o operands, got []float32, path string) {
		t.Helper()
		checkRef(t, p, o, got, path, want, bound)
	}

	c := got()
	Sgemm(p.transA, p.transB, p.m, p.n, p.k, p.alpha, o.a, p.lda, o.b, p.ldb, p.beta, c, p.ldc, p.ep, run)
	check(t, p, o, c, "Sgemm")

	pa := PackA(p.transA, p.m, p.k, o.a, p.lda)
	c = got()
	SgemmPackedA(pa, p.transB, p.n, p.alpha, o.b, p.ldb, p.beta, c, p.ldc, p.ep, run)
	check(t, p, o, c, "SgemmPackedA")

	pb := PackB(p.transB, p.k, p.n, o.b, p.ldb)
	c = got()
	SgemmPackedB(p.transA, p.m, p.alpha, o.a, p.lda, pb, p.beta, c, p.ldc, p.ep, run)
	check(t, p, o, c, "SgemmPackedB")

	if p.alpha == 1 && p.beta == 0 {
		c = got()
		var calls sync.Mutex
		nr := pa.NR()
		SgemmPackedAWithBPacker(pa, p.n, func(dst []float32, k0, kc, j0, nc int) {
			calls.Lock()
			defer calls.Unlock()
			if nc > nr || len(dst)%kc != 0 || len(dst)/kc < nc {
				t.Errorf("BPacker called with len(dst)=%d k0=%d kc=%d j0=%d nc=%d (NR %d)", len(dst), k0, kc, j0, nc, nr)
				return
			}
			w := len(dst) / kc
			if nc == nr && w != nr {
				t.Errorf("full panel has width %d, want %d", w, nr)
			}
			for l := 0; l < kc; l++ {
				for j := 0; j < w; j++ {
					v := float32(0)
					if j < nc {
						if p.transB {
							v = o.b[(j0+j)*p.ldb+k0+l]
						} else {
							v = o.b[(k0+l)*p.ldb+j0+j]
						}
					}
					dst[l*w+j] = v
				}
			}
		}, c, p.ldc, p.ep, run)
		check(t, p, o, c, "SgemmPackedAWithBPacker")
	}
}

// TestAllShapes sweeps every m and n in 1..67 (with k cycling through
// values around the unroll and vector boundaries) for every kernel set.
func TestAllShapes(t *testing.T) {
	ks := []int{1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 67}
	step := 1
	if testing.Short() || raceEnabled {
		step = 3
	}
	forEachKernel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 2))
		for m := 1; m <= 67; m += step {
			for n := 1; n <= 67; n++ {
				k := ks[(m*7+n)%len(ks)]
				p := params{m: m, n: n, k: k, lda: k, ldb: n, ldc: n, alpha: 1}
				o := newOperands(r, p)
				c := append([]float32(nil), o.c...)
				Sgemm(false, false, m, n, k, 1, o.a, p.lda, o.b, p.ldb, 0, c, p.ldc, nil, nil)
				check(t, p, o, c, "Sgemm")
			}
		}
	})
}

// TestAllDepths sweeps k in 1..67 and some depths that cross K blocks.
func TestAllDepths(t *testing.T) {
	forEachKernel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(3, 4))
		depths := []int{}
		for k := 1; k <= 67; k++ {
			depths = append(depths, k)
		}
		depths = append(depths, 200, 300, 577, 1100)
		for _, k := range depths {
			for _, mn := range [][2]int{{1, 1}, {15, 33}, {29, 17}, {6, 48}} {
				p := params{m: mn[0], n: mn[1], k: k, lda: k + 3, ldb: mn[1] + 5, ldc: mn[1] + 2, alpha: 1, beta: 1}
				runPaths(t, r, p, nil)
			}
		}
	})
}

func epilogues(r *rand.Rand, m, n int) []*Epilogue {
	var eps []*Epilogue
	eps = append(eps, nil)
	eps = append(eps, &Epilogue{Bias: randSlice(r, n)})
	eps = append(eps, &Epilogue{Bias: randSlice(r, m), BiasPerRow: true, Act: ActRelu})
	eps = append(eps, &Epilogue{Residual: randSlice(r, m*(n+3)), LdR: n + 3})
	eps = append(eps, &Epilogue{Residual: randSlice(r, m*n), Act: ActClip, Min: -0.5, Max: 0.7})
	eps = append(eps, &Epilogue{Bias: randSlice(r, n), Residual: randSlice(r, m*n), Act: ActLeakyRelu, Alpha: 0.1})
	eps = append(eps, &Epilogue{Bias: randSlice(r, m), BiasPerRow: true, Act: ActLeakyRelu, Alpha: -2})
	eps = append(eps, &Epilogue{Act: ActRelu})
	return eps
}

// TestOptions covers transposes, strides, alpha/beta and every epilogue
// option through every entry point, serially and in parallel.
func TestOptions(t *testing.T) {
	defer func(v int) { minTaskFlops = v }(minTaskFlops)
	minTaskFlops = 1 // split even tiny problems
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	shapes := [][3]int{{1, 1, 1}, {3, 70, 5}, {37, 29, 19}, {14, 32, 8}, {50, 3, 40}, {65, 97, 300},
		{37, 1, 50}, {1, 45, 70}, {300, 1, 500}, {1, 300, 500}}
	if !testing.Short() && !raceEnabled {
		shapes = append(shapes, [3]int{130, 161, 600})
	}
	forEachKernel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(5, 6))
		for si, s := range shapes {
			m, n, k := s[0], s[1], s[2]
			// The larger shapes take a diagonal through the options.
			full := m*n*k < 100000
			for ti, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
				for ai, ab := range [][2]float32{{1, 0}, {1, 1}, {-0.5, 0}, {2, 0.25}} {
					for ei, ep := range epilogues(r, m, n) {
						if !full && (ti+ai+ei+si)%8 != 0 {
							continue
						}
						p := params{transA: tr[0], transB: tr[1], m: m, n: n, k: k, alpha: ab[0], beta: ab[1], ep: ep}
						ar, ac := p.storedA()
						br, bc := p.storedB()
						_, _ = ar, br
						p.lda, p.ldb, p.ldc = ac+(ei%3), bc+2*(ei%2), n+(ei%4)
						var run Runner
						if ei%2 == 1 {
							run = goRunner
						}
						runPaths(t, r, p, run)
					}
				}
			}
		}
	})
}

// TestVectorShapes sweeps the matrix-vector special cases: one output
// column or row, every transpose, depths around the vector tails.
func TestVectorShapes(t *testing.T) {
	forEachKernel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(9, 10))
		for k := 1; k <= 70; k += 1 + k/8 {
			for mn := 1; mn <= 40; mn += 3 {
				for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
					for _, col := range []bool{false, true} {
						p := params{transA: tr[0], transB: tr[1], m: 1, n: mn, k: k, alpha: 1.5, beta: 0.5}
						if col {
							p.m, p.n = mn, 1
						}
						_, ac := p.storedA()
						_, bc := p.storedB()
						p.lda, p.ldb, p.ldc = ac+k%3, bc+mn%2, p.n+k%2
						ep := epilogues(r, p.m, p.n)[(k+mn)%8]
						p.ep = ep
						o := newOperands(r, p)
						c := append([]float32(nil), o.c...)
						Sgemm(p.transA, p.transB, p.m, p.n, p.k, p.alpha, o.a, p.lda, o.b, p.ldb, p.beta, c, p.ldc, p.ep, nil)
						check(t, p, o, c, "Sgemm")
					}
				}
			}
		}
	})
}

// TestSmallBlocks shrinks the assumed caches so that modest shapes span
// several K and N blocks, in every entry point, serially and in parallel.
func TestSmallBlocks(t *testing.T) {
	defer func(l1, l2, l3, f int) {
		cacheL1, cacheL2, cacheL3, minTaskFlops = l1, l2, l3, f
	}(cacheL1, cacheL2, cacheL3, minTaskFlops)
	cacheL1, cacheL2, cacheL3, minTaskFlops = 4<<10, 48<<10, 100<<10, 1
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	forEachKernel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(11, 12))
		for i, s := range [][3]int{{45, 300, 200}, {300, 45, 150}, {29, 131, 257}, {1, 290, 130}, {290, 1, 130}} {
			for ti, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
				m, n, k := s[0], s[1], s[2]
				p := params{transA: tr[0], transB: tr[1], m: m, n: n, k: k, alpha: 1, beta: 0}
				if (i+ti)%2 == 1 {
					p.alpha, p.beta = 0.5, 2
				}
				p.ep = epilogues(r, m, n)[(i+ti)%8]
				_, ac := p.storedA()
				_, bc := p.storedB()
				p.lda, p.ldb, p.ldc = ac+1, bc, n+3
				var run Runner
				if ti%2 == 0 {
					run = goRunner
				}
				runPaths(t, r, p, run)
			}
		}
	})
}

// TestKZero checks that K == 0 yields beta*C plus the epilogue.
func TestKZero(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, beta := range []float32{0, 1, 0.5} {
		p := params{m: 5, n: 7, k: 0, lda: 1, ldb: 7, ldc: 9, alpha: 1, beta: beta,
			ep: &Epilogue{Bias: randSlice(r, 7), Act: ActRelu}}
		o := newOperands(r, p)
		c := append([]float32(nil), o.c...)
		Sgemm(false, false, p.m, p.n, 0, 1, o.a, p.lda, o.b, p.ldb, beta, c, p.ldc, p.ep, nil)
		check(t, p, o, c, "Sgemm")
	}
}

// TestNaNPropagation checks that NaN inputs stay NaN through activations.
func TestNaNPropagation(t *testing.T) {
	forEachKernel(t, func(t *testing.T) {
		for _, act := range []Act{ActNone, ActRelu, ActClip, ActLeakyRelu} {
			m, n, k := 3, 20, 4
			a := make([]float32, m*k)
			b := make([]float32, k*n)
			for i := range b {
				b[i] = 1
			}
			a[1*k+2] = float32(math.NaN())
			c := make([]float32, m*n)
			Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n, &Epilogue{Act: act, Min: -1, Max: 1, Alpha: 0.5}, nil)
			for j := 0; j < n; j++ {
				if !math.IsNaN(float64(c[n+j])) || math.IsNaN(float64(c[j])) {
					t.Fatalf("act %d: row 1 = %v, row 0 = %v", act, c[n+j], c[j])
				}
			}
		}
	})
}

func TestBadArguments(t *testing.T) {
	mustPanic := func(name string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s: no panic", name)
			}
		}()
		f()
	}
	a := make([]float32, 12)
	mustPanic("short C", func() { Sgemm(false, false, 3, 4, 4, 1, a, 4, a, 4, 0, a[:11], 4, nil, nil) })
	mustPanic("small lda", func() { Sgemm(false, false, 3, 4, 4, 1, a, 3, a, 4, 0, a, 4, nil, nil) })
	mustPanic("short bias", func() {
		Sgemm(false, false, 3, 4, 4, 1, a, 4, a, 4, 0, a, 4, &Epilogue{Bias: a[:3]}, nil)
	})
}

// TestPackerPanic checks that a panicking BPacker reaches the caller
// through the Runner instead of leaving other tasks waiting on its panel.
func TestPackerPanic(t *testing.T) {
	defer func(v int) { minTaskFlops = v }(minTaskFlops)
	minTaskFlops = 1
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	m, n, k := 200, 40, 64
	pa := PackA(false, m, k, make([]float32, m*k), k)
	c := make([]float32, m*n)
	// Runner that recovers task panics and re-raises one in the caller.
	run := func(tasks int, fn func(int)) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		var first any
		for t := 0; t < tasks; t++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() {
					if r := recover(); r != nil {
						mu.Lock()
						first = r
						mu.Unlock()
					}
				}()
				fn(t)
			}()
		}
		wg.Wait()
		if first != nil {
			panic(first)
		}
	}
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	SgemmPackedAWithBPacker(pa, n, func(dst []float32, k0, kc, j0, nc int) {
		time.Sleep(time.Millisecond)
		panic("packer failed")
	}, c, n, nil, run)
}

// TestKargsLayout keeps kargs in sync with the offsets in asmgen.
func TestKargsLayout(t *testing.T) {
	var p kargs
	want := map[string][2]uintptr{
		"a": {unsafe.Offsetof(p.a), 0}, "b": {unsafe.Offsetof(p.b), 8}, "c": {unsafe.Offsetof(p.c), 16},
		"bias": {unsafe.Offsetof(p.bias), 24}, "res": {unsafe.Offsetof(p.res), 32},
		"k": {unsafe.Offsetof(p.k), 40}, "bstride": {unsafe.Offsetof(p.bstride), 48},
		"ldc": {unsafe.Offsetof(p.ldc), 56}, "ldr": {unsafe.Offsetof(p.ldr), 64},
		"flags": {unsafe.Offsetof(p.flags), 72}, "alpha": {unsafe.Offsetof(p.alpha), 76},
		"beta": {unsafe.Offsetof(p.beta), 80}, "lo": {unsafe.Offsetof(p.lo), 84},
		"hi": {unsafe.Offsetof(p.hi), 88}, "leak": {unsafe.Offsetof(p.leak), 92},
		"kmask": {unsafe.Offsetof(p.kmask), 96}, "ymask": {unsafe.Offsetof(p.ymask), 120},
		"astride": {unsafe.Offsetof(p.astride), 152},
	}
	for name, o := range want {
		if o[0] != o[1] {
			t.Errorf("kargs.%s at offset %d, asmgen assumes %d", name, o[0], o[1])
		}
	}
}

// TestNoAllocs checks that steady-state calls reuse pooled buffers.
func TestNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	m, n, k := 100, 120, 300
	a, b, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
	// inline runs the tasks one after another: the parallel code path
	// without goroutines, whose start-up would allocate.
	inline := func(tasks int, fn func(int)) {
		for t := 0; t < tasks; t++ {
			fn(t)
		}
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	for _, run := range []Runner{nil, inline} {
		f := func() { Sgemm(false, true, m, n, k, 1, a, k, b, k, 0, c, n, nil, run) }
		f()
		if allocs := testing.AllocsPerRun(20, f); allocs > 0 {
			t.Errorf("Sgemm (runner %v) allocates %v times per call", run != nil, allocs)
		}
	}
}
