package train

import (
	"fmt"
	"math"

	"stride/graph"
	"stride/ops"
	"stride/tensor"
)

// Gradients of Softmax, LRN and batch normalisation, including Caffe's
// BatchNorm in training mode (batch statistics and moving averages kept in
// its three blobs, the third being the scale factor).

// axisGeom returns outer, the axis size and inner of a shape around axis.
func axisGeom(n *graph.Node, shape []int, def int64) (outer, dim, inner int, err error) {
	a, err := n.AttrInt("axis", def)
	if err != nil {
		return 0, 0, 0, err
	}
	axis, err := ops.NormAxis(a, len(shape))
	if err != nil {
		return 0, 0, 0, err
	}
	outer, inner = axisSplit(shape, axis)
	return outer, shape[axis], inner, nil
}

// softmaxBack: dx = y * (dy - sum(dy*y)) along the axis.
func softmaxBack(b *Bwd) error {
	if !b.Need(0) {
		return nil
	}
	outer, dim, inner, err := axisGeom(b.Node, b.In[0].Shape, -1)
	if err != nil {
		return err
	}
	y, dy, dx := b.Out[0].F32(), b.DY(0), b.Grad(0)
	b.For(outer*inner, 256, func(lo, hi int) {
		for t := lo; t < hi; t++ {
			o, i := t/inner, t%inner
			base := o*dim*inner + i
			var s float32
			for c := 0; c < dim; c++ {
				k := base + c*inner
				s += dy[k] * y[k]
			}
			for c := 0; c < dim; c++ {
				k := base + c*inner
				dx[k] += y[k] * (dy[k] - s)
			}
		}
	})
	return nil
}

// logSoftmaxBack: dx = dy - exp(y) * sum(dy) along the axis.
func logSoftmaxBack(b *Bwd) error {
	if !b.Need(0) {
		return nil
	}
	outer, dim, inner, err := axisGeom(b.Node, b.In[0].Shape, -1)
	if err != nil {
		return err
	}
	y, dy, dx := b.Out[0].F32(), b.DY(0), b.Grad(0)
	for t := 0; t < outer*inner; t++ {
		o, i := t/inner, t%inner
		base := o*dim*inner + i
		var s float32
		for c := 0; c < dim; c++ {
			s += dy[base+c*inner]
		}
		for c := 0; c < dim; c++ {
			k := base + c*inner
			dx[k] += dy[k] - float32(math.Exp(float64(y[k])))*s
		}
	}
	return nil
}

// lrnOp is local response normalisation across channels (ONNX LRN, Caffe
// ACROSS_CHANNELS): y = x * scale^-beta, scale = bias + alpha/size * sum of
// x^2 over the channel window. It keeps scale for the backward pass.
type lrnOp struct {
	size              int
	alpha, beta, bias float32
	scale             []float32
}

func newLRNOp(n *graph.Node, _ []*tensor.Tensor, _ Mode) (Op, error) {
	size, err := n.AttrInt("size", 0)
	if err != nil {
		return nil, err
	}
	if size < 1 {
		return nil, fmt.Errorf("size must be positive")
	}
	o := &lrnOp{size: int(size)}
	if o.alpha, err = n.AttrFloat("alpha", 1e-4); err != nil {
		return nil, err
	}
	if o.beta, err = n.AttrFloat("beta", 0.75); err != nil {
		return nil, err
	}
	if o.bias, err = n.AttrFloat("bias", 1); err != nil {
		return nil, err
	}
	return o, nil
}

// window returns the channels [lo, hi] summed for channel c.
func (o *lrnOp) window(c, channels int) (int, int) {
	return max(0, c-(o.size-1)/2), min(channels-1, c+o.size/2)
}

func (o *lrnOp) Forward(f *Fwd, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x := in[0]
	if len(x.Shape) < 2 {
		return nil, fmt.Errorf("LRN needs an N x C x ... input, got %v", x.Shape)
	}
	y, err := f.Alloc(tensor.Float32, x.Shape...)
	if err != nil {
		return nil, err
	}
	n, ch := x.Shape[0], x.Shape[1]
	plane := tensor.Size(x.Shape[2:])
	if cap(o.scale) < x.Len() {
		o.scale = make([]float32, x.Len())
	}
	o.scale = o.scale[:x.Len()]
	xd, yd, sd := x.F32(), y.F32(), o.scale
	k := o.alpha / float32(o.size)
	f.Tasks(n, func(img int) {
		base := img * ch * plane
		for c := 0; c < ch; c++ {
			lo, hi := o.window(c, ch)
			s := sd[base+c*plane:][:plane]
			for i := range s {
				s[i] = 0
			}
			for cc := lo; cc <= hi; cc++ {
				xs := xd[base+cc*plane:][:plane]
				for i, v := range xs {
					s[i] += v * v
				}
			}
			xs, ys := xd[base+c*plane:][:plane], yd[base+c*plane:][:plane]
			for i := range s {
				s[i] = o.bias + k*s[i]
				ys[i] = xs[i] * float32(math.Pow(float64(s[i]), -float64(o.beta)))
			}
		}
	})
	return []*tensor.Tensor{y}, nil
}

