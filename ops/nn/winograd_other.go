//go:build purego || !amd64

package nn

// useWinoAsm is false without assembly kernels.
var useWinoAsm = false

func winoInputRow(dst []float32, xiStride int, src []float32, ld, phase, tiles int, scratch *winoScratch) {
	winoInputRowGo(dst, xiStride, src, ld, phase, tiles)
}

func winoOutputRow(y, z []float32, width, rows int, src []float32, xiStride, tiles int, bias, lo, hi float32, scratch *winoScratch) {
	winoOutputRowGo(y, z, width, rows, src, xiStride, tiles, bias, lo, hi)
}

func deinterleave4(dst []float32, phase int, src []float32, n int) {
	deinterleave4Go(dst, phase, src, n)
}
