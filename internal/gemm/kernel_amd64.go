//go:build !purego

package gemm

import (
	"math/bits"

	"golang.org/x/sys/cpu"
)

// platformKernelSets returns the assembly kernel sets this CPU (and OS)
// supports, fastest first. cpu.X86 only reports AVX/AVX-512 when the OS
// saves the wide register state.
func platformKernelSets() []*kernelSet {
	var sets []*kernelSet
	if cpu.X86.HasAVX512F {
		for _, ks := range generatedSets {
			if ks.isa == "avx512" {
				sets = append(sets, ks)
			}
		}
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		for _, ks := range generatedSets {
			if ks.isa == "avx2" {
				sets = append(sets, ks)
			}
		}
	}
	return sets
}

// hasAVX512 reports whether the AVX-512 packing and dot-product helpers
// (transpose16, copyRows, dot4) can run. They serve every kernel set.
var hasAVX512 = cpu.X86.HasAVX512F

// transpose16 transposes chunks consecutive 16-column chunks of a rows x 16
// block (rows <= 16) of src into 16-row blocks of dst, writing the lanes
// set in mask (missing rows read as zero). Strides are in floats.
func transpose16(dst, src []float32, srcStride, dstStride, rows, chunks int, mask uint16) {
	if chunks == 0 {
		return
	}
	// The assembly trusts its arguments; check the extents here.
	lanes := bits.Len16(mask)
	if rows < 1 || rows > 16 || len(src) < (rows-1)*srcStride+16*chunks || len(dst) < (16*chunks-1)*dstStride+lanes {
		panic("gemm: transpose16 out of range")
	}
	transpose16x16(&dst[0], &src[0], srcStride*4, dstStride*4, rows, chunks, mask)
}

//go:noescape
func copy2D(dst, src *float32, rows, srcStride, dstStride int, masks uint64)

// copyRows copies rows rows of cols floats (strides in floats) into rows of
// width dcols >= cols, zeroing columns [cols,dcols). dcols is at most 32.
func copyRows(dst, src []float32, rows, cols, dcols, srcStride, dstStride int) {
	if rows == 0 {
		return
	}
	if cols < 1 || dcols < cols || dcols > 32 || len(src) < (rows-1)*srcStride+cols || len(dst) < (rows-1)*dstStride+dcols {
		panic("gemm: copyRows out of range")
	}
	lanes := func(n, chunk int) uint64 { return 1<<min(max(n-16*chunk, 0), 16) - 1 }
	masks := lanes(cols, 0) | lanes(cols, 1)<<16 | lanes(dcols, 0)<<32 | lanes(dcols, 1)<<48
	copy2D(&dst[0], &src[0], rows, srcStride*4, dstStride*4, masks)
}

//go:noescape
func dot4(r0, r1, r2, r3, x *float32, k int, y *[4]float32)

//go:noescape
func dot4avx2(r0, r1, r2, r3, x *float32, k int, y *[4]float32)

// dot4Kernel sets y[i] = dot(ri[0:k], x[0:k]) for four rows, or is nil
// when there is no SIMD version.
var dot4Kernel = func() func(r0, r1, r2, r3, x *float32, k int, y *[4]float32) {
	switch {
	case cpu.X86.HasAVX512F:
		return dot4
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		return dot4avx2
	}
	return nil
}()

// simulateISA makes the packing and dot-product helpers behave as on a
// machine whose best instruction set is isa ("avx512", "avx2" or "go"),
// for tests. It returns a function that undoes it.
func simulateISA(isa string) (restore func()) {
	h, d := hasAVX512, dot4Kernel
	hasAVX512 = isa == "avx512" && cpu.X86.HasAVX512F
	switch {
	case hasAVX512:
		dot4Kernel = dot4
	case isa == "avx2" && cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		dot4Kernel = dot4avx2
	default:
		dot4Kernel = nil
	}
	return func() { hasAVX512, dot4Kernel = h, d }
}
