//go:build !purego

package nn

import "golang.org/x/sys/cpu"

// useWinoAsm selects the AVX-512 transforms; tests turn it off to check
// the Go twins.
var useWinoAsm = cpu.X86.HasAVX512F

// winoZeros is the residual the output transform adds when there is none.
var winoZeros [64]float32

// winoInputRow transforms one row of tiles of one channel (see
// winoInputRowGo).
func winoInputRow(dst []float32, xiStride int, src []float32, ld, phase, tiles int, scratch *winoScratch) {
	if !useWinoAsm || tiles == 0 {
		winoInputRowGo(dst, xiStride, src, ld, phase, tiles)
		return
	}
	// The assembly reads 16 lanes per chunk: the prepared input is padded
	// for that; check the extents it touches.
	chunks := (tiles + winoLane - 1) / winoLane
	if len(src) < 5*ld+3*phase+winoLane*chunks+1 || len(dst) < (winoXi-1)*xiStride+tiles {
		panic("nn: winoInputRow out of range")
	}
	winoInputAVX512(&dst[0], 4*xiStride, &src[0], 4*ld, 4*phase, tiles, scratch)
}

// winoOutputRow transforms back one row of tiles of one output channel
// (see winoOutputRowGo).
func winoOutputRow(y, z []float32, width, rows int, src []float32, xiStride, tiles int, bias, lo, hi float32, scratch *winoScratch) {
	if !useWinoAsm || tiles == 0 || rows <= 0 {
		winoOutputRowGo(y, z, width, rows, src, xiStride, tiles, bias, lo, hi)
		return
	}
	need := (rows-1)*width + width
	if rows > winoTile || len(y) < need || len(src) < (winoXi-1)*xiStride+tiles || width > winoTile*tiles {
		panic("nn: winoOutputRow out of range")
	}
	zp, zrow := &winoZeros[0], 0
	if z != nil {
		if len(z) < need {
			panic("nn: winoOutputRow residual too short")
		}
		zp, zrow = &z[0], 4*width
	}
	winoOutputAVX512(&y[0], zp, width, rows, &src[0], 4*xiStride, tiles, bias, lo, hi, zrow, scratch)
}

//go:noescape
func winoInputAVX512(dst *float32, xiStride int, src *float32, ld, phase, tiles int, scratch *winoScratch)

//go:noescape
func winoOutputAVX512(y, z *float32, width, rows int, src *float32, xiStride, tiles int, bias, lo, hi float32, zrow int, scratch *winoScratch)

// deinterleave4 sets dst[p*phase + q] = src[4q+p] for p < 4, q < n.
func deinterleave4(dst []float32, phase int, src []float32, n int) {
	if !useWinoAsm || n == 0 {
		deinterleave4Go(dst, phase, src, n)
		return
	}
	if len(src) < 4*n || len(dst) < 3*phase+n {
		panic("nn: deinterleave4 out of range")
	}
	deinterleave4AVX512(&dst[0], 4*phase, &src[0], n)
}

//go:noescape
func deinterleave4AVX512(dst *float32, phase int, src *float32, n int)
