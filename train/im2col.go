package train

import "stride/internal/kern"

// patchGeom is the 2-D window geometry of a convolution: input planes of
// h x w, kernel kh x kw, strides, begin pads and dilations, output planes of
// oh x ow. Columns of the patch matrix are output positions, rows are
// (channel, kernel row, kernel column) taps.
type patchGeom struct {
	c, h, w                int
	kh, kw, sh, sw, ph, pw int
	dh, dw                 int
	oh, ow                 int
}

func (g *patchGeom) rows() int    { return g.c * g.kh * g.kw }
func (g *patchGeom) inSize() int  { return g.c * g.h * g.w }
func (g *patchGeom) outSize() int { return g.oh * g.ow }

// colRange returns the output columns [lo, hi) whose input column for tap
// offset q lies inside the image.
func (g *patchGeom) colRange(q int) (int, int) {
	shift := q*g.dw - g.pw
	lo := 0
	if shift < 0 {
		lo = (-shift + g.sw - 1) / g.sw
	}
	hi := g.ow
	// need o*sw + shift <= w-1
	if m := g.w - 1 - shift; m < 0 {
		hi = 0
	} else if v := m/g.sw + 1; v < hi {
		hi = v
	}
	if lo > hi {
		lo = hi
	}
	return lo, hi
}

// im2col writes the patch matrix of nb images (x holds them one after the
// other) into col, a rows() x (nb*outSize()) matrix: column img*outSize()+p
// is output position p of image img.
func (g *patchGeom) im2col(x []float32, nb int, col []float32, tasks func(int, func(int))) {
	p := g.outSize()
	ld := nb * p
	kk := g.kh * g.kw
	tasks(g.rows(), func(r int) {
		c, q := r/kk, r%kk
		a, bq := q/g.kw, q%g.kw
		lo, hi := g.colRange(bq)
		shift := bq*g.dw - g.pw
		row := col[r*ld : (r+1)*ld]
		same := g.sameShift()
		for img := 0; img < nb; img++ {
			xp := x[img*g.inSize()+c*g.h*g.w:][:g.h*g.w]
			dst := row[img*p : (img+1)*p]
			if same {
				// Output and input planes have the same size: the tap's
				// plane is the input shifted, one copy plus the borders.
				g.shiftedCopy(dst, xp, a, bq)
				continue
			}
			for o := 0; o < g.oh; o++ {
				seg := dst[o*g.ow : (o+1)*g.ow]
				ih := o*g.sh - g.ph + a*g.dh
				if ih < 0 || ih >= g.h || lo >= hi {
					clear(seg)
					continue
				}
				clear(seg[:lo])
				clear(seg[hi:])
				src := xp[ih*g.w:][:g.w]
				if g.sw == 1 {
					copy(seg[lo:hi], src[lo+shift:hi+shift])
				} else {
					for j := lo; j < hi; j++ {
						seg[j] = src[j*g.sw+shift]
					}
				}
			}
		}
	})
}

// rowRange returns the output rows [lo, hi) whose input row for kernel
// row a lies inside the image.
func (g *patchGeom) rowRange(a int) (int, int) {
	shift := a*g.dh - g.ph
	lo := 0
	if shift < 0 {
		lo = (-shift + g.sh - 1) / g.sh
	}
	hi := g.oh
	if m := g.h - 1 - shift; m < 0 {
		hi = 0
	} else if v := m/g.sh + 1; v < hi {
		hi = v
	}
	return lo, max(lo, hi)
}

// sameShift reports whether output positions map to input positions by a
// constant shift per tap: stride 1, no dilation, output plane of the input's
// size (a "same" convolution).
func (g *patchGeom) sameShift() bool {
	return g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 && g.oh == g.h && g.ow == g.w
}

// shiftedCopy writes the patch row of tap (a, b) for one plane when
// sameShift holds: dst[o] = x[o + shift], 0 where the tap reads padding.
func (g *patchGeom) shiftedCopy(dst, x []float32, a, b int) {
	dy, dx := a-g.ph, b-g.pw
	w, n := g.w, g.h*g.w
	shift := dy*w + dx
	lo, hi := max(0, -shift), min(n, n-shift)
	clear(dst[:lo])
	clear(dst[hi:])
	copy(dst[lo:hi], x[lo+shift:hi+shift])
	// Positions whose column wrapped around a row edge read padding.
	g.clearWrapped(dst, dx)
}

