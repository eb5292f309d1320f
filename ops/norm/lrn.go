package norm

import (
	"fmt"
	"math"

	"stride/internal/kern"
	"stride/ops"
	"stride/tensor"
)

// LRN and LpNormalization scale each element by a norm of its neighbours:
// across a window of channels (LRN) or along a whole axis (LpNormalization).

func init() {
	ops.Register(
		&ops.Def{Op: "LRN", Build: buildLRN, Infer: inferSame, Float64: true},
		&ops.Def{Op: "LpNormalization", Build: buildLpNorm, Infer: inferSame, Float64: true},
	)
}

type lrnParams struct {
	size              int
	alpha, beta, bias float64
	before, after     int // the channel window is [c-before, c+after]
}

// buildLRN prepares LRN on X [N, C, D1...]:
// y = x / (bias + alpha/size * sum of x^2 over the channel window)^beta.
func buildLRN(b *ops.Build) (ops.Kernel, error) {
	if !b.Node.Has("size") {
		return nil, fmt.Errorf("attribute size is required")
	}
	size, err := b.Node.AttrInt("size", 0)
	if err != nil {
		return nil, err
	}
	if size < 1 {
		return nil, fmt.Errorf("size must be positive, got %d", size)
	}
	var f [3]float32
	for i, a := range []struct {
		name string
		def  float32
	}{{"alpha", 1e-4}, {"beta", 0.75}, {"bias", 1}} {
		if f[i], err = b.Node.AttrFloat(a.name, a.def); err != nil {
			return nil, err
		}
	}
	p := lrnParams{size: int(size), alpha: float64(f[0]), beta: float64(f[1]), bias: float64(f[2]),
		before: int(size-1) / 2, after: int(size) / 2}
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x := in[0]
		if err := needFloat(x); err != nil {
			return nil, err
		}
		if x.Rank() < 2 {
			return nil, fmt.Errorf("input of shape %v has no channel axis", x.Shape)
		}
		y, err := c.AllocLike(x)
		if err != nil {
			return nil, err
		}
		s := span{x.Shape[0], x.Shape[1], tensor.Size(x.Shape[2:])}
		if x.DType == tensor.Float32 {
			if err := lrn32(c, x.F32(), y.F32(), s, p); err != nil {
				return nil, err
			}
		} else {
			lrn(c, x.Data.([]float64), y.Data.([]float64), s, p)
		}
		return ops.Outs(y)
	}), nil
}

// lrn computes one [inner] row of y per (n, c), summing the squares of the
// window's rows into a scratch row so every read is contiguous.
func lrn[T float](c *ops.Ctx, x, y []T, s span, p lrnParams) {
	ch, inner := s.n, s.inner
	k := p.alpha / float64(p.size)
	c.For(s.outer*ch, grain(inner*p.size), func(lo, hi int) {
		sq := make([]float64, inner)
		for r := lo; r < hi; r++ {
			n, cc := r/ch, r%ch
			clear(sq)
			for w := max(0, cc-p.before); w <= min(ch-1, cc+p.after); w++ {
				for i, v := range x[(n*ch+w)*inner : (n*ch+w+1)*inner] {
					sq[i] += float64(v) * float64(v)
				}
			}
			out := y[r*inner : (r+1)*inner]
			for i, v := range x[r*inner : (r+1)*inner] {
				out[i] = T(float64(v) / math.Pow(p.bias+k*sq[i], p.beta))
			}
		}
	})
}

// lrn32 is lrn for float32 with the vector kernels: the window's squares
// are summed in float32 into a scratch row per task (from the run's
// allocator), and the common beta = 0.75 takes two square roots instead of
// a pow per element.
func lrn32(c *ops.Ctx, x, y []float32, s span, p lrnParams) error {
	ch, inner, rows := s.n, s.inner, s.outer*s.n
	if rows == 0 || inner == 0 {
		return nil
	}
	tasks := max(1, min(rows, 4*c.Pool.Threads(), rows*inner*p.size/minWork))
	scratch, err := c.Alloc(tensor.Float32, 2*tasks*inner)
	if err != nil {
		return err
	}
	defer c.Release(scratch)
	buf := scratch.F32()
	k := float32(p.alpha / float64(p.size))
	per := (rows + tasks - 1) / tasks
	c.Tasks(tasks, func(t int) {
		sq, tmp := buf[2*t*inner:(2*t+1)*inner], buf[(2*t+1)*inner:(2*t+2)*inner]
		for r := t * per; r < min((t+1)*per, rows); r++ {
			n, cc := r/ch, r%ch
			clear(sq)
			for w := max(0, cc-p.before); w <= min(ch-1, cc+p.after); w++ {
				xw := x[(n*ch+w)*inner : (n*ch+w+1)*inner]
				kern.Apply(kern.Mul, tmp, xw, xw)
				kern.Apply(kern.Add, sq, sq, tmp)
			}
			xr, out := x[r*inner:(r+1)*inner], y[r*inner:(r+1)*inner]
			kern.ScaleShift(sq, sq, k, float32(p.bias)) // the base of the power
			if p.beta == 0.75 {
				kern.Sqrt(tmp, sq)
				kern.Apply(kern.Mul, sq, sq, tmp) // base^1.5
				kern.Sqrt(sq, sq)                 // base^0.75
				kern.Apply(kern.Div, out, xr, sq)
				continue
			}
			for i, v := range xr {
				out[i] = float32(float64(v) / math.Pow(float64(sq[i]), p.beta))
			}
		}
	})
	return nil
}

// buildLpNorm prepares LpNormalization: x divided by its L1 (p=1) or L2
// (p=2) norm along axis. A zero norm gives zeros rather than NaNs.
func buildLpNorm(b *ops.Build) (ops.Kernel, error) {
	a, err := attrInts(b.Node, []string{"axis", "p"}, []int64{-1, 2})
	if err != nil {
		return nil, err
	}
	axisAttr, pn := a[0], a[1]
	if pn != 1 && pn != 2 {
		return nil, fmt.Errorf("p must be 1 or 2, got %d", pn)
	}
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x := in[0]
		if err := needFloat(x); err != nil {
			return nil, err
		}
		axis, err := ops.NormAxis(axisAttr, x.Rank())
		if err != nil {
			return nil, err
		}
		y, err := c.AllocLike(x)
		if err != nil {
			return nil, err
		}
		s := spanOf(x.Shape, axis, axis+1)
		if x.DType == tensor.Float32 {
			lpNorm(c, x.F32(), y.F32(), s, pn == 1)
		} else {
			lpNorm(c, x.Data.([]float64), y.Data.([]float64), s, pn == 1)
		}
		return ops.Outs(y)
	}), nil
}

func lpNorm[T float](c *ops.Ctx, x, y []T, s span, l1 bool) {
	acc := fold[T, float64](accSumSq)
	if l1 {
		acc = fold[T, float64](accAbs)
	}
	mapColumns(c, s, x, y, func(_ int, in, out []T) {
		norm := acc(in)
		if !l1 {
			norm = math.Sqrt(norm)
		}
		inv := 0.0
		if norm != 0 {
			inv = 1 / norm
		}
		for i, v := range in {
			out[i] = T(float64(v) * inv)
		}
	})
}
