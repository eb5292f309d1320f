//go:build purego || !amd64

package nn

// useDw3Asm is false without assembly kernels.
var useDw3Asm = false

// dw3Row computes the interior of a 3x3 depthwise output row (see
// dw3RowGo).
func dw3Row(y, r0, r1, r2 []float32, w *[9]float32, stride int, bias, lo, hi float32) {
	dw3RowGo(y, r0, r1, r2, w, stride, bias, lo, hi)
}
