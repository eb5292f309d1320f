package nn

import (
	"fmt"
	"slices"
	"sync"

	"stride/internal/gemm"
	"stride/ops"
	"stride/tensor"
)

// The main convolution path: per image and group, Y = W * patches(X) as
// one GEMM whose left operand, the weights, is packed once at load, and
// whose right operand is packed panel by panel as the GEMM needs it
// (implicit im2col), so no patch matrix is ever stored. The panels are
// copied from X itself (1x1 stride-1 kernels take X as the operand
// directly), or from a zero-padded copy of X split into stride phases
// (convInput), where every run of a patch row is contiguous. Bias, the
// FusedConv residual and activation are applied by the GEMM epilogue as
// each output tile is stored. 1-D convolutions run as 2-D ones of height 1.

// packedWeights is W ([M, C/group, k...]) packed for the GEMM: per group,
// A = W reshaped to (M/group) x (C/group * kernel taps).
type packedWeights struct {
	groups []*gemm.PackedA
}

// packWeights packs a float32 W for group groups.
func packWeights(w *tensor.Tensor, group int) (*packedWeights, error) {
	if len(w.Shape) < 2 || group < 1 || w.Shape[0]%group != 0 {
		return nil, fmt.Errorf("W %v does not split into %d groups", w.Shape, group)
	}
	mg, k := w.Shape[0]/group, product(w.Shape[1:])
	wd := w.F32()
	if len(wd) != mg*group*k {
		return nil, fmt.Errorf("W has %d elements, want %d for shape %v", len(wd), mg*group*k, w.Shape)
	}
	pw := &packedWeights{groups: make([]*gemm.PackedA, group)}
	if k == 0 {
		return pw, nil // no taps: never packed (convPacked is not used)
	}
	for g := range pw.groups {
		pw.groups[g] = gemm.PackA(false, mg, k, wd[g*mg*k:(g+1)*mg*k], k)
	}
	return pw, nil
}

// conv2D is a 1-D or 2-D convolution's spatial geometry as 2-D (a 1-D one
// has height 1).
type conv2D struct {
	inH, inW, outH, outW int
	kh, kw               int
	sh, sw, dh, dw       int // strides and dilations
	ph, pw               int // leading pads
}

// spanH and spanW are the input extents, padding included, that the
// windows cover.
func (d *conv2D) spanH() int { return (d.outH-1)*d.sh + (d.kh-1)*d.dh + 1 }
func (d *conv2D) spanW() int { return (d.outW-1)*d.sw + (d.kw-1)*d.dw + 1 }

// phaseUsed reports whether some tap reads column phase p (padded columns
// p, p+sw, ...).
func (d *conv2D) phaseUsed(p int) bool {
	for kx := 0; kx < d.kw; kx++ {
		if (kx*d.dw)%d.sw == p {
			return true
		}
	}
	return false
}

// rowUsed reports whether some window reads padded input row r.
func (d *conv2D) rowUsed(r int) bool {
	for ky := 0; ky < d.kh; ky++ {
		if o := r - ky*d.dh; o >= 0 && o%d.sh == 0 && o/d.sh < d.outH {
			return true
		}
	}
	return false
}

func (g *convGeom) as2D() conv2D {
	ax := g.axes
	h := axis{in: 1, out: 1, k: 1, stride: 1, dil: 1}
	if len(ax) == 2 {
		h, ax = ax[0], ax[1:]
	}
	v := ax[0]
	return conv2D{inH: h.in, inW: v.in, outH: h.out, outW: v.out, kh: h.k, kw: v.k,
		sh: h.stride, sw: v.stride, dh: h.dil, dw: v.dil, ph: h.padB, pw: v.padB}
}

// pointwise reports whether output position j reads exactly input
// position j (1x1 kernel, stride 1, no padding): X itself is then B.
func (g *convGeom) pointwise() bool {
	if g.kk != 1 {
		return false
	}
	for _, ax := range g.axes {
		if ax.stride != 1 || ax.padB != 0 || ax.out != ax.in {
			return false
		}
	}
	return true
}

// convPacked runs the convolution as one packed GEMM per image and group.
func convPacked(c *ops.Ctx, g *convGeom, xd []float32, pw *packedWeights, bias, zd []float32, act fusedAct, yd []float32) {
	cols, inPlane := product(g.out), product(g.in)
	d := g.as2D()
	pointwise := g.pointwise()
	spreadGemm(c, g.n*g.g, func(u int, run gemm.Runner) {
		img, grp := u/g.g, u%g.g
		xg := xd[(img*g.c+grp*g.cg)*inPlane : (img*g.c+(grp+1)*g.cg)*inPlane]
		off := (img*g.m + grp*g.mg) * cols
		yg := yd[off : off+g.mg*cols]
		var b, z []float32
		if bias != nil {
			b = bias[grp*g.mg : (grp+1)*g.mg]
		}
		if zd != nil {
			z = zd[off : off+g.mg*cols]
		}
		var ep gemm.Epilogue
		e := act.epilogue(&ep, b, true, z, cols)
		pa := pw.groups[grp]
		if pointwise {
			gemm.SgemmPackedA(pa, false, cols, 1, xg, cols, 0, yg, cols, e, run)
			return
		}
		prep := prepareInput(c, &d, xg, g.cg)
		p := getIm2col(&d, prep)
		gemm.SgemmPackedAWithBPacker(pa, cols, p.fn, yg, cols, e, run)
		putIm2col(p)
		prep.release(c)
	})
}

