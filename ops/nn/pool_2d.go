package nn

import (
	"math"
	"slices"

	"stride/ops"
)

// Fast float32 MaxPool (without the indices output) and AveragePool for
// 1-D and 2-D windows, the CNN case. Each output row is computed in two
// separable passes: the window's input rows are combined element-wise
// into one padded line (max or sum), then each output combines kw
// elements of that line. Padding holds the identity (-Inf or 0), so
// neither pass tests bounds. Unlike the generic path, MaxPool propagates
// NaN (see pmax). The max passes have AVX-512 versions (pool_2d_amd64.s)
// with the Go ones as their portable twins.

// pool2D is the geometry of a 1-D or 2-D pooling window as 2-D.
type pool2D struct {
	ay, ax axis
	// Per output row: the first input row inside the window (g.first);
	// per output row / column: the taps inside the input (g.count).
	fy, cy, cx []int
}

func (g *poolGeom) as2D() (pool2D, bool) {
	switch len(g.axes) {
	case 1:
		return pool2D{ay: axis{in: 1, out: 1, k: 1, stride: 1, dil: 1}, ax: g.axes[0], fy: []int{0}, cy: []int{1}, cx: g.count[0]}, true
	case 2:
		return pool2D{ay: g.axes[0], ax: g.axes[1], fy: g.first[0], cy: g.count[0], cx: g.count[1]}, true
	}
	return pool2D{}, false
}

// lineLen is the length of the padded line: every tap of every output.
func (p *pool2D) lineLen() int {
	return max((p.ax.out-1)*p.ax.stride+p.ax.span(), p.ax.padB+p.ax.in)
}

// forRows calls row(oy, line, yr) for every output row of every plane,
// in parallel over planes; line is a scratch line of lineLen elements.
func (p *pool2D) forRows(c *ops.Ctx, planes int, y []float32, row func(plane, oy int, line, yr []float32)) {
	cols := p.ay.out * p.ax.out
	n := p.lineLen()
	grain := max(1, (1<<14)/max(1, cols*p.ay.k))
	c.For(planes, grain, func(p0, p1 int) {
		buf := getScratch(n)
		defer scratch.Put(buf)
		line := (*buf)[:n]
		for pl := p0; pl < p1; pl++ {
			for oy := 0; oy < p.ay.out; oy++ {
				row(pl, oy, line, y[pl*cols+oy*p.ax.out:pl*cols+(oy+1)*p.ax.out])
			}
		}
	})
}

// inputRows returns the first input row the window of output row oy
// covers and how many (dil apart) it covers.
func (p *pool2D) inputRows(oy int) (iy0, n int) { return p.fy[oy], p.cy[oy] }

// maxPool2D computes MaxPool of x into y.
func maxPool2D(c *ops.Ctx, g *poolGeom, p *pool2D, x, y []float32) {
	if p.ay.k == 3 && p.ax.k == 3 && p.ay.dil == 1 && p.ax.dil == 1 && p.ax.stride == 1 {
		// Stride 1 reads each input row thrice: a plane kernel beats the
		// separable passes there (not at stride 2).
		maxPool3(c, g, p, x, y)
		return
	}
	inH, inW := p.ay.in, p.ax.in
	plane := inH * inW
	negInf := float32(math.Inf(-1))
	low := float32(-math.MaxFloat32)
	p.forRows(c, g.planes, y, func(pl, oy int, line, yr []float32) {
		iy0, rows := p.inputRows(oy)
		if rows == 0 {
			for i := range yr {
				yr[i] = low
			}
			return
		}
		pad := p.ax.padB
		mid := line[pad : pad+inW]
		xp := x[pl*plane : (pl+1)*plane]
		copy(mid, xp[iy0*inW:(iy0+1)*inW])
		for r := 1; r < rows; r++ {
			iy := iy0 + r*p.ay.dil
			maxInto(mid, xp[iy*inW:(iy+1)*inW])
		}
		fill(line[:pad], negInf)
		fill(line[pad+inW:], negInf)
		slideMax(yr, line, p.ax.k, p.ax.stride, p.ax.dil)
		for ox, n := range p.cx {
			if n == 0 { // a window wholly in the padding
				yr[ox] = low
			}
		}
	})
}

