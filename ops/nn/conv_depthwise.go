package nn

import (
	"math"

	"stride/ops"
)

// Depthwise convolutions (one input channel per group, with any channel
// multiplier) do kh*kw multiply-adds per output, far too little work per
// weight for a GEMM. They run as direct loops over output rows instead.
// The common 3x3 kernel (stride 1 or 2, dilation 1) has a row kernel
// (dw3Row: AVX-512 assembly, or its pure-Go twin dw3RowGo) that applies
// bias and clamp-type activations in registers; it runs on a zero-padded
// copy of the plane so that no row has borders. Other kernel shapes take
// plain loops.

// convDepthwise computes a convolution with one input channel per group.
func convDepthwise(c *ops.Ctx, g *convGeom, xd, wd, bias, zd []float32, act fusedAct, yd []float32) {
	d := g.as2D()
	cols, inPlane, kk := d.outH*d.outW, d.inH*d.inW, d.kh*d.kw
	fast := d.kh == 3 && d.kw == 3 && d.dh == 1 && d.dw == 1 && d.sw <= 2
	// Planes are independent; a chunk should be worth a task hand-off.
	grain := max(1, (1<<15)/max(1, cols*kk))
	c.For(g.n*g.m, grain, func(p0, p1 int) {
		var pad *[]float32
		if fast && d.needsPad() {
			pad = getScratch(d.spanH() * d.spanW())
			defer scratch.Put(pad)
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
			src, stride := x, d.inW
			if pad != nil {
				src, stride = d.padPlane(x, *pad), d.spanW()
			}
			lo, hi, clamp := act.bounds()
			// A residual comes before the activation, so then the
			// activation is a separate pass, as are activations that
			// are not a clamp.
			post := z != nil || !clamp
			if post {
				lo, hi = float32(math.Inf(-1)), float32(math.Inf(1))
			}
			dw3Plane(&d, src, stride, (*[9]float32)(w), b, lo, hi, y)
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

// padPlane copies plane x into buf as the spanH x spanW region the
// windows cover, zero outside the input, and returns it.
func (d *conv2D) padPlane(x, buf []float32) []float32 {
	hs, ws := d.spanH(), d.spanW()
	buf = buf[:hs*ws]
	// Input columns [ca, cb) land at padded columns [ca+pw, cb+pw).
	ca, cb := 0, min(d.inW, ws-d.pw)
	for r := 0; r < hs; r++ {
		row := buf[r*ws : (r+1)*ws]
		iy := r - d.ph
		if uint(iy) >= uint(d.inH) || ca >= cb {
			clear(row)
			continue
		}
		clear(row[:d.pw])
		copy(row[d.pw:cb+d.pw], x[iy*d.inW+ca:iy*d.inW+cb])
		clear(row[cb+d.pw:])
	}
	return buf
}

// dw3Plane computes a 3x3 depthwise plane from src, the rows (stride
// apart) the windows cover, padding included; results are clamped to
// [lo, hi].
func dw3Plane(d *conv2D, src []float32, stride int, w *[9]float32, bias, lo, hi float32, y []float32) {
	for oy := 0; oy < d.outH; oy++ {
		r := oy * d.sh * stride
		dw3Row(y[oy*d.outW:(oy+1)*d.outW], src[r:], src[r+stride:], src[r+2*stride:], w, d.sw, bias, lo, hi)
	}
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

// dw3RowGo is the portable row kernel: for each i < len(y),
//
//	y[i] = clamp(bias + sum over r, k < 3 of w[3r+k] * rows[r][i*stride+k])
//
// with the rows' three partial sums added in the same order as the
// assembly. Each row must hold (len(y)-1)*stride+3 elements.
func dw3RowGo(y, r0, r1, r2 []float32, w *[9]float32, stride int, bias, lo, hi float32) {
	if len(y) == 0 {
		return
	}
	span := (len(y)-1)*stride + 3
	r0, r1, r2 = r0[:span], r1[:span], r2[:span]
	w0, w1, w2, w3, w4, w5, w6, w7, w8 := w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8]
	for i := range y {
		j := i * stride
		a, b, c := r0[j:j+3], r1[j:j+3], r2[j:j+3]
		s0 := bias + w0*a[0] + w1*a[1] + w2*a[2]
		s1 := w3*b[0] + w4*b[1] + w5*b[2]
		s2 := w6*c[0] + w7*c[1] + w8*c[2]
		y[i] = clampTo(s0+s1+s2, lo, hi)
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