// Backward: dx = dy*scale^-beta - 2*alpha*beta/size * x * sum over the
// channels c' whose window holds c of dy*y/scale.
func (o *lrnOp) Backward(b *Bwd) error {
	if !b.Need(0) {
		return nil
	}
	x := b.In[0]
	n, ch := x.Shape[0], x.Shape[1]
	plane := tensor.Size(x.Shape[2:])
	xd, yd, dy, dx, sd := x.F32(), b.Out[0].F32(), b.DY(0), b.Grad(0), o.scale
	ratio := b.Scratch(x.Len())
	coef := 2 * o.alpha * o.beta / float32(o.size)
	b.Tasks(n, func(img int) {
		base := img * ch * plane
		r := ratio[base : base+ch*plane]
		for i := range r {
			r[i] = dy[base+i] * yd[base+i] / sd[base+i]
		}
		acc := make([]float32, plane)
		for c := 0; c < ch; c++ {
			// Channels c' with c in window(c'): c' in [c - size/2, c + (size-1)/2].
			lo, hi := max(0, c-o.size/2), min(ch-1, c+(o.size-1)/2)
			clear(acc)
			for cc := lo; cc <= hi; cc++ {
				for i, v := range r[cc*plane:][:plane] {
					acc[i] += v
				}
			}
			off := base + c*plane
			for i := 0; i < plane; i++ {
				dx[off+i] += dy[off+i]*float32(math.Pow(float64(sd[off+i]), -float64(o.beta))) - coef*xd[off+i]*acc[i]
			}
		}
	})
	return nil
}

// channelGeom returns N, C and the spatial size of an N x C x ... blob.
func channelGeom(shape []int) (n, c, s int, err error) {
	if len(shape) < 2 {
		return 0, 0, 0, fmt.Errorf("needs an N x C x ... input, got %v", shape)
	}
	return shape[0], shape[1], tensor.Size(shape[2:]), nil
}

// batchNormEvalBack is the gradient of ONNX BatchNormalization with fixed
// statistics: dx = dy*scale/sqrt(var+eps); scale and bias learn as an
// affine layer would.
func batchNormEvalBack(b *Bwd) error {
	if tm, _ := b.Node.AttrInt("training_mode", 0); tm != 0 {
		return fmt.Errorf("training_mode BatchNormalization is not supported; Caffe nets use the trainer's BatchNorm")
	}
	if b.Need(3) || b.Need(4) {
		return fmt.Errorf("the running mean and variance cannot be learned")
	}
	eps, err := b.Node.AttrFloat("epsilon", 1e-5)
	if err != nil {
		return err
	}
	n, ch, sp, err := channelGeom(b.In[0].Shape)
	if err != nil {
		return err
	}
	x, sc, mean, vr, dy := b.In[0].F32(), b.In[1].F32(), b.In[3].F32(), b.In[4].F32(), b.DY(0)
	var dx, ds, db []float32
	if b.Need(0) {
		dx = b.Grad(0)
	}
	if b.Need(1) {
		ds = b.Grad(1)
	}
	if b.Need(2) {
		db = b.Grad(2)
	}
	for c := 0; c < ch; c++ {
		inv := 1 / float32(math.Sqrt(float64(vr[c]+eps)))
		var s1, s2 float64
		for i := 0; i < n; i++ {
			off := (i*ch + c) * sp
			for j := off; j < off+sp; j++ {
				if dx != nil {
					dx[j] += dy[j] * sc[c] * inv
				}
				s1 += float64(dy[j])
				s2 += float64(dy[j] * (x[j] - mean[c]) * inv)
			}
		}
		if ds != nil {
			ds[c] += float32(s2)
		}
		if db != nil {
			db[c] += float32(s1)
		}
	}
	return nil
}

// batchNormOp is Caffe's BatchNorm layer. Inputs: x and the three blobs
// (mean sum, variance sum, scale factor). With batch statistics it
// normalises by the batch's mean and (biased) variance and updates the
// blobs: factor = f*factor + 1, mean = f*mean + batch mean, var = f*var +
// m/(m-1)*batch var, f the moving_average_fraction. With global statistics
// it uses mean/factor and var/factor.
type batchNormOp struct {
	eps, fraction float32
	global        bool
	mean, invStd  []float32
}

