//go:build purego || !amd64

package nn

// useIm2colAsm is false without assembly kernels.
var useIm2colAsm = false

// im2colRows reports that there is no assembly panel copy.
func (p *im2colPacker) im2colRows(dst []float32, w int, rs []packRun, ci, q, rows int) bool {
	return false
}
