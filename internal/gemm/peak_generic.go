//go:build !amd64 || purego

package gemm

func fmaPeakLoops() []peakLoop { return nil }
