package train

import (
	"fmt"
	"math"

	"stride/tensor"
)

// Gradients of the element-wise arithmetic ops (with numpy broadcasting:
// the gradient of a broadcast operand sums over the axes it was repeated
// along) and of the reductions.

// binGrad adds f(dy, a, b, y) into the gradient of operand k (0 or 1) of a
// binary op, reduced over the axes the operand was broadcast along.
func binGrad(b *Bwd, k int, f func(dy, a, bv, y float32) float32) error {
	if !b.Need(k) {
		return nil
	}
	A, B, Y := b.In[0], b.In[1], b.Out[0]
	dy, ad, bd, yd := b.DY(0), A.F32(), B.F32(), Y.F32()
	dst := b.Grad(k)
	if tensor.SameShape(A.Shape, Y.Shape) && tensor.SameShape(B.Shape, Y.Shape) {
		b.parFor(len(dst), func(lo, hi int) {
			for i := lo; i < hi; i++ {
				dst[i] += f(dy[i], ad[i], bd[i], yd[i])
			}
		})
		return nil
	}
	g, err := newBcast(Y.Shape, A.Shape, B.Shape)
	if err != nil {
		return err
	}
	g.each(func(o, ia, ib, n, sa, sb int) {
		for i := 0; i < n; i++ {
			v := f(dy[o+i], ad[ia+i*sa], bd[ib+i*sb], yd[o+i])
			if k == 0 {
				dst[ia+i*sa] += v
			} else {
				dst[ib+i*sb] += v
			}
		}
	})
	return nil
}

// binary combines the rules of both operands.
func binaryRule(fa, fb func(dy, a, b, y float32) float32) func(b *Bwd) error {
	return func(b *Bwd) error {
		if err := binGrad(b, 0, fa); err != nil {
			return err
		}
		return binGrad(b, 1, fb)
	}
}

var (
	addBack = binaryRule(
		func(dy, _, _, _ float32) float32 { return dy },
		func(dy, _, _, _ float32) float32 { return dy })
	subBack = binaryRule(
		func(dy, _, _, _ float32) float32 { return dy },
		func(dy, _, _, _ float32) float32 { return -dy })
	mulBack = binaryRule(
		func(dy, _, b, _ float32) float32 { return dy * b },
		func(dy, a, _, _ float32) float32 { return dy * a })
	divBack = binaryRule(
		func(dy, _, b, _ float32) float32 { return dy / b },
		func(dy, _, b, y float32) float32 { return -dy * y / b })
	powBack = binaryRule(
		func(dy, a, b, _ float32) float32 {
			return dy * b * float32(math.Pow(float64(a), float64(b-1)))
		},
		func(dy, a, _, y float32) float32 { return dy * y * float32(math.Log(float64(a))) })
)

// extremeBack routes the gradient of an n-ary Max (Min) to the operand
// that won, with Caffe's Eltwise tie rule: between the first two the second
// wins a tie, later operands must be strictly better.
func extremeBack(better func(a, b float32) bool) func(b *Bwd) error {
	return func(b *Bwd) error {
		for _, t := range b.In[1:] {
			if !tensor.SameShape(t.Shape, b.In[0].Shape) {
				return fmt.Errorf("the gradient needs operands of equal shapes, got %v and %v", b.In[0].Shape, t.Shape)
			}
		}
		dy := b.DY(0)
		ins := make([][]float32, len(b.In))
		grads := make([][]float32, len(b.In))
		for i, t := range b.In {
			ins[i] = t.F32()
			if b.Need(i) {
				grads[i] = b.Grad(i)
			}
		}
		if len(ins) == 1 {
			if grads[0] != nil {
				for i, v := range dy {
					grads[0][i] += v
				}
			}
			return nil
		}
		b.parFor(len(dy), func(lo, hi int) {
			for i := lo; i < hi; i++ {
				w, best := 1, ins[1][i]
				if better(ins[0][i], best) {
					w, best = 0, ins[0][i]
				}
				for k := 2; k < len(ins); k++ {
					if better(ins[k][i], best) {
						w, best = k, ins[k][i]
					}
				}
				if grads[w] != nil {
					grads[w][i] += dy[i]
				}
			}
		})
		return nil
	}
}

var (
	maxBack = extremeBack(func(a, b float32) bool { return a > b })
	minBack = extremeBack(func(a, b float32) bool { return a < b })
)

// sumBack: every operand receives dY, reduced to its shape.
func sumBack(b *Bwd) error {
	dy := b.DY(0)
	for k, t := range b.In {
		if !b.Need(k) {
			continue
		}
		if err := reduceInto(b.Grad(k), t.Shape, dy, b.Out[0].Shape, 1); err != nil {
			return err
		}
	}
	return nil
}

// reduceInto adds scale*dy (of shape out) into dst (of shape in, which
// broadcasts to out), summing over the broadcast axes.
func reduceInto(dst []float32, in []int, dy []float32, out []int, scale float32) error {
	g, err := newBcast(out, in, nil)
	if err != nil {
		return err
	}
	g.each(func(o, a, _, n, sa, _ int) {
		for i := 0; i < n; i++ {
			dst[a+i*sa] += scale * dy[o+i]
		}
	})
	return nil
}

// spreadInto adds scale*dy (of shape small, broadcasting to big) into dst
// (of shape big): the gradient of a reduction.
func spreadInto(dst []float32, big []int, dy []float32, small []int, scale float32) error {
	g, err := newBcast(big, small, nil)
	if err != nil {
		return err
	}
	g.each(func(o, a, _, n, sa, _ int) {
		for i := 0; i < n; i++ {
			dst[o+i] += scale * dy[a+i*sa]
		}
	})
	return nil
}

// reducedShape returns the input shape with the reduced axes set to 1 (the
// keepdims form of a reduction's output) and the number of elements
// reduced into each output.
func reducedShape(b *Bwd, axesFromInput bool) ([]int, int, error) {
	x := b.In[0]
	var axes []int64
	var err error
	if axesFromInput && len(b.In) > 1 && b.In[1] != nil {
		if axes, err = b.In[1].Ints(); err != nil {
			return nil, 0, err
		}
	} else if axes, err = b.Node.AttrInts("axes", nil); err != nil {
		return nil, 0, err
	}
	noop, err := b.Node.AttrInt("noop_with_empty_axes", 0)
	if err != nil {
		return nil, 0, err
	}
	shape := append([]int{}, x.Shape...)
	if len(axes) == 0 {
		if noop != 0 {
			return shape, 1, nil
		}
		for i := range shape {
			shape[i] = 1
		}
		return shape, max(1, x.Len()), nil
	}
	count := 1
	for _, a := range axes {
		ax := int(a)
		if ax < 0 {
			ax += len(shape)
		}
		if ax < 0 || ax >= len(shape) {
			return nil, 0, fmt.Errorf("axis %d out of range for shape %v", a, x.Shape)
		}
		count *= x.Shape[ax]
		shape[ax] = 1
	}
	return shape, count, nil
}

func reduceSumBack(b *Bwd) error {
	if !b.Need(0) {
		return nil
	}
	kept, _, err := reducedShape(b, true)
	if err != nil {
		return err
	}
	return spreadInto(b.Grad(0), b.In[0].Shape, b.DY(0), kept, 1)
}

func reduceMeanBack(b *Bwd) error {
	if !b.Need(0) {
		return nil
	}
	kept, count, err := reducedShape(b, true)
	if err != nil {
		return err
	}
	return spreadInto(b.Grad(0), b.In[0].Shape, b.DY(0), kept, 1/float32(count))
}
