//go:build purego || !amd64

package nn

// useDw3Asm is false without assembly kernels.
var useDw3Asm = false

// dw3Rows computes rows output rows of a 3x3 depthwise plane (see
// dw3RowsGo).
func dw3Rows(y, src []float32, w *[9]float32, n, rows, ld, step, stride int, bias, lo, hi float32) {
	dw3RowsGo(y, src, w, n, rows, ld, step, stride, bias, lo, hi)
}