// maxPool3 computes a 3x3 MaxPool of horizontal stride 1 plane by plane
// with max3Rows, on a copy of each plane padded with -Inf (the padding of
// the chunk's buffer is written once; only the input's interior is
// rewritten per plane).
func maxPool3(c *ops.Ctx, g *poolGeom, p *pool2D, x, y []float32) {
	inH, inW := p.ay.in, p.ax.in
	outH, outW := p.ay.out, p.ax.out
	hs, ws := (outH-1)*p.ay.stride+3, outW+2
	ph, pw := p.ay.padB, p.ax.padB
	pad := ph > 0 || pw > 0 || hs > inH || ws > inW
	plane, cols := inH*inW, outH*outW
	low := float32(-math.MaxFloat32)
	empty := slices.Contains(p.cy, 0) || slices.Contains(p.cx, 0)
	c.For(g.planes, max(1, (1<<15)/max(1, 9*cols)), func(lo, hi int) {
		var buf []float32
		if pad {
			b := getScratch(hs * ws)
			defer scratch.Put(b)
			buf = (*b)[:hs*ws]
			fill(buf, float32(math.Inf(-1)))
		}
		cb := min(inW, ws-pw) // input columns inside the padded region
		for pl := lo; pl < hi; pl++ {
			src, ld := x[pl*plane:(pl+1)*plane], inW
			if pad {
				for iy := 0; iy < inH && iy+ph < hs; iy++ {
					copy(buf[(iy+ph)*ws+pw:(iy+ph)*ws+pw+cb], src[iy*inW:iy*inW+cb])
				}
				src, ld = buf, ws
			}
			yp := y[pl*cols : (pl+1)*cols]
			max3Rows(yp, src, outW, outH, ld, p.ay.stride*ld)
			if empty {
				// Windows wholly in the padding give the lowest
				// finite value, as in the generic kernel.
				for oy, n := range p.cy {
					for ox, m := range p.cx {
						if n == 0 || m == 0 {
							yp[oy*outW+ox] = low
						}
					}
				}
			}
		}
	})
}

// max3RowsGo is the portable 3x3 stride-1 max-pool kernel: rows output
// rows of n outputs (row r at y[r*n:]), where y[r*n+i] is the
// NaN-propagating maximum (pmax) of src[r*step + k*ld + i + t] for k, t < 3.
func max3RowsGo(y, src []float32, n, rows, ld, step int) {
	if n == 0 {
		return
	}
	span := n + 2
	for r := 0; r < rows; r++ {
		yr := y[r*n : (r+1)*n]
		r0 := src[r*step : r*step+span]
		r1 := src[r*step+ld : r*step+ld+span]
		r2 := src[r*step+2*ld : r*step+2*ld+span]
		for i := range yr {
			a, b, c := r0[i:i+3], r1[i:i+3], r2[i:i+3]
			m := pmax(pmax(a[0], a[1]), a[2])
			m = pmax(pmax(pmax(m, b[0]), b[1]), b[2])
			yr[i] = pmax(pmax(pmax(m, c[0]), c[1]), c[2])
		}
	}
}

// pmax is the NaN-propagating maximum the assembly computes: v when v
// is greater or NaN, else m (which may be NaN itself).
func pmax(m, v float32) float32 {
	if v > m || v != v {
		return v
	}
	return m
}

// maxIntoGo is the portable maxInto.
func maxIntoGo(dst, src []float32) {
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] = pmax(dst[i], v)
	}
}

// slideMaxGo is the portable slideMax.
func slideMaxGo(y, line []float32, k, stride, dil int) {
	if len(y) == 0 {
		return
	}
	line = line[:(len(y)-1)*stride+(k-1)*dil+1]
	for o := range y {
		m := line[o*stride]
		for t := 1; t < k; t++ {
			m = pmax(m, line[o*stride+t*dil])
		}
		y[o] = m
	}
}

// avgPool2D computes AveragePool of x into y; padded, when not nil, holds
// the count_include_pad divisors per axis (see paddedCounts).
func avgPool2D(c *ops.Ctx, g *poolGeom, p *pool2D, x, y []float32, padded [][]int) {
	inH, inW := p.ay.in, p.ax.in
	plane := inH * inW
	dy, dx := p.cy, p.cx
	if padded != nil {
		dx = padded[len(padded)-1]
		if len(padded) == 2 {
			dy = padded[0]
		}
	}
	p.forRows(c, g.planes, y, func(pl, oy int, line, yr []float32) {
		iy0, rows := p.inputRows(oy)
		pad := p.ax.padB
		mid := line[pad : pad+inW]
		clear(line)
		xp := x[pl*plane : (pl+1)*plane]
		for r := 0; r < rows; r++ {
			iy := iy0 + r*p.ay.dil
			src := xp[iy*inW : (iy+1)*inW]
			src = src[:len(mid)]
			for i, v := range src {
				mid[i] += v
			}
		}
		slideSum(yr, line, p.ax.k, p.ax.stride, p.ax.dil)
		ny := float32(dy[oy])
		for ox := range yr {
			yr[ox] /= ny * float32(dx[ox])
		}
	})
}

// slideSum sets y[o] to the sum of line[o*stride + t*dil], t < k.
func slideSum(y, line []float32, k, stride, dil int) {
	if len(y) == 0 {
		return
	}
	line = line[:(len(y)-1)*stride+(k-1)*dil+1]
	for o := range y {
		var s float32
		for t := 0; t < k; t++ {
			s += line[o*stride+t*dil]
		}
		y[o] = s
	}
}

func fill(s []float32, v float32) {
	for i := range s {
		s[i] = v
	}
}
