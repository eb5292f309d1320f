//go:build purego || !amd64

package nn

// usePoolAsm is false without assembly kernels.
var usePoolAsm = false

// maxInto sets dst[i] to the NaN-propagating maximum of dst[i] and src[i].
func maxInto(dst, src []float32) { maxIntoGo(dst, src) }

// slideMax sets y[o] to the NaN-propagating maximum of line[o*stride +
// t*dil] for t < k.
func slideMax(y, line []float32, k, stride, dil int) { slideMaxGo(y, line, k, stride, dil) }

// max3Rows computes rows output rows of a 3x3 stride-1 max-pool plane
// (see max3RowsGo).
func max3Rows(y, src []float32, n, rows, ld, step int) {
	max3RowsGo(y, src, n, rows, ld, step)
}
