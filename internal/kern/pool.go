package kern

import "math"

// Pooling. A 2-D window is separable: each output row is the window op
// over KH input rows, then over KW columns. Plane first combines the
// input rows of an output row into one padded scratch row with the
// elementwise kernels, then slides the column window along it with a row
// kernel (assembly for the common 2x2/s2, 3x3/s2 and 3x3/s1 windows).

var lowest = float32(-math.MaxFloat32)

// PoolRowMax sets dst[o] to the largest of v[o*s : o*s+k]. v must hold
// (len(dst)-1)*s + k elements; one more lets the 3-tap stride-2 assembly
// cover the last vector.
func PoolRowMax(dst, v []float32, k, s int) { poolRow(false, dst, v, k, s) }

// PoolRowSum sets dst[o] to the sum of v[o*s : o*s+k].
func PoolRowSum(dst, v []float32, k, s int) { poolRow(true, dst, v, k, s) }

func poolKindOf(sum bool, k, s int) (poolKind, bool) {
	var p poolKind
	switch {
	case k == 2 && s == 2:
		p = pMaxS2K2
	case k == 3 && s == 2:
		p = pMaxS2K3
	case k == 3 && s == 1:
		p = pMaxS1K3
	default:
		return 0, false
	}
	if sum {
		p += pSumS2K2 - pMaxS2K2
	}
	return p, true
}

func poolRow(sum bool, dst, v []float32, k, s int) {
	n := len(dst)
	if n == 0 {
		return
	}
	if k < 1 || s < 1 || (n-1)*s+k > len(v) {
		panic("kern: pooling row out of range")
	}
	done := 0
	if useAVX2 {
		if kind, ok := poolKindOf(sum, k, s); ok {
			// Whole vectors whose reads stay inside v (the 3-tap stride-2
			// kernel reads one element past its last window).
			extra := 0
			if kind == pMaxS2K3 || kind == pSumS2K3 {
				extra = 1
			}
			m := n &^ 7
			for m > 0 && (m-1)*s+k+extra > len(v) {
				m -= 8
			}
			if m > 0 {
				poolAVX2[kind](&dst[0], &v[0], m)
			}
			done = m
		}
	}
	poolRowGo(sum, dst[done:], v[done*s:], k, s)
}

func poolRowGo(sum bool, dst, v []float32, k, s int) {
	for o := range dst {
		w := v[o*s : o*s+k]
		acc := w[0]
		for _, x := range w[1:] {
			if sum {
				acc += x
			} else {
				acc = max(acc, x)
			}
		}
		dst[o] = acc
	}
}

// Pool2D is a 2-D max or average pool (dilation 1) of [H, W] planes into
// [OH, OW] planes. Pads give the padding before (PadT, PadL) and after
// (PadB, PadR) each axis; windows may reach past the trailing padding
// (ceil_mode), those taps count as padding for the maximum and not at all
// for averages.
type Pool2D struct {
	H, W, OH, OW   int
	KH, KW, SH, SW int
	PadT, PadL     int
	PadB, PadR     int
	// Avg selects average pooling; IncludePad divides by the number of
	// taps inside the padded input rather than inside the input.
	Avg, IncludePad bool
}

// ScratchLen is the length of the scratch slice Plane needs.
func (p *Pool2D) ScratchLen() int { return (p.OW-1)*p.SW + p.KW + 1 }

// Plane pools one plane src [H*W] into dst [OH*OW]. A window wholly in the
// padding yields -MaxFloat32 (max) or 0/0 (average without IncludePad),
// as the reference kernels do.
func (p *Pool2D) Plane(dst, src, scratch []float32) {
	if len(src) < p.H*p.W || len(dst) < p.OH*p.OW || p.OW < 1 {
		if p.OH*p.OW == 0 {
			return
		}
		panic("kern: pooling plane out of range")
	}
	rw := (p.OW-1)*p.SW + p.KW
	v := scratch[:rw+1]
	fill := lowest
	op := Max
	if p.Avg {
		fill, op = 0, Add
	}
	// Input columns [0, wIn) land at v[c0 : c0+wIn].
	c0 := min(p.PadL, rw)
	wIn := min(p.W, rw-c0)
	c1 := c0 + wIn
	for i := range v[:c0] {
		v[i] = fill
	}
	for i := range v[c1:] {
		v[c1+i] = fill
	}
	mid := v[c0:c1]
	// Divisor extents: taps inside [e0, e1) count.
	rowLo, rowHi, colLo, colHi := 0, p.H, 0, p.W
	if p.IncludePad {
		rowLo, rowHi, colLo, colHi = -p.PadT, p.H+p.PadB, -p.PadL, p.W+p.PadR
	}
	for oh := range p.OH {
		out := dst[oh*p.OW : (oh+1)*p.OW]
		r0 := oh*p.SH - p.PadT
		ra, rb := max(r0, 0), min(r0+p.KH, p.H)
		if ra >= rb {
			for i := range mid {
				mid[i] = fill
			}
		} else {
			copy(mid, src[ra*p.W:ra*p.W+wIn])
			for r := ra + 1; r < rb; r++ {
				Apply(op, mid, mid, src[r*p.W:r*p.W+wIn])
			}
		}
		poolRow(p.Avg, out, v, p.KW, p.SW)
		if p.Avg {
			rc := overlap(r0, p.KH, rowLo, rowHi)
			// Interior columns have the full window: one vector division.
			lo := min(p.OW, ceilDiv(colLo+p.PadL, p.SW))
			hi := min(p.OW, max(lo, floorDiv(colHi-p.KW+p.PadL, p.SW)+1))
			for ow := range out[:lo] {
				out[ow] /= float32(rc * overlap(ow*p.SW-p.PadL, p.KW, colLo, colHi))
			}
			ApplyVS(Div, out[lo:hi], out[lo:hi], float32(rc*p.KW))
			for ow := hi; ow < p.OW; ow++ {
				out[ow] /= float32(rc * overlap(ow*p.SW-p.PadL, p.KW, colLo, colHi))
			}
		}
	}
}

// overlap returns how many of the k taps starting at a fall in [lo, hi).
func overlap(a, k, lo, hi int) int { return max(0, min(a+k, hi)-max(a, lo)) }

func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func ceilDiv(a, b int) int { return -floorDiv(-a, b) }
