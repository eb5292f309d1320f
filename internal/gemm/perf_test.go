//go:build linux

package gemm

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// bestRate runs f in short windows and returns the best rate in GFLOP/s.
// On a shared machine the best window is the closest estimate of what the
// code does when it has the cores to itself.
func bestRate(flops float64, windows int, f func()) float64 {
	best := 0.0
	f() // warm up buffers and caches
	for w := 0; w < windows; w++ {
		n := 0
		start := time.Now()
		for time.Since(start) < 20*time.Millisecond || n == 0 {
			f()
			n++
		}
		best = max(best, flops*float64(n)/time.Since(start).Seconds()/1e9)
	}
	return best
}

func threadCPU() time.Duration {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts)
	return time.Duration(ts.Nano())
}

// cpuPool is a two-thread Runner that estimates the time a call would take
// with both CPUs to itself: the caller's thread CPU time plus, for each
// parallel phase, how much longer the worker's task ran than the caller's.
type cpuPool struct {
	work  chan func()
	done  chan time.Duration
	extra time.Duration
}

func newCPUPool() *cpuPool {
	p := &cpuPool{work: make(chan func()), done: make(chan time.Duration)}
	go func() {
		runtime.LockOSThread()
		for f := range p.work {
			st := threadCPU()
			f()
			p.done <- threadCPU() - st
		}
	}()
	return p
}

func (p *cpuPool) close() { close(p.work) }

func (p *cpuPool) run(tasks int, fn func(int)) {
	if tasks > 2 {
		panic("cpuPool: more than 2 tasks")
	}
	if tasks == 2 {
		p.work <- func() { fn(1) }
	}
	st := threadCPU()
	fn(0)
	mine := threadCPU() - st
	if tasks == 2 {
		p.extra += max(0, <-p.done-mine)
	}
}

// bestRate2CPU estimates the two-thread rate of f(run) from CPU times.
func bestRate2CPU(flops float64, windows int, f func(Runner)) float64 {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p := newCPUPool()
	defer p.close()
	best := 0.0
	f(p.run)
	for w := 0; w < windows; w++ {
		n := 0
		p.extra = 0
		start := threadCPU()
		for threadCPU()-start < 20*time.Millisecond || n == 0 {
			f(p.run)
			n++
		}
		best = max(best, flops*float64(n)/(threadCPU()-start+p.extra).Seconds()/1e9)
	}
	return best
}

// bestRateCPU is bestRate for single-threaded f, timed by the thread's CPU
// clock so time slices lost to other processes do not count.
func bestRateCPU(flops float64, windows int, f func()) float64 {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	now := func() time.Duration {
		var ts unix.Timespec
		unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts)
		return time.Duration(ts.Nano())
	}
	best := 0.0
	f()
	for w := 0; w < windows; w++ {
		n := 0
		start := now()
		for now()-start < 40*time.Millisecond || n == 0 {
			f()
			n++
		}
		best = max(best, flops*float64(n)/(now()-start).Seconds()/1e9)
	}
	return best
}

// TestPerfReport prints best-of-N GFLOP/s for the benchmark shapes next to
// the measured FMA peak. It only runs with GEMM_PERF=1 (optionally
// GEMM_PERF_FILTER=substring).
func TestPerfReport(t *testing.T) {
	if os.Getenv("GEMM_PERF") == "" {
		t.Skip("set GEMM_PERF=1 to run")
	}
	filter := os.Getenv("GEMM_PERF_FILTER")
	if name := os.Getenv("GEMM_PERF_KERNELS"); name != "" {
		// e.g. avx2-6x16 to see an AVX2-only machine (the AVX-512 packing
		// helpers are switched off with it).
		saved := active
		defer func() { active = saved }()
		if !useKernels(name) {
			t.Fatalf("no kernel set %q", name)
		}
		defer simulateISA(active.isa)()
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	p := newPool(1)
	defer p.close()
	windows := 25
	if w, err := strconv.Atoi(os.Getenv("GEMM_PERF_WINDOWS")); err == nil {
		windows = w
	}
	for _, l := range fmaPeakLoops() {
		t.Logf("peak %-6s 1 thread %6.1f GFLOP/s", l.name, bestRateCPU(float64(l.flops)*(1<<20), windows, func() { l.run(1 << 20) }))
		t.Logf("peak %-6s 2 threads %6.1f GFLOP/s", l.name, bestRate(2*float64(l.flops)*(1<<20), windows, func() {
			p.run(2, func(int) { l.run(1 << 20) })
		}))
	}
	type shape struct {
		name    string
		m, n, k int
		kind    string // "raw", "packedA", "packedB"
	}
	shapes := []shape{
		{"square256", 256, 256, 256, "raw"},
		{"square512", 512, 512, 512, "raw"},
		{"square1024", 1024, 1024, 1024, "raw"},
		{"conv_M64_N3136_K576", 64, 3136, 576, "packedA"},
		{"conv_M128_N784_K1152", 128, 784, 1152, "packedA"},
		{"conv_M256_N196_K2304", 256, 196, 2304, "packedA"},
		{"conv_M512_N49_K4608", 512, 49, 4608, "packedA"},
		{"conv_M64_N3136_K64", 64, 3136, 64, "packedA"},
		{"fc_M1_N1000_K512", 1, 1000, 512, "packedB"},
		{"fc_M32_N1000_K2048", 32, 1000, 2048, "packedB"},
		{"gemv_M1000_N1_K512", 1000, 1, 512, "raw"},
	}
	for _, s := range shapes {
		if filter != "" && !strings.Contains(s.name, filter) {
			continue
		}
		a, b, c := benchRand(s.m*s.k), benchRand(s.k*s.n), make([]float32, s.m*s.n)
		var f func(run Runner)
		switch s.kind {
		case "raw":
			f = func(run Runner) { Sgemm(false, false, s.m, s.n, s.k, 1, a, s.k, b, s.n, 0, c, s.n, nil, run) }
		case "packedA":
			pa := PackA(false, s.m, s.k, a, s.k)
			ep := &Epilogue{Bias: benchRand(s.m), BiasPerRow: true, Act: ActRelu}
			f = func(run Runner) { SgemmPackedA(pa, false, s.n, 1, b, s.n, 0, c, s.n, ep, run) }
		case "packedB":
			pb := PackB(true, s.k, s.n, b, s.k)
			f = func(run Runner) { SgemmPackedB(false, s.m, 1, a, s.k, pb, 0, c, s.n, nil, run) }
		}
		flops := 2 * float64(s.m) * float64(s.n) * float64(s.k)
		r1 := bestRateCPU(flops, windows, func() { f(nil) })
		r2 := bestRate(flops, windows, func() { f(p.run) })
		r2c := bestRate2CPU(flops, windows, f)
		t.Log(fmt.Sprintf("%-24s %-8s 1 thread %6.1f   2 threads %6.1f (wall) %6.1f (cpu) GFLOP/s", s.name, s.kind, r1, r2, r2c))
	}
}
