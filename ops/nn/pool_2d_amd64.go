//go:build !purego

package nn

import "golang.org/x/sys/cpu"

// usePoolAsm selects the AVX-512 max-pool passes; tests turn it off to
// check the Go twins.
var usePoolAsm = cpu.X86.HasAVX512F

// maxInto sets dst[i] to the NaN-propagating maximum of dst[i] and src[i].
func maxInto(dst, src []float32) {
	src = src[:len(dst)]
	if !usePoolAsm || len(dst) == 0 {
		maxIntoGo(dst, src)
		return
	}
	maxIntoAVX512(&dst[0], &src[0], len(dst))
}

// slideMax sets y[o] to the NaN-propagating maximum of line[o*stride +
// t*dil] for t < k.
func slideMax(y, line []float32, k, stride, dil int) {
	n := len(y)
	if n == 0 {
		return
	}
	line = line[:(n-1)*stride+(k-1)*dil+1] // the assembly reads no further
	switch {
	case !usePoolAsm || dil != 1:
	case k == 3 && stride == 1:
		slideMax3s1AVX512(&y[0], &line[0], n)
		return
	case k == 3 && stride == 2:
		slideMax3s2AVX512(&y[0], &line[0], n)
		return
	case k == 2 && stride == 2:
		slideMax2s2AVX512(&y[0], &line[0], n)
		return
	}
	slideMaxGo(y, line, k, stride, dil)
}

// max3Rows computes rows output rows of a 3x3 stride-1 max-pool plane
// (see max3RowsGo).
func max3Rows(y, src []float32, n, rows, ld, step int) {
	if !usePoolAsm || n == 0 || rows == 0 {
		max3RowsGo(y, src, n, rows, ld, step)
		return
	}
	// The assembly trusts its arguments: check the extents it touches.
	if len(y) < rows*n || len(src) < (rows-1)*step+2*ld+n+2 {
		panic("nn: max3Rows out of range")
	}
	max3s1AVX512(&y[0], &src[0], n, rows, 4*ld, 4*step)
}

//go:noescape
func max3s1AVX512(y, src *float32, n, rows, ld, step int)

//go:noescape
func maxIntoAVX512(dst, src *float32, n int)

//go:noescape
func slideMax3s1AVX512(y, line *float32, n int)

//go:noescape
func slideMax3s2AVX512(y, line *float32, n int)

//go:noescape
func slideMax2s2AVX512(y, line *float32, n int)
