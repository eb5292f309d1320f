//go:build !purego

package nn

import "golang.org/x/sys/cpu"

// useIm2colAsm selects the AVX-512 panel copy; tests turn it off to check
// the Go path.
var useIm2colAsm = cpu.X86.HasAVX512F

// packRunAsm is a packRun for the assembly: byte offsets into the panel
// row and the source row, and the masks of the run's two 16-float halves.
type packRunAsm struct {
	dst, src int
	m0, m1   uint16
	_        uint32
}

// im2colRows copies the runs rs of rows panel rows (see
// im2colRowsAVX512). It reports false, having done nothing, when the
// assembly is not available.
func (p *im2colPacker) im2colRows(dst []float32, w int, rs []packRun, ci, q, rows int) bool {
	if !useIm2colAsm || rows == 0 || len(rs) == 0 {
		return false
	}
	var ra [packBatch]packRunAsm
	reach, end := 0, 0
	for i, r := range rs {
		if r.n > 32 {
			return false
		}
		lo := uint32(1)<<min(r.n, 16) - 1
		hi := uint32(1)<<max(r.n-16, 0) - 1
		ra[i] = packRunAsm{dst: 4 * r.off, src: 4 * r.at, m0: uint16(lo), m1: uint16(hi)}
		reach = max(reach, r.at+r.n)
		end = max(end, r.off+r.n)
	}
	// The assembly trusts its arguments: check the extents it touches.
	last := (q + rows - 1) / len(p.taps)
	if (rows-1)*w+end > len(dst) || (ci+last)*p.in.chLen+p.maxTap+reach > len(p.in.data) {
		panic("nn: im2colRows out of range")
	}
	im2colRowsAVX512(&dst[0], 4*w, rows, &p.in.data[ci*p.in.chLen], 4*p.in.chLen, &p.taps[0], len(p.taps), q, &ra[0], len(rs))
	return true
}

//go:noescape
func im2colRowsAVX512(dst *float32, ldd, rows int, ch *float32, chLen int, taps *int, ntaps, q int, runs *packRunAsm, nruns int)

// gather2Idx picks the even lanes of two 16-float vectors.
var gather2Idx = [16]int32{0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30}

// gather2 sets dst[i] = src[2*i] with the AVX-512 permute; src holds at
// least 2*len(dst)-1 floats. Stride-2 convolutions gather their whole
// input this way (convInput.fill), which one float at a time in Go took
// about a tenth of a strided 1x1 convolution. It reports false, having
// done nothing, when the assembly is not available.
func gather2(dst, src []float32) bool {
	n := len(dst)
	if !useIm2colAsm || n == 0 {
		return false
	}
	if len(src) < 2*n-1 {
		panic("nn: gather2 source too short")
	}
	// Full blocks need 32 readable floats: all but the last block.
	nb := (n - 1) / 16
	r := n - 16*nb
	lanes := func(k int) uint64 { return 1<<min(max(k, 0), 16) - 1 }
	masks := lanes(2*r-1) | lanes(2*r-1-16)<<16 | lanes(r)<<32
	gather2AVX512(&dst[0], &src[0], nb, &gather2Idx, masks)
	return true
}

//go:noescape
func gather2AVX512(dst, src *float32, nb int, idx *[16]int32, masks uint64)