func newBatchNormOp(n *graph.Node, _ []*tensor.Tensor, mode Mode) (Op, error) {
	o := &batchNormOp{}
	var err error
	if o.eps, err = n.AttrFloat("epsilon", 1e-5); err != nil {
		return nil, err
	}
	if o.fraction, err = n.AttrFloat("momentum", 0.999); err != nil {
		return nil, err
	}
	g, err := n.AttrInt("use_global_stats", -1)
	if err != nil {
		return nil, err
	}
	o.global = mode == TestMode
	if g >= 0 {
		o.global = g != 0
	}
	return o, nil
}

func (o *batchNormOp) Forward(f *Fwd, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x := in[0]
	n, ch, sp, err := channelGeom(x.Shape)
	if err != nil {
		return nil, err
	}
	for i := 1; i <= 2; i++ {
		if in[i].Len() != ch {
			return nil, fmt.Errorf("blob %d has %d values for %d channels", i-1, in[i].Len(), ch)
		}
	}
	y, err := f.Alloc(tensor.Float32, x.Shape...)
	if err != nil {
		return nil, err
	}
	if len(o.mean) != ch {
		o.mean, o.invStd = make([]float32, ch), make([]float32, ch)
	}
	xd, yd := x.F32(), y.F32()
	mb, vb, fb := in[1].F32(), in[2].F32(), in[3].F32()
	m := n * sp
	if o.global {
		factor := fb[0]
		if factor != 0 {
			factor = 1 / factor
		}
		for c := 0; c < ch; c++ {
			o.mean[c] = mb[c] * factor
			o.invStd[c] = 1 / float32(math.Sqrt(float64(vb[c]*factor+o.eps)))
		}
	} else {
		variance := make([]float32, ch)
		f.Tasks(ch, func(c int) {
			var s float64
			for i := 0; i < n; i++ {
				for _, v := range xd[(i*ch+c)*sp:][:sp] {
					s += float64(v)
				}
			}
			mu := s / float64(m)
			var q float64
			for i := 0; i < n; i++ {
				for _, v := range xd[(i*ch+c)*sp:][:sp] {
					d := float64(v) - mu
					q += d * d
				}
			}
			o.mean[c] = float32(mu)
			variance[c] = float32(q / float64(m))
			o.invStd[c] = 1 / float32(math.Sqrt(float64(variance[c]+o.eps)))
		})
		if f.Mode == TrainMode {
			fb[0] = fb[0]*o.fraction + 1
			corr := float32(1)
			if m > 1 {
				corr = float32(m) / float32(m-1)
			}
			for c := 0; c < ch; c++ {
				mb[c] = o.fraction*mb[c] + o.mean[c]
				vb[c] = o.fraction*vb[c] + corr*variance[c]
			}
		}
	}
	f.Tasks(n*ch, func(t int) {
		c := t % ch
		mu, is := o.mean[c], o.invStd[c]
		xs, ys := xd[t*sp:][:sp], yd[t*sp:][:sp]
		for i, v := range xs {
			ys[i] = (v - mu) * is
		}
	})
	return []*tensor.Tensor{y}, nil
}

func (o *batchNormOp) Backward(b *Bwd) error {
	if !b.Need(0) {
		return nil
	}
	n, ch, sp, err := channelGeom(b.In[0].Shape)
	if err != nil {
		return err
	}
	y, dy, dx := b.Out[0].F32(), b.DY(0), b.Grad(0)
	if o.global {
		b.Tasks(n*ch, func(t int) {
			is := o.invStd[t%ch]
			for i := t * sp; i < (t+1)*sp; i++ {
				dx[i] += dy[i] * is
			}
		})
		return nil
	}
	m := float64(n * sp)
	b.Tasks(ch, func(c int) {
		var sdy, sdyy float64
		for i := 0; i < n; i++ {
			off := (i*ch + c) * sp
			for j := off; j < off+sp; j++ {
				sdy += float64(dy[j])
				sdyy += float64(dy[j]) * float64(y[j])
			}
		}
		mdy, mdyy := float32(sdy/m), float32(sdyy/m)
		is := o.invStd[c]
		for i := 0; i < n; i++ {
			off := (i*ch + c) * sp
			for j := off; j < off+sp; j++ {
				dx[j] += (dy[j] - mdy - y[j]*mdyy) * is
			}
		}
	})
	return nil
}
