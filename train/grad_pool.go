package train

import (
	"fmt"

	"stride/graph"
	"stride/tensor"
)

// Pooling with its gradients. MaxPool records the argmax of every window
// in the forward pass (the first maximum in scan order, as Caffe does), so
// the backward pass routes each gradient to it. AveragePool spreads the
// gradient over the window, divided as the forward pass divided. The Caffe
// importer expresses Caffe's rounded-up output sizes as explicit end pads,
// which these rules honour, so the gradients equal Caffe's.

// poolGeom is a 2-D pooling window resolved against an input shape (1-D
// pooling is treated as 2-D with height 1).
type poolGeom struct {
	kh, kw, sh, sw, dh, dw int
	pt, pl, pb, pr         int // pads: top, left, bottom, right
	ceil                   bool
	includePad             bool
}

func parsePool(n *graph.Node) (*poolGeom, error) {
	k, err := n.AttrInts("kernel_shape", nil)
	if err != nil {
		return nil, err
	}
	if len(k) == 0 || len(k) > 2 {
		return nil, fmt.Errorf("kernel_shape %v: training supports 1-D and 2-D pooling", k)
	}
	strides, err := n.AttrInts("strides", nil)
	if err != nil {
		return nil, err
	}
	pads, err := n.AttrInts("pads", nil)
	if err != nil {
		return nil, err
	}
	dil, err := n.AttrInts("dilations", nil)
	if err != nil {
		return nil, err
	}
	ceil, err := n.AttrInt("ceil_mode", 0)
	if err != nil {
		return nil, err
	}
	inc, err := n.AttrInt("count_include_pad", 0)
	if err != nil {
		return nil, err
	}
	autoPad, err := n.AttrString("auto_pad", "NOTSET")
	if err != nil {
		return nil, err
	}
	if autoPad != "NOTSET" && autoPad != "VALID" && autoPad != "" {
		return nil, fmt.Errorf("auto_pad %s is not supported in training; give explicit pads", autoPad)
	}
	r := len(k)
	get := func(v []int64, i int, def int64) int {
		if i < len(v) {
			return int(v[i])
		}
		return int(def)
	}
	g := &poolGeom{kh: 1, sh: 1, dh: 1, ceil: ceil != 0, includePad: inc != 0}
	g.kw, g.sw, g.dw = int(k[r-1]), get(strides, r-1, 1), get(dil, r-1, 1)
	g.pl, g.pr = get(pads, r-1, 0), get(pads, 2*r-1, 0)
	if r == 2 {
		g.kh, g.sh, g.dh = int(k[0]), get(strides, 0, 1), get(dil, 0, 1)
		g.pt, g.pb = get(pads, 0, 0), get(pads, 2, 0)
	}
	if g.kh < 1 || g.kw < 1 || g.sh < 1 || g.sw < 1 || g.dh < 1 || g.dw < 1 {
		return nil, fmt.Errorf("kernel, strides and dilations must be positive")
	}
	return g, nil
}

func poolOut(in, k, s, d, pb, pe int, ceil bool) int {
	span := (k-1)*d + 1
	num := in + pb + pe - span
	if num < 0 {
		return 0
	}
	if ceil {
		o := (num+s-1)/s + 1
		if (o-1)*s >= in+pb {
			o--
		}
		return o
	}
	return num/s + 1
}

// dims returns planes (N*C), input height/width and output height/width.
func (g *poolGeom) dims(x []int) (planes, h, w, oh, ow int, err error) {
	switch len(x) {
	case 3:
		planes, h, w = x[0]*x[1], 1, x[2]
	case 4:
		planes, h, w = x[0]*x[1], x[2], x[3]
	default:
		return 0, 0, 0, 0, 0, fmt.Errorf("input %v: training supports 1-D and 2-D pooling", x)
	}
	oh = poolOut(h, g.kh, g.sh, g.dh, g.pt, g.pb, g.ceil)
	ow = poolOut(w, g.kw, g.sw, g.dw, g.pl, g.pr, g.ceil)
	return
}

func (g *poolGeom) outShape(x []int, oh, ow int) []int {
	if len(x) == 3 {
		return []int{x[0], x[1], ow}
	}
	return []int{x[0], x[1], oh, ow}
}

type maxPoolOp struct {
	g      *poolGeom
	argmax []int32
}

func newMaxPoolOp(n *graph.Node, _ []*tensor.Tensor, _ Mode) (Op, error) {
	g, err := parsePool(n)
	if err != nil {
		return nil, err
	}
	return &maxPoolOp{g: g}, nil
}