// spreadGemm runs unit(u, run) for every u in [0, units). When the units
// divide evenly over the pool (or are many), they run in parallel with
// serial GEMMs; otherwise they run in turn, each GEMM split over the pool.
// A nil Runner keeps a GEMM on its goroutine.
func spreadGemm(c *ops.Ctx, units int, unit func(u int, run gemm.Runner)) {
	nt := threads(c)
	switch {
	case nt <= 1:
		for u := 0; u < units; u++ {
			unit(u, nil)
		}
	case units%nt == 0 || units >= 4*nt:
		c.Tasks(units, func(u int) { unit(u, nil) })
	default:
		for u := 0; u < units; u++ {
			unit(u, c.Tasks)
		}
	}
}

// convInput is one image's group of input channels laid out for panel
// packing: zero-padded, and split into stride-many column phases (phase
// p holds padded columns p, p+sw, p+2sw...). A row of the patch matrix,
// for tap (ky, kx), then reads along each output row the contiguous run
// phase (kx*dw)%sw, row oy*sh+ky*dh, columns ox+(kx*dw)/sw: packing is
// plain copies, with no bounds tests or strided gathers.
type convInput struct {
	data   []float32
	hp, wq int // rows, and columns per phase
	phases int
	chLen  int // floats per channel: phases*hp*wq
	t      *tensor.Tensor
}

// inputLayout returns the convInput geometry for d (without data), and
// whether the input can be used in place: no padding and no phases.
func inputLayout(d *conv2D) (convInput, bool) {
	hp := max(d.spanH(), d.ph+d.inH)
	wp := max(d.spanW(), d.pw+d.inW)
	if d.ph == 0 && d.pw == 0 && d.sw == 1 && hp == d.inH && wp == d.inW {
		return convInput{hp: d.inH, wq: d.inW, phases: 1, chLen: d.inH * d.inW}, true
	}
	ph := d.sw
	wq := (wp + ph - 1) / ph
	return convInput{hp: hp, wq: wq, phases: ph, chLen: ph * hp * wq}, false
}

// prepareInput lays out x (cg channels of d.inH x d.inW) as a convInput.
// An input that needs no padding or phases is used in place; otherwise
// the copy comes from c's arena (release gives it back).
func prepareInput(c *ops.Ctx, d *conv2D, x []float32, cg int) convInput {
	in, inPlace := inputLayout(d)
	if inPlace {
		in.data = x
		return in
	}
	t, err := c.Alloc(tensor.Float32, cg*in.chLen)
	if err != nil { // only for absurd sizes, which geometry has ruled out
		panic(err)
	}
	in.t, in.data = t, t.F32()
	in.fill(d, in.data, x, cg)
	return in
}

// fill writes the layout of one image's cg channels x into dst.
func (in *convInput) fill(d *conv2D, dst, x []float32, cg int) {
	inPlane := d.inH * d.inW
	ph, hp, wq := in.phases, in.hp, in.wq
	// Rows and phases no tap reads (a strided 1x1 kernel reads one row
	// in sh and one phase) are left unwritten. Which rows is asked once,
	// not per channel and phase: it showed in profiles of small maps.
	var usedBuf [64]bool
	used := usedBuf[:0]
	if hp > len(usedBuf) {
		used = make([]bool, 0, hp)
	}
	for r := 0; r < hp; r++ {
		used = append(used, d.rowUsed(r))
	}
	for ci := 0; ci < cg; ci++ {
		xc := x[ci*inPlane : (ci+1)*inPlane]
		for p := 0; p < ph; p++ {
			if !d.phaseUsed(p) {
				continue
			}
			dp := dst[ci*in.chLen+p*hp*wq : ci*in.chLen+(p+1)*hp*wq]
			// Padded column q*ph+p is input column q*ph+p-pw: the
			// phase's columns inside the input are [qa, qb).
			shift := p - d.pw
			qa := min(wq, max(0, ceilDiv(-shift, ph)))
			qb := max(qa, min(wq, ceilDiv(d.inW-shift, ph)))
			for r := 0; r < hp; r++ {
				if !used[r] {
					continue
				}
				row := dp[r*wq : (r+1)*wq]
				iy := r - d.ph
				if uint(iy) >= uint(d.inH) || qa == qb {
					clear(row)
					continue
				}
				gatherRow(row, xc[iy*d.inW:(iy+1)*d.inW], 0, qa, qb, shift, ph)
			}
		}
	}
}

