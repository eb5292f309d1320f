package nn

import (
	"context"
	"fmt"
	"math/rand/v2"
	goruntime "runtime"
	"strings"
	"testing"

	"stride/graph"
	"stride/internal/parallel"
	"stride/ops"
	"stride/tensor"
)

// Convolution benchmarks on ResNet / MobileNet layer shapes, reporting
// GFLOP/s (2 flops per multiply-add of the direct definition, whatever the
// algorithm) for the fast path ("fast": the default choice, weights
// packed at build), the packed GEMM where Winograd is the default
// ("direct"), and the im2col reference it all replaced ("im2col"), on one
// and two threads.

type convBench struct {
	name string
	c    convCase
}

var convBenches = []convBench{
	{"64-64 3x3 56", convCase{x: []int{1, 64, 56, 56}, w: []int{64, 64, 3, 3}, pads: []int{1, 1, 1, 1}, bias: true}},
	{"128-128 3x3 28", convCase{x: []int{1, 128, 28, 28}, w: []int{128, 128, 3, 3}, pads: []int{1, 1, 1, 1}, bias: true}},
	{"256-256 3x3 14", convCase{x: []int{1, 256, 14, 14}, w: []int{256, 256, 3, 3}, pads: []int{1, 1, 1, 1}, bias: true}},
	{"512-512 3x3 7", convCase{x: []int{1, 512, 7, 7}, w: []int{512, 512, 3, 3}, pads: []int{1, 1, 1, 1}, bias: true}},
	{"256-512 1x1 s2", convCase{x: []int{1, 256, 56, 56}, w: []int{512, 256, 1, 1}, strides: []int{2, 2}, bias: true}},
	{"64-256 1x1 56", convCase{x: []int{1, 64, 56, 56}, w: []int{256, 64, 1, 1}, bias: true}},
	{"3-64 7x7 s2 224", convCase{x: []int{1, 3, 224, 224}, w: []int{64, 3, 7, 7}, strides: []int{2, 2}, pads: []int{3, 3, 3, 3}, bias: true}},
	{"dw32 3x3 112 s1", convCase{x: []int{1, 32, 112, 112}, w: []int{32, 1, 3, 3}, group: 32, pads: []int{1, 1, 1, 1}, bias: true}},
	{"dw144 3x3 56 s2", convCase{x: []int{1, 144, 56, 56}, w: []int{144, 1, 3, 3}, group: 144, strides: []int{2, 2}, pads: []int{1, 1, 1, 1}, bias: true}},
	{"16-96 1x1 112", convCase{x: []int{1, 16, 112, 112}, w: []int{96, 16, 1, 1}, bias: true}},
	{"dw96 3x3 112 s2", convCase{x: []int{1, 96, 112, 112}, w: []int{96, 1, 3, 3}, group: 96, strides: []int{2, 2}, pads: []int{1, 1, 1, 1}, bias: true}},
	{"dw960 3x3 7 s1", convCase{x: []int{1, 960, 7, 7}, w: []int{960, 1, 3, 3}, group: 960, pads: []int{1, 1, 1, 1}, bias: true}},
	{"128-16 1x1 55", convCase{x: []int{1, 128, 55, 55}, w: []int{16, 128, 1, 1}, bias: true}},
	{"64-256 3x3 13 b8", convCase{x: []int{8, 64, 13, 13}, w: []int{256, 64, 3, 3}, pads: []int{1, 1, 1, 1}, bias: true}},
	{"48-192 3x3 13 b8", convCase{x: []int{8, 48, 13, 13}, w: []int{192, 48, 3, 3}, pads: []int{1, 1, 1, 1}, bias: true}},
	{"128-32 3x3 28 b8", convCase{x: []int{8, 128, 28, 28}, w: []int{32, 128, 3, 3}, pads: []int{1, 1, 1, 1}, bias: true}},
	{"64-64 3x3 56 b8", convCase{x: []int{8, 64, 56, 56}, w: []int{64, 64, 3, 3}, pads: []int{1, 1, 1, 1}, bias: true}},
	{"512-2048 1x1 7 b8", convCase{x: []int{8, 512, 7, 7}, w: []int{2048, 512, 1, 1}, bias: true}},
	{"256-1024 1x1 14 b8", convCase{x: []int{8, 256, 14, 14}, w: []int{1024, 256, 1, 1}, bias: true}},
	{"128-256 3x3 s2 b8", convCase{x: []int{8, 128, 28, 28}, w: []int{256, 128, 3, 3}, strides: []int{2, 2}, pads: []int{1, 1, 1, 1}, bias: true}},
	{"256-512 1x1 s2 b8", convCase{x: []int{8, 256, 14, 14}, w: []int{512, 256, 1, 1}, strides: []int{2, 2}, bias: true}},
	{"128-32 3x3 56", convCase{x: []int{1, 128, 56, 56}, w: []int{32, 128, 3, 3}, pads: []int{1, 1, 1, 1}, bias: true}},
	{"128-32 3x3 28", convCase{x: []int{1, 128, 28, 28}, w: []int{32, 128, 3, 3}, pads: []int{1, 1, 1, 1}, bias: true}},
	{"128-32 3x3 14", convCase{x: []int{1, 128, 14, 14}, w: []int{32, 128, 3, 3}, pads: []int{1, 1, 1, 1}, bias: true}},
	{"128-32 3x3 7", convCase{x: []int{1, 128, 7, 7}, w: []int{32, 128, 3, 3}, pads: []int{1, 1, 1, 1}, bias: true}},
	{"512-128 1x1 14", convCase{x: []int{1, 512, 14, 14}, w: []int{128, 512, 1, 1}, bias: true}},
	{"16-64 3x3 55", convCase{x: []int{1, 16, 55, 55}, w: []int{64, 16, 3, 3}, pads: []int{1, 1, 1, 1}, bias: true}},
	{"64-256 3x3 13", convCase{x: []int{1, 64, 13, 13}, w: []int{256, 64, 3, 3}, pads: []int{1, 1, 1, 1}, bias: true}},
	{"512-1000 1x1 13", convCase{x: []int{1, 512, 13, 13}, w: []int{1000, 512, 1, 1}, bias: true}},
	{"1024-128 1x1 7", convCase{x: []int{1, 1024, 7, 7}, w: []int{128, 1024, 1, 1}, bias: true}},
	{"512-512 3x3 7 b8", convCase{x: []int{8, 512, 7, 7}, w: []int{512, 512, 3, 3}, pads: []int{1, 1, 1, 1}, bias: true}},
	// ResNet-50's 1x1 convolutions at batch 8 ("r50" prefix: -bench 'Conv/r50').
	{"r50 64-256 1x1 56 b8 res", convCase{x: []int{8, 64, 56, 56}, w: []int{256, 64, 1, 1}, bias: true}},
	{"r50 256-64 1x1 56 b8", convCase{x: []int{8, 256, 56, 56}, w: []int{64, 256, 1, 1}, bias: true}},
	{"r50 256-128 1x1 56 b8", convCase{x: []int{8, 256, 56, 56}, w: []int{128, 256, 1, 1}, bias: true}},
	{"r50 256-512 1x1 s2 56 b8", convCase{x: []int{8, 256, 56, 56}, w: []int{512, 256, 1, 1}, strides: []int{2, 2}, bias: true}},
	{"r50 128-512 1x1 28 b8 res", convCase{x: []int{8, 128, 28, 28}, w: []int{512, 128, 1, 1}, bias: true}},
	{"r50 512-128 1x1 28 b8", convCase{x: []int{8, 512, 28, 28}, w: []int{128, 512, 1, 1}, bias: true}},
	{"r50 512-1024 1x1 s2 28 b8", convCase{x: []int{8, 512, 28, 28}, w: []int{1024, 512, 1, 1}, strides: []int{2, 2}, bias: true}},
	{"r50 256-1024 1x1 14 b8 res", convCase{x: []int{8, 256, 14, 14}, w: []int{1024, 256, 1, 1}, bias: true}},
	{"r50 1024-256 1x1 14 b8", convCase{x: []int{8, 1024, 14, 14}, w: []int{256, 1024, 1, 1}, bias: true}},
	{"r50 1024-2048 1x1 s2 14 b8", convCase{x: []int{8, 1024, 14, 14}, w: []int{2048, 1024, 1, 1}, strides: []int{2, 2}, bias: true}},
	{"r50 512-2048 1x1 7 b8 res", convCase{x: []int{8, 512, 7, 7}, w: []int{2048, 512, 1, 1}, bias: true}},
	{"r50 2048-512 1x1 7 b8", convCase{x: []int{8, 2048, 7, 7}, w: []int{512, 2048, 1, 1}, bias: true}},
	{"r50 512-512 3x3 s2 14 b8", convCase{x: []int{8, 512, 14, 14}, w: []int{512, 512, 3, 3}, strides: []int{2, 2}, pads: []int{1, 1, 1, 1}, bias: true}},
}

