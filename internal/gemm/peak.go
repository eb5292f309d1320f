package gemm

// peakLoop is a tight loop of independent fp32 FMAs used to measure the
// machine's arithmetic peak, the yardstick for GEMM efficiency
// (BenchmarkFMAPeak).
type peakLoop struct {
	name  string
	flops int // per iteration
	run   func(iters int)
}
