package norm

import (
	"fmt"
	"math"

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
			lrn(c, x.F32(), y.F32(), s, p)
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
