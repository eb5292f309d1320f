package gemm

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"
)

// pool is a fixed set of worker goroutines, like the runtime's pool: the
// calling goroutine runs task 0 and the workers take the rest.
type pool struct {
	work chan poolItem
}

type poolItem struct {
	fn func(int)
	t  int
	wg *sync.WaitGroup
}

func newPool(workers int) *pool {
	p := &pool{work: make(chan poolItem, 64)}
	for i := 0; i < workers; i++ {
		go func() {
			for it := range p.work {
				it.fn(it.t)
				it.wg.Done()
			}
		}()
	}
	return p
}

func (p *pool) close() { close(p.work) }

func (p *pool) run(tasks int, fn func(int)) {
	var wg sync.WaitGroup
	wg.Add(tasks - 1)
	for t := 1; t < tasks; t++ {
		p.work <- poolItem{fn, t, &wg}
	}
	fn(0)
	wg.Wait()
}

// threadCases returns the Runner configurations to benchmark: 1 thread
// (nil Runner) and 2 threads (a 2-worker pool with GOMAXPROCS 2).
func threadCases(b *testing.B, f func(b *testing.B, run Runner)) {
	b.Run("t1", func(b *testing.B) { f(b, nil) })
	b.Run("t2", func(b *testing.B) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
		p := newPool(1)
		defer p.close()
		f(b, p.run)
	})
}

func reportGFLOPS(b *testing.B, m, n, k int) {
	b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func benchRand(n int) []float32 {
	r := rand.New(rand.NewPCG(1, 1))
	return randSlice(r, n)
}

// BenchmarkSgemm measures square products and typical CNN shapes.
func BenchmarkSgemm(b *testing.B) {
	for _, s := range []int{64, 128, 256, 512, 1024} {
		b.Run(fmt.Sprintf("square%d", s), func(b *testing.B) {
			benchSgemm(b, s, s, s)
		})
	}
	// Convolutions as GEMMs (A = weights Cout x Cin*kh*kw, prepacked; B =
	// im2col patches): ResNet-style layers at 56x56, 14x14 and 7x7.
	for _, s := range [][3]int{{64, 3136, 576}, {128, 784, 1152}, {256, 196, 2304}, {512, 49, 4608}, {64, 3136, 64}} {
		m, n, k := s[0], s[1], s[2]
		b.Run(fmt.Sprintf("conv_M%d_N%d_K%d", m, n, k), func(b *testing.B) {
			a, bb, c := benchRand(m*k), benchRand(k*n), make([]float32, m*n)
			pa := PackA(false, m, k, a, k)
			ep := &Epilogue{Bias: benchRand(m), BiasPerRow: true, Act: ActRelu}
			threadCases(b, func(b *testing.B, run Runner) {
				for b.Loop() {
					SgemmPackedA(pa, false, n, 1, bb, n, 0, c, n, ep, run)
				}
				reportGFLOPS(b, m, n, k)
			})
		})
	}
	// Fully connected layers: batch x in -> out with prepacked weights, and
	// the matrix-vector case as a plain Sgemm.
	for _, s := range [][3]int{{1, 1000, 512}, {32, 1000, 2048}} {
		m, n, k := s[0], s[1], s[2]
		b.Run(fmt.Sprintf("fc_M%d_N%d_K%d", m, n, k), func(b *testing.B) {
			a, w, c := benchRand(m*k), benchRand(n*k), make([]float32, m*n)
			pb := PackB(true, k, n, w, k)
			threadCases(b, func(b *testing.B, run Runner) {
				for b.Loop() {
					SgemmPackedB(false, m, 1, a, k, pb, 0, c, n, nil, run)
				}
				reportGFLOPS(b, m, n, k)
			})
		})
	}
	b.Run("gemv_M1000_N1_K512", func(b *testing.B) { benchSgemm(b, 1000, 1, 512) })
}

func benchSgemm(b *testing.B, m, n, k int) {
	a, bb, c := benchRand(m*k), benchRand(k*n), make([]float32, m*n)
	threadCases(b, func(b *testing.B, run Runner) {
		for b.Loop() {
			Sgemm(false, false, m, n, k, 1, a, k, bb, n, 0, c, n, nil, run)
		}
		reportGFLOPS(b, m, n, k)
	})
}

// BenchmarkKernels runs each kernel set on a 512^3 product.
func BenchmarkKernels(b *testing.B) {
	saved := active
	defer func() { active = saved }()
	for _, ks := range kernelSets {
		if ks.isa == "go" {
			continue
		}
		active = ks
		b.Run(ks.name, func(b *testing.B) { benchSgemm(b, 512, 512, 512) })
	}
}

// BenchmarkFMAPeak measures the fp32 FMA peak with a tight loop of
// independent FMAs, on one thread and on two concurrently.
func BenchmarkFMAPeak(b *testing.B) {
	for _, l := range fmaPeakLoops() {
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/t%d", l.name, threads), func(b *testing.B) {
				const iters = 1 << 20
				start := time.Now()
				for b.Loop() {
					var wg sync.WaitGroup
					for t := 0; t < threads; t++ {
						wg.Add(1)
						go func() {
							defer wg.Done()
							l.run(iters)
						}()
					}
					wg.Wait()
				}
				sec := time.Since(start).Seconds()
				b.ReportMetric(float64(threads)*float64(l.flops)*iters*float64(b.N)/sec/1e9, "GFLOP/s")
			})
		}
	}
}
