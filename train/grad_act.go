package train

import (
	"fmt"
	"math"
)

// Gradients of the element-wise activations. Each adds dY times the
// derivative, written in terms of the input x or the output y, whichever
// Caffe's backward pass uses.

// unaryBack builds a rule from the local derivative f(x, y, dy).
func unaryBack(f func(x, y, dy float32) float32) func(b *Bwd) error {
	return func(b *Bwd) error {
		if !b.Need(0) {
			return nil
		}
		x, y, dy, dx := b.In[0].F32(), b.Out[0].F32(), b.DY(0), b.Grad(0)
		b.parFor(len(dx), func(lo, hi int) {
			for i := lo; i < hi; i++ {
				dx[i] += f(x[i], y[i], dy[i])
			}
		})
		return nil
	}
}

// reluBack passes dy where x > 0 (the hottest activation: a plain loop).
func reluBack(b *Bwd) error {
	if !b.Need(0) {
		return nil
	}
	x, dy, dx := b.In[0].F32(), b.DY(0), b.Grad(0)
	b.parFor(len(dx), func(lo, hi int) {
		xs, ds, gs := x[lo:hi], dy[lo:hi], dx[lo:hi]
		ds, gs = ds[:len(xs)], gs[:len(xs)]
		for i, v := range xs {
			// Branch-free: the sign of x is unpredictable.
			var m uint32
			if v > 0 {
				m = ^uint32(0)
			}
			gs[i] += math.Float32frombits(math.Float32bits(ds[i]) & m)
		}
	})
	return nil
}

var (
	sigmoidBack = unaryBack(func(_, y, dy float32) float32 { return dy * y * (1 - y) })
	tanhBack    = unaryBack(func(_, y, dy float32) float32 { return dy * (1 - y*y) })
	// Caffe's BNLL caps the exponent at 50.
	softplusBack = unaryBack(func(x, _, dy float32) float32 {
		e := float32(math.Exp(float64(min(x, 50))))
		return dy * e / (e + 1)
	})
	absBack = unaryBack(func(x, _, dy float32) float32 {
		switch {
		case x > 0:
			return dy
		case x < 0:
			return -dy
		}
		return 0
	})
	expBack        = unaryBack(func(_, y, dy float32) float32 { return dy * y })
	logBack        = unaryBack(func(x, _, dy float32) float32 { return dy / x })
	sqrtBack       = unaryBack(func(_, y, dy float32) float32 { return dy * 0.5 / y })
	negBack        = unaryBack(func(_, _, dy float32) float32 { return -dy })
	reciprocalBack = unaryBack(func(_, y, dy float32) float32 { return -dy * y * y })
)

func leakyReluBack(b *Bwd) error {
	alpha, err := b.Node.AttrFloat("alpha", 0.01)
	if err != nil {
		return err
	}
	return unaryBack(func(x, _, dy float32) float32 {
		if x > 0 {
			return dy
		}
		return alpha * dy
	})(b)
}

func eluBack(b *Bwd) error {
	alpha, err := b.Node.AttrFloat("alpha", 1)
	if err != nil {
		return err
	}
	return unaryBack(func(x, y, dy float32) float32 {
		if x > 0 {
			return dy
		}
		return dy * (y + alpha)
	})(b)
}

// clipBack passes the gradient where min <= x <= max (Caffe's Clip).
func clipBack(b *Bwd) error {
	lo, hi := float32(math.Inf(-1)), float32(math.Inf(1))
	if len(b.In) > 1 && b.In[1] != nil {
		lo = b.In[1].F32()[0]
	}
	if len(b.In) > 2 && b.In[2] != nil {
		hi = b.In[2].F32()[0]
	}
	if b.Need(1) || b.Need(2) {
		return fmt.Errorf("the clip bounds cannot be learned")
	}
	return unaryBack(func(x, _, dy float32) float32 {
		if x >= lo && x <= hi {
			return dy
		}
		return 0
	})(b)
}

// preluBack: dx = dy where x > 0, slope*dy elsewhere; the slope's gradient
// sums dy*x over x <= 0 (the slope broadcasts over the other axes).
func preluBack(b *Bwd) error {
	x, dy := b.In[0], b.DY(0)
	sl := b.In[1]
	g, err := newBcast(x.Shape, x.Shape, sl.Shape)
	if err != nil {
		return err
	}
	xd, sd := x.F32(), sl.F32()
	if b.Need(0) {
		dx := b.Grad(0)
		g.each(func(o, _, s, n, _, ss int) {
			for i := 0; i < n; i++ {
				v := dy[o+i]
				if xd[o+i] <= 0 {
					v *= sd[s+i*ss]
				}
				dx[o+i] += v
			}
		})
	}
	if b.Need(1) {
		ds := b.Grad(1)
		g.each(func(o, _, s, n, _, ss int) {
			for i := 0; i < n; i++ {
				if v := xd[o+i]; v <= 0 {
					ds[s+i*ss] += dy[o+i] * v
				}
			}
		})
	}
	return nil
}
