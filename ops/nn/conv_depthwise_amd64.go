//go:build !purego

package nn

import "golang.org/x/sys/cpu"

// useDw3Asm selects the AVX-512 kernels; tests turn it off to check the
// Go twin.
var useDw3Asm = cpu.X86.HasAVX512F

// dw3Rows computes rows output rows of a 3x3 depthwise plane (see
// dw3RowsGo for the contract).
func dw3Rows(y, src []float32, w *[9]float32, n, rows, ld, step, stride int, bias, lo, hi float32) {
	if !useDw3Asm || n == 0 || rows == 0 {
		dw3RowsGo(y, src, w, n, rows, ld, step, stride, bias, lo, hi)
		return
	}
	// The assembly trusts its arguments: check the extents it touches.
	if len(y) < rows*n || len(src) < (rows-1)*step+2*ld+(n-1)*stride+3 {
		panic("nn: dw3Rows out of range")
	}
	if stride == 1 {
		dw3s1AVX512(&y[0], &src[0], w, n, rows, 4*ld, 4*step, bias, lo, hi)
	} else {
		dw3s2AVX512(&y[0], &src[0], w, n, rows, 4*ld, 4*step, bias, lo, hi)
	}
}

// dw3s1AVX512 and dw3s2AVX512 are dw3RowsGo for stride 1 and 2 (ld and
// step in bytes), 16 outputs per vector, row tails masked.
//
//go:noescape
func dw3s1AVX512(y, src *float32, w *[9]float32, n, rows, ld, step int, bias, lo, hi float32)

//go:noescape
func dw3s2AVX512(y, src *float32, w *[9]float32, n, rows, ld, step int, bias, lo, hi float32)
