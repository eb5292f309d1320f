//go:build !amd64 || purego

package gemm

// platformKernelSets: without assembly only the portable kernel exists.
func platformKernelSets() []*kernelSet { return nil }