func (o *maxPoolOp) Forward(f *Fwd, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x := in[0]
	g := o.g
	planes, h, w, oh, ow, err := g.dims(x.Shape)
	if err != nil {
		return nil, err
	}
	y, err := f.Alloc(tensor.Float32, g.outShape(x.Shape, oh, ow)...)
	if err != nil {
		return nil, err
	}
	n := y.Len()
	if cap(o.argmax) < n {
		o.argmax = make([]int32, n)
	}
	o.argmax = o.argmax[:n]
	xd, yd, am := x.F32(), y.F32(), o.argmax
	rows, cols := g.taps(h, oh, g.kh, g.sh, g.dh, g.pt), g.taps(w, ow, g.kw, g.sw, g.dw, g.pl)
	fast := g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.dh == 1 && g.dw == 1 &&
		g.pt == 0 && g.pl == 0 && 2*oh <= h && 2*ow <= w
	f.For(planes, max(1, 4096/max(1, oh*ow)), func(lo, hi int) {
		for p := lo; p < hi; p++ {
			xp := xd[p*h*w : (p+1)*h*w]
			yp, ap := yd[p*oh*ow:(p+1)*oh*ow], am[p*oh*ow:(p+1)*oh*ow]
			if fast {
				maxPool2x2(xp, w, oh, ow, yp, ap)
				continue
			}
			for i := 0; i < oh; i++ {
				rt := rows[i]
				for j := 0; j < ow; j++ {
					ct := cols[j]
					if rt.first >= rt.end || ct.first >= ct.end {
						yp[i*ow+j], ap[i*ow+j] = 0, -1
						continue
					}
					// The maximum, then the first tap holding it in scan
					// order (Caffe's argmax), with few branches to mispredict.
					best := xp[rt.first*w+ct.first]
					for r := rt.first; r < rt.end; r += g.dh {
						row := xp[r*w : r*w+w]
						for c := ct.first; c < ct.end; c += g.dw {
							best = max(best, row[c])
						}
					}
					arg := int32(-1)
				scan:
					for r := rt.first; r < rt.end; r += g.dh {
						row := xp[r*w : r*w+w]
						for c := ct.first; c < ct.end; c += g.dw {
							if row[c] == best {
								arg = int32(r*w + c)
								break scan
							}
						}
					}
					if arg < 0 { // NaN in the window: take the first tap
						arg = int32(rt.first*w + ct.first)
					}
					yp[i*ow+j], ap[i*ow+j] = best, arg
				}
			}
		}
	})
	return []*tensor.Tensor{y}, nil
}

// maxPool2x2 is 2x2 max pooling with stride 2 over one plane of width w.
func maxPool2x2(x []float32, w, oh, ow int, y []float32, arg []int32) {
	for i := 0; i < oh; i++ {
		r0 := x[2*i*w : 2*i*w+w]
		r1 := x[(2*i+1)*w : (2*i+1)*w+w]
		yr, ar := y[i*ow:i*ow+ow], arg[i*ow:i*ow+ow]
		base := int32(2 * i * w)
		for j := range yr {
			c := 2 * j
			a, b, cc, d := r0[c], r0[c+1], r1[c], r1[c+1]
			m := max(max(a, b), max(cc, d))
			k := base + int32(w+c+1)
			if cc == m {
				k = base + int32(w+c)
			}
			if b == m {
				k = base + int32(c+1)
			}
			if a == m {
				k = base + int32(c)
			}
			yr[j], ar[j] = m, k
		}
	}
}

// tapRange is the taps of one window inside the input: indices first,
// first+step, ... below end.
type tapRange struct{ first, end int }

// taps resolves the windows of one axis: for each output index, the input
// indices its window covers inside [0, in).
func (g *poolGeom) taps(in, out, k, s, d, pad int) []tapRange {
	t := make([]tapRange, out)
	for o := range t {
		start := o*s - pad
		first, end := -1, -1
		for q := 0; q < k; q++ {
			if i := start + q*d; i >= 0 && i < in {
				if first < 0 {
					first = i
				}
				end = i + 1
			}
		}
		if first < 0 {
			first, end = 0, 0
		}
		t[o] = tapRange{first, end}
	}
	return t
}

func (o *maxPoolOp) Backward(b *Bwd) error {
	if !b.Need(0) {
		return nil
	}
	planes, h, w, oh, ow, err := o.g.dims(b.In[0].Shape)
	if err != nil {
		return err
	}
	dx, dy, am := b.Grad(0), b.DY(0), o.argmax
	b.For(planes, max(1, 4096/max(1, oh*ow)), func(lo, hi int) {
		for p := lo; p < hi; p++ {
			dp := dx[p*h*w : (p+1)*h*w]
			for k := p * oh * ow; k < (p+1)*oh*ow; k++ {
				if a := am[k]; a >= 0 {
					dp[a] += dy[k]
				}
			}
		}
	})
	return nil
}

