//go:build purego || !amd64

package nn

// useIm2colAsm is false without assembly kernels.
var useIm2colAsm = false

// im2colRows reports that there is no assembly panel copy.
func (p *im2colPacker) im2colRows(dst []float32, w int, rs []packRun, ci, q, rows int) bool {
	return false
}

// gather2 reports that there is no assembly stride-2 gather.
func gather2(dst, src []float32) bool { return false }
