//go:build !purego

package nn

import "golang.org/x/sys/cpu"

// useDw3Asm selects the AVX-512 row kernel; tests turn it off to check the
// Go twin.
var useDw3Asm = cpu.X86.HasAVX512F

// dw3Row computes the interior of a 3x3 depthwise output row (see
// dw3RowGo for the contract).
func dw3Row(y, r0, r1, r2 []float32, w *[9]float32, stride int, bias, lo, hi float32) {
	n := len(y)
	if !useDw3Asm || n == 0 {
		dw3RowGo(y, r0, r1, r2, w, stride, bias, lo, hi)
		return
	}
	// The assembly trusts its arguments: check the extents it reads.
	span := (n-1)*stride + 3
	if len(r0) < span || len(r1) < span || len(r2) < span {
		panic("nn: dw3Row rows too short")
	}
	if stride == 1 {
		dw3s1AVX512(&y[0], &r0[0], &r1[0], &r2[0], w, n, bias, lo, hi)
	} else {
		dw3s2AVX512(&y[0], &r0[0], &r1[0], &r2[0], w, n, bias, lo, hi)
	}
}

// dw3s1AVX512 and dw3s2AVX512 are dw3RowGo for stride 1 and 2 on n > 0
// outputs, 16 per vector, the tail masked.
//
//go:noescape
func dw3s1AVX512(y, r0, r1, r2 *float32, w *[9]float32, n int, bias, lo, hi float32)

//go:noescape
func dw3s2AVX512(y, r0, r1, r2 *float32, w *[9]float32, n int, bias, lo, hi float32)