func BenchmarkConv(b *testing.B) {
	pool := parallel.New(2)
	defer pool.Close()
	for _, cb := range convBenches {
		r := rand.New(rand.NewPCG(1, 2))
		x, w, bt := randTensor(r, cb.c.x...), randTensor(r, cb.c.w...), randTensor(r, cb.c.w[0])
		a, err := parseConv(&graph.Node{Op: "Conv", Attrs: cb.c.attrs()}, false)
		if err != nil {
			b.Fatal(err)
		}
		g, err := a.geometry(x.Shape, w.Shape, bt, false)
		if err != nil {
			b.Fatal(err)
		}
		flops := 2 * float64(g.n*g.m*product(g.out)*g.cg*g.kk)
		y := tensor.Zeros(tensor.Float32, append([]int{g.n, g.m}, g.out...)...)
		k := buildNode(b, "", "Conv", cb.c.attrs(), []bool{false, true, true}, x, w, bt)
		ins := []*tensor.Tensor{x, w, bt}
		if strings.HasSuffix(cb.name, " res") {
			// FusedConv with a residual input and Relu, as the last
			// convolution of a ResNet block.
			attrs := cb.c.attrs()
			attrs["activation"] = graph.StringAttr("Relu")
			z := randTensor(r, y.Shape...)
			ins = append(ins, z)
			k = buildNode(b, Domain, "FusedConv", attrs, []bool{false, true, true, false}, ins...)
		}
		for _, threads := range []int{1, 2} {
			var p *parallel.Pool
			if threads > 1 {
				p = pool
			}
			ctx := ops.NewCtx(context.Background(), p, newTestArena())
			b.Run(fmt.Sprintf("%s/fast/t%d", cb.name, threads), func(b *testing.B) {
				benchFlops(b, flops, threads, func() { ctx.Release(runKernel(b, k, ctx, ins...)) })
			})
			if winogradFits(a, w.Shape) && useWinograd(g) {
				b.Run(fmt.Sprintf("%s/direct/t%d", cb.name, threads), func(b *testing.B) {
					winogradOn = false
					defer func() { winogradOn = true }()
					benchFlops(b, flops, threads, func() { ctx.Release(runKernel(b, k, ctx, ins...)) })
				})
			}
			b.Run(fmt.Sprintf("%s/im2col/t%d", cb.name, threads), func(b *testing.B) {
				benchFlops(b, flops, threads, func() { convIm2col(ctx, g, x.F32(), w.F32(), bt, y.F32()) })
			})
		}
	}
}

// benchFlops times fn and reports GFLOP/s. The machines these run on are
// shared, so with one thread it also reports the rate per second of the
// thread's own CPU time (cpu-GFLOP/s), which time slicing does not skew.
func benchFlops(b *testing.B, flops float64, threads int, fn func()) {
	if threads == 1 {
		goruntime.LockOSThread()
		defer goruntime.UnlockOSThread()
	}
	t0 := threadCPU()
	for b.Loop() {
		fn()
	}
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if cpu := threadCPU() - t0; threads == 1 && cpu > 0 {
		b.ReportMetric(flops*float64(b.N)/cpu.Seconds()/1e9, "cpu-GFLOP/s")
	}
}
