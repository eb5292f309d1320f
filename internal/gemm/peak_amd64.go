//go:build !purego

package gemm

import "golang.org/x/sys/cpu"

//go:noescape
func fmaLoop512(iters int)

//go:noescape
func fmaLoop256(iters int)

// fmaPeakLoops lists the peak-FMA loops this CPU can run, with the flops
// one iteration performs.
func fmaPeakLoops() []peakLoop {
	var l []peakLoop
	if cpu.X86.HasAVX512F {
		l = append(l, peakLoop{"avx512", 24 * 32, fmaLoop512})
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		l = append(l, peakLoop{"avx2", 12 * 16, fmaLoop256})
	}
	return l
}
