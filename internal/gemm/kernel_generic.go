//go:build !amd64 || purego

package gemm

// platformKernelSets: without assembly only the portable kernel exists.
func platformKernelSets() []*kernelSet { return nil }

var hasAVX512 = false

func transpose16(dst, src []float32, srcStride, dstStride, rows, chunks int, mask uint16) {
	panic("gemm: transpose16 needs AVX-512")
}

func copyRows(dst, src []float32, rows, cols, dcols, srcStride, dstStride int) {
	panic("gemm: copyRows needs AVX-512")
}

var dot4Kernel func(r0, r1, r2, r3, x *float32, k int, y *[4]float32)

// simulateISA: only the portable code exists here.
func simulateISA(isa string) (restore func()) { return func() {} }