func (in *convInput) release(c *ops.Ctx) {
	if in.t != nil {
		c.Release(in.t)
	}
}

// im2colPacker produces GEMM B panels of the patch matrix of one image
// and group: row k = (ci, ky, kx) and column j = (oy, ox) hold
// X[ci, oy*sh - ph + ky*dh, ox*sw - pw + kx*dw], 0 in the padding, read
// from a convInput.
type im2colPacker struct {
	in      convInput
	outW    int
	rowStep int          // offset between output rows in a phase: sh*wq
	taps    []int        // per tap (ky, kx): its offset within a channel
	maxTap  int          // the largest of taps
	fn      gemm.BPacker // p.pack, bound once
}

var im2colPool = sync.Pool{New: func() any {
	p := new(im2colPacker)
	p.fn = p.pack
	return p
}}

func getIm2col(d *conv2D, in convInput) *im2colPacker {
	p := im2colPool.Get().(*im2colPacker)
	p.in, p.outW, p.rowStep = in, d.outW, d.sh*in.wq
	p.taps = p.taps[:0]
	for ky := 0; ky < d.kh; ky++ {
		for kx := 0; kx < d.kw; kx++ {
			col := kx * d.dw
			p.taps = append(p.taps, (col%in.phases)*in.hp*in.wq+ky*d.dh*in.wq+col/in.phases)
		}
	}
	p.maxTap = slices.Max(p.taps)
	return p
}

func putIm2col(p *im2colPacker) {
	p.in = convInput{}
	im2colPool.Put(p)
}

// packRun is a stretch of a panel's columns along one output row: dst
// columns [off, off+n) read, for tap (0, 0) of channel 0, src[at:at+n].
type packRun struct{ off, n, at int }

// packBatch is the most runs pack cuts at a time.
const packBatch = 16

// pack is a gemm.BPacker: rows [k0, k0+kc) and columns [j0, j0+nc) of the
// patch matrix into dst, row-major with width len(dst)/kc, padding
// columns zeroed. The columns are cut into runs along output rows once;
// then each row of the panel is one copy per run.
func (p *im2colPacker) pack(dst []float32, k0, kc, j0, nc int) {
	w := len(dst) / kc
	if nc < w {
		for l := 0; l < kc; l++ {
			clear(dst[l*w+nc : l*w+w])
		}
	}
	var runs [packBatch]packRun
	taps := len(p.taps)
	for c0 := 0; c0 < nc; {
		// Up to len(runs) runs from column c0.
		nr := 0
		for ; nr < len(runs) && c0 < nc; nr++ {
			j := j0 + c0
			oy, ox := j/p.outW, j%p.outW
			n := min(p.outW-ox, nc-c0)
			runs[nr] = packRun{off: c0, n: n, at: oy*p.rowStep + ox}
			c0 += n
		}
		rs := runs[:nr]
		ci, q := k0/taps, k0%taps
		if p.im2colRows(dst, w, rs, ci, q, kc) {
			// Short runs (narrow outputs) cost a copy call each
			// in Go, as much as the product itself; the assembly
			// moves each under a mask.
			continue
		}
		for l := 0; l < kc; l++ {
			src := p.in.data[ci*p.in.chLen+p.taps[q]:]
			row := dst[l*w : l*w+w]
			if len(rs) == 1 && rs[0].n == 32 {
				// A full AVX-512 panel row: a fixed-size copy the
				// compiler inlines.
				*(*[32]float32)(row) = *(*[32]float32)(src[rs[0].at:])
			} else {
				for _, r := range rs {
					copy(row[r.off:r.off+r.n], src[r.at:r.at+r.n])
				}
			}
			if q++; q == taps {
				q = 0
				ci++
			}
		}
	}
}

// gatherRow fills seg, the outputs ox0, ox0+1, ... of one run, from the
// input row src: output o reads src[o*stride+shift], and is 0 outside
// [lo, hi).
func gatherRow(seg, src []float32, ox0, lo, hi, shift, stride int) {
	n := len(seg)
	a := min(max(lo-ox0, 0), n)
	b := min(max(hi-ox0, a), n)
	clear(seg[:a])
	clear(seg[b:])
	if a == b {
		return
	}
	dst := seg[a:b]
	s := src[(ox0+a)*stride+shift:]
	switch stride {
	case 1:
		copy(dst, s)
	case 2:
		s = s[:2*len(dst)-1]
		if gather2(dst, s) {
			return
		}
		for i := range dst {
			dst[i] = s[2*i]
		}
	default:
		s = s[:(len(dst)-1)*stride+1]
		for i := range dst {
			dst[i] = s[i*stride]
		}
	}
}
