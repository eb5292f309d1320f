package nn

import (
	"math"

	"stride/ops"
)

// Depthwise convolutions (one input channel per group, with any channel
// multiplier) do kh*kw multiply-adds per output, far too little work per
// weight for a GEMM. They run as direct loops over output rows instead.
// The common 3x3 kernel (horizontal stride 1 or 2, dilation 1) has a
// plane kernel (dw3Rows: AVX-512 assembly, or its pure-Go twin
// dw3RowsGo) that applies bias and clamp-type activations in registers;
// it runs on a zero-padded copy of the plane so that no row has borders.
// Other kernel shapes take plain loops.

// convDepthwise computes a convolution with one input channel per group.
func convDepthwise(c *ops.Ctx, g *convGeom, xd, wd, bias, zd []float32, act fusedAct, yd []float32) {
	d := g.as2D()
	cols, inPlane, kk := d.outH*d.outW, d.inH*d.inW, d.kh*d.kw
	fast := d.kh == 3 && d.kw == 3 && d.dh == 1 && d.dw == 1 && d.sw <= 2
	// Planes are independent; a chunk should be worth a task hand-off.
	grain := max(1, (1<<15)/max(1, cols*kk))
	c.For(g.n*g.m, grain, func(p0, p1 int) {
		var pad []float32
		if fast && d.needsPad() {
			// The padding stays zero across the chunk's planes: only
			// the input's interior is rewritten for each.
			buf := getScratch(d.spanH() * d.spanW())
			defer scratch.Put(buf)
			pad = (*buf)[:d.spanH()*d.spanW()]
			clear(pad)
		}
		for p := p0; p < p1; p++ {
			img, oc := p/g.m, p%g.m
			x := xd[(img*g.c+oc/g.mg)*inPlane : (img*g.c+oc/g.mg+1)*inPlane]
			var b float32
			if bias != nil {
				b = bias[oc]
			}
			var z []float32
			if zd != nil {
				z = zd[p*cols : (p+1)*cols]
			}
			y := yd[p*cols : (p+1)*cols]
			w := wd[oc*kk : (oc+1)*kk]
			if !fast {
				dwPlaneGeneric(&d, x, w, b, y)
				act.finish(y, z)
				continue
			}
			src, ld := x, d.inW
			if pad != nil {
				src, ld = d.padInterior(x, pad), d.spanW()
			}
			lo, hi, clamp := act.bounds()
			// A residual comes before the activation, so then the
			// activation is a separate pass, as are activations that
			// are not a clamp.
			post := z != nil || !clamp
			if post {
				lo, hi = float32(math.Inf(-1)), float32(math.Inf(1))
			}
			dw3Rows(y, src, (*[9]float32)(w), d.outW, d.outH, ld, d.sh*ld, d.sw, b, lo, hi)
			if post {
				act.finish(y, z)
			}
		}
	})
}

// needsPad reports whether the windows reach outside the input.
func (d *conv2D) needsPad() bool {
	return d.ph > 0 || d.pw > 0 || d.spanH() > d.inH || d.spanW() > d.inW
}

// padInterior copies plane x into buf, the zero-padded spanH x spanW
// region the windows cover; the padding of buf must already be zero.
func (d *conv2D) padInterior(x, buf []float32) []float32 {
	hs, ws := d.spanH(), d.spanW()
	buf = buf[:hs*ws]
	cb := min(d.inW, ws-d.pw) // input columns that land inside the region
	for iy := max(0, -d.ph); iy < d.inH && iy+d.ph < hs; iy++ {
		r := iy + d.ph
		copy(buf[r*ws+d.pw:r*ws+d.pw+cb], x[iy*d.inW:iy*d.inW+cb])
	}
	return buf
}

// clampTo limits v to [lo, hi]; NaN stays NaN.
func clampTo(v, lo, hi float32) float32 {
	if v < lo {
		v = lo
	}
	if v > hi {
		v = hi
	}
	return v
}

// dw3RowsGo is the portable 3x3 kernel: rows output rows of n outputs
// (row r at y[r*n:]), where
//
//	y[r*n+i] = clamp(bias + sum over k, t < 3 of w[3k+t] * src[r*step + k*ld + i*stride + t])
//
// with the three source rows' partial sums added in the same order as the
// assembly.
func dw3RowsGo(y, src []float32, w *[9]float32, n, rows, ld, step, stride int, bias, lo, hi float32) {
	if n == 0 {
		return
	}
	span := (n-1)*stride + 3
	w0, w1, w2, w3, w4, w5, w6, w7, w8 := w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8]
	for r := 0; r < rows; r++ {
		yr := y[r*n : (r+1)*n]
		r0 := src[r*step : r*step+span]
		r1 := src[r*step+ld : r*step+ld+span]
		r2 := src[r*step+2*ld : r*step+2*ld+span]
		for i := range yr {
			j := i * stride
			a, b, c := r0[j:j+3], r1[j:j+3], r2[j:j+3]
			s0 := bias + w0*a[0] + w1*a[1] + w2*a[2]
			s1 := w3*b[0] + w4*b[1] + w5*b[2]
			s2 := w6*c[0] + w7*c[1] + w8*c[2]
			yr[i] = clampTo(s0+s1+s2, lo, hi)
		}
	}
}

// dwPlaneGeneric computes bias + the convolution of any depthwise kernel:
// per output row and tap, one strided multiply-add pass over the outputs
// whose tap is inside the input.
func dwPlaneGeneric(d *conv2D, x, w []float32, bias float32, y []float32) {
	for oy := 0; oy < d.outH; oy++ {
		yr := y[oy*d.outW : (oy+1)*d.outW]
		for i := range yr {
			yr[i] = bias
		}
		for ky := 0; ky < d.kh; ky++ {
			iy := oy*d.sh - d.ph + ky*d.dh
			if uint(iy) >= uint(d.inH) {
				continue
			}
			xr := x[iy*d.inW : (iy+1)*d.inW]
			for kx := 0; kx < d.kw; kx++ {
				shift := kx*d.dw - d.pw
				lo := min(d.outW, max(0, ceilDiv(-shift, d.sw)))
				hi := max(lo, min(d.outW, ceilDiv(d.inW-shift, d.sw)))
				if lo == hi {
					continue
				}
				dst := yr[lo:hi]
				src := xr[lo*d.sw+shift:]
				src = src[:(len(dst)-1)*d.sw+1]
				wv := w[ky*d.kw+kx]
				for i := range dst {
					dst[i] += wv * src[i*d.sw]
				}
			}
		}
	}
}