type avgPoolOp struct{ g *poolGeom }

func newAvgPoolOp(n *graph.Node, _ []*tensor.Tensor, _ Mode) (Op, error) {
	g, err := parsePool(n)
	if err != nil {
		return nil, err
	}
	if g.dh != 1 || g.dw != 1 {
		return nil, fmt.Errorf("dilated average pooling is not supported")
	}
	return &avgPoolOp{g: g}, nil
}

// window returns the clipped window of output (i, j) and its divisor.
func (g *poolGeom) window(i, j, h, w int) (r0, r1, c0, c1 int, div float32) {
	hs, ws := i*g.sh-g.pt, j*g.sw-g.pl
	he, we := hs+g.kh, ws+g.kw
	if g.includePad {
		ph0, ph1 := max(hs, -g.pt), min(he, h+g.pb)
		pw0, pw1 := max(ws, -g.pl), min(we, w+g.pr)
		div = float32((ph1 - ph0) * (pw1 - pw0))
	}
	r0, r1, c0, c1 = max(hs, 0), min(he, h), max(ws, 0), min(we, w)
	if !g.includePad {
		div = float32((r1 - r0) * (c1 - c0))
	}
	return
}

func (o *avgPoolOp) Forward(f *Fwd, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x := in[0]
	g := o.g
	planes, h, w, oh, ow, err := g.dims(x.Shape)
	if err != nil {
		return nil, err
	}
	y, err := f.Alloc(tensor.Float32, g.outShape(x.Shape, oh, ow)...)
	if err != nil {
		return nil, err
	}
	xd, yd := x.F32(), y.F32()
	f.For(planes, max(1, 4096/max(1, oh*ow)), func(lo, hi int) {
		for p := lo; p < hi; p++ {
			xp := xd[p*h*w : (p+1)*h*w]
			for i := 0; i < oh; i++ {
				for j := 0; j < ow; j++ {
					r0, r1, c0, c1, div := g.window(i, j, h, w)
					var s float32
					for r := r0; r < r1; r++ {
						for _, v := range xp[r*w+c0 : r*w+c1] {
							s += v
						}
					}
					if div > 0 {
						s /= div
					}
					yd[(p*oh+i)*ow+j] = s
				}
			}
		}
	})
	return []*tensor.Tensor{y}, nil
}

func (o *avgPoolOp) Backward(b *Bwd) error {
	if !b.Need(0) {
		return nil
	}
	g := o.g
	planes, h, w, oh, ow, err := g.dims(b.In[0].Shape)
	if err != nil {
		return err
	}
	dx, dy := b.Grad(0), b.DY(0)
	b.For(planes, max(1, 4096/max(1, oh*ow)), func(lo, hi int) {
		for p := lo; p < hi; p++ {
			dp := dx[p*h*w : (p+1)*h*w]
			for i := 0; i < oh; i++ {
				for j := 0; j < ow; j++ {
					r0, r1, c0, c1, div := g.window(i, j, h, w)
					if div == 0 {
						continue
					}
					v := dy[(p*oh+i)*ow+j] / div
					for r := r0; r < r1; r++ {
						row := dp[r*w+c0 : r*w+c1]
						for c := range row {
							row[c] += v
						}
					}
				}
			}
		}
	})
	return nil
}

// planeSize returns N*C and the size of one plane of an N x C x ... blob.
func planeSize(shape []int) (int, int) {
	if len(shape) < 2 {
		return 1, tensor.Size(shape)
	}
	return shape[0] * shape[1], tensor.Size(shape[2:])
}

func globalAvgPoolBack(b *Bwd) error {
	if !b.Need(0) {
		return nil
	}
	planes, size := planeSize(b.In[0].Shape)
	dx, dy := b.Grad(0), b.DY(0)
	for p := 0; p < planes; p++ {
		v := dy[p] / float32(size)
		row := dx[p*size : (p+1)*size]
		for i := range row {
			row[i] += v
		}
	}
	return nil
}

func globalMaxPoolBack(b *Bwd) error {
	if !b.Need(0) {
		return nil
	}
	planes, size := planeSize(b.In[0].Shape)
	x, dx, dy := b.In[0].F32(), b.Grad(0), b.DY(0)
	for p := 0; p < planes; p++ {
		row := x[p*size : (p+1)*size]
		arg := 0
		for i, v := range row {
			if v > row[arg] {
				arg = i
			}
		}
		if size > 0 {
			dx[p*size+arg] += dy[p]
		}
	}
	return nil
}