// clearWrapped zeroes, in every row of a plane, the columns that a
// horizontal shift of dx moved across the row's edge.
func (g *patchGeom) clearWrapped(dst []float32, dx int) {
	w := g.w
	switch {
	case dx > 0:
		for r := 0; r < g.h; r++ {
			clear(dst[r*w+w-dx : r*w+w])
		}
	case dx < 0:
		for r := 0; r < g.h; r++ {
			clear(dst[r*w : r*w-dx])
		}
	}
}

// col2im adds the patch matrix col (as im2col lays it out) back into the
// images dx: every tap's value goes to the input element it was read from.
func (g *patchGeom) col2im(col []float32, nb int, dx []float32, tasks func(int, func(int))) {
	p := g.outSize()
	ld := nb * p
	kk := g.kh * g.kw
	type span struct{ lo, hi, shift int }
	cols, rows := make([]span, g.kw), make([]span, g.kh)
	for b := range cols {
		lo, hi := g.colRange(b)
		cols[b] = span{lo, hi, b*g.dw - g.pw}
	}
	for a := range rows {
		lo, hi := g.rowRange(a)
		rows[a] = span{lo, hi, a*g.dh - g.ph}
	}
	// Each task owns one channel of every image and walks the patch
	// matrix's rows of that channel in order, so col streams from memory.
	parts := 1
	if g.c < 8 {
		parts = min(nb, 8/g.c+1)
	}
	per := (nb + parts - 1) / parts
	same := g.sameShift()
	tasks(g.c*parts, func(t int) {
		c, part := t/parts, t%parts
		i0, i1 := part*per, min(nb, (part+1)*per)
		for q := 0; q < kk; q++ {
			rs, cs := rows[q/g.kw], cols[q%g.kw]
			if cs.lo >= cs.hi {
				continue
			}
			n := cs.hi - cs.lo
			row := col[(c*kk+q)*ld:][:ld]
			for img := i0; img < i1; img++ {
				xp := dx[img*g.inSize()+c*g.h*g.w:][:g.h*g.w]
				src := row[img*p:][:p]
				if same {
					// The taps that read padding are discarded; the rest
					// is one shifted vector add.
					ddy, ddx := q/g.kw-g.ph, q%g.kw-g.pw
					g.clearWrapped(src, ddx)
					shift := ddy*g.w + ddx
					lo, hi := max(0, -shift), min(p, p-shift)
					if lo < hi {
						d := xp[lo+shift : hi+shift]
						kern.Apply(kern.Add, d, d, src[lo:hi])
					}
					continue
				}
				for o := rs.lo; o < rs.hi; o++ {
					ih := o*g.sh + rs.shift
					seg := src[o*g.ow+cs.lo:][:n]
					if g.sw == 1 {
						d := xp[ih*g.w+cs.lo+cs.shift:][:n]
						if n >= 16 {
							kern.Apply(kern.Add, d, d, seg)
							continue
						}
						for j, v := range seg {
							d[j] += v
						}
						continue
					}
					dst := xp[ih*g.w : ih*g.w+g.w]
					for j, v := range seg {
						dst[(cs.lo+j)*g.sw+cs.shift] += v
					}
				}
			}
		}
	})
}

// toChannelMajor gathers nb images of c x p (one after the other in src)
// into dst as a c x (nb*p) matrix.
func toChannelMajor(src []float32, nb, c, p int, dst []float32, tasks func(int, func(int))) {
	tasks(nb*c, func(t int) {
		img, ch := t/c, t%c
		copy(dst[ch*nb*p+img*p:][:p], src[(img*c+ch)*p:][:p])
	})
}

// fromChannelMajor scatters a c x (nb*p) matrix back to nb images of c x p,
// adding bias[ch] when bias is not nil; accumulate adds into dst instead of
// overwriting it.
func fromChannelMajor(src []float32, nb, c, p int, dst, bias []float32, accumulate bool, tasks func(int, func(int))) {
	tasks(nb*c, func(t int) {
		img, ch := t/c, t%c
		s := src[ch*nb*p+img*p:][:p]
		d := dst[(img*c+ch)*p:][:p]
		var b float32
		if bias != nil {
			b = bias[ch]
		}
		switch {
		case accumulate:
			for i, v := range s {
				d[i] += v + b
			}
		case bias != nil:
			for i, v := range s {
				d[i] = v + b
			}
		default:
			copy(d, s)
		}
	})
}
