package norm

import (
	"fmt"
	"math"

	"stride/graph"
	"stride/internal/kern"
	"stride/ops"
	"stride/tensor"
)

func init() {
	ops.Register(
		&ops.Def{Op: "BatchNormalization", Build: buildBatchNorm, Infer: inferBatchNorm, Float64: true},
		&ops.Def{Op: "FusedBatchNorm", Domain: fusedDomain, Build: buildFusedBatchNorm, Infer: inferBatchNorm, Float64: true},
	)
}

// fusedDomain is the domain of Stride's internal fused ops.
const fusedDomain = "stride"

// buildFusedBatchNorm prepares FusedBatchNorm: inference
// BatchNormalization followed by the activation named by its activation
// attribute ("" or "Relu"), in one pass over the data. The graph passes
// make it from a BatchNormalization whose output only a Relu reads (a
// pre-activation block, where there is no convolution to fold into).
func buildFusedBatchNorm(b *ops.Build) (ops.Kernel, error) {
	act, err := b.Node.AttrString("activation", "")
	if err != nil {
		return nil, err
	}
	if act != "" && act != "Relu" {
		return nil, fmt.Errorf("unsupported activation %q (want Relu)", act)
	}
	if tm, _ := b.Node.AttrInt("training_mode", 0); tm != 0 {
		return nil, fmt.Errorf("training_mode is not supported")
	}
	if len(b.Node.Outputs) != 1 {
		return nil, fmt.Errorf("has %d outputs, want 1", len(b.Node.Outputs))
	}
	return newBatchNorm(b, act == "Relu")
}

// buildBatchNorm prepares BatchNormalization on X [N, C, D1...]. In
// inference mode it normalizes with the given running statistics; with
// training_mode=1 it normalizes with the batch's own statistics and also
// returns the running mean and variance updated with momentum:
// running = input*momentum + batch*(1-momentum), the batch variance being
// the biased one.
func buildBatchNorm(b *ops.Build) (ops.Kernel, error) { return newBatchNorm(b, false) }

// newBatchNorm builds BatchNormalization, followed by Relu when relu is
// set (inference only).
func newBatchNorm(b *ops.Build, relu bool) (ops.Kernel, error) {
	eps, err := b.Node.AttrFloat("epsilon", 1e-5)
	if err != nil {
		return nil, err
	}
	momentum, err := b.Node.AttrFloat("momentum", 0.9)
	if err != nil {
		return nil, err
	}
	training, err := b.Node.AttrInt("training_mode", 0)
	if err != nil {
		return nil, err
	}
	nout := len(b.Node.Outputs)
	// With constant parameters (the usual inference graph) the per-channel
	// scale and shift are computed once here.
	var fold *bnFold
	if training == 0 && b.Const(1) != nil && b.Const(2) != nil && b.Const(3) != nil && b.Const(4) != nil {
		ch := b.Const(1).Len()
		var p [4][]float64
		ok := true
		for i, what := range []string{"scale", "B", "input_mean", "input_var"} {
			// Malformed parameters are left for Run to report.
			var err error
			p[i], err = channelParam(widen(b.Const(i+1)), ch, what)
			ok = ok && err == nil
		}
		if ok {
			f := newBNFold(p[0], p[1], p[2], p[3], float64(eps))
			fold = &f
		}
	}
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		if len(in) < 5 {
			return nil, fmt.Errorf("needs 5 inputs (X, scale, B, input_mean, input_var), got %d", len(in))
		}
		x := in[0]
		if err := needFloat(x); err != nil {
			return nil, err
		}
		if x.Rank() < 2 {
			return nil, fmt.Errorf("input of shape %v has no channel axis", x.Shape)
		}
		ch := x.Shape[1]
		if fold != nil {
			if len(fold.m) != ch {
				return nil, fmt.Errorf("scale has %d values for %d channels", len(fold.m), ch)
			}
			y, err := c.AllocLike(x)
			if err != nil {
				return nil, err
			}
			fold.apply(c, x, y, relu)
			outs := make([]*tensor.Tensor, nout)
			outs[0] = y
			return outs, nil
		}
		var p [4][]float64 // scale, B, mean, var
		for i, what := range []string{"scale", "B", "input_mean", "input_var"} {
			if p[i], err = channelParam(in[i+1], ch, what); err != nil {
				return nil, err
			}
		}
		scale, bias, mean, variance := p[0], p[1], p[2], p[3]
		y, err := c.AllocLike(x)
		if err != nil {
			return nil, err
		}
		s := span{x.Shape[0], ch, tensor.Size(x.Shape[2:])}
		outs := []*tensor.Tensor{y}
		if training != 0 {
			bm, bv := batchMoments(c, x, s)
			runs := [2][]float64{make([]float64, ch), make([]float64, ch)}
			for k := range ch {
				runs[0][k] = mean[k]*float64(momentum) + bm[k]*(1-float64(momentum))
				runs[1][k] = variance[k]*float64(momentum) + bv[k]*(1-float64(momentum))
			}
			for i, r := range runs {
				t, err := c.Alloc(in[3+i].DType, ch)
				if err != nil {
					return nil, err
				}
				setFloats(t, r)
				outs = append(outs, t)
			}
			mean, variance = bm, bv
		}
		f := newBNFold(scale, bias, mean, variance, float64(eps))
		f.apply(c, x, y, relu)
		for len(outs) < nout {
			outs = append(outs, nil) // outputs of old opsets we do not produce
		}
		return outs[:nout], nil
	}), nil
}

// bnFold is inference BatchNormalization folded into one multiply-add per
// channel: y = (x - mean) / sqrt(var + eps) * scale + B = x*m + a.
type bnFold struct {
	m, a     []float64
	m32, a32 []float32 // rounded, for the float32 vector kernel
}

func newBNFold(scale, bias, mean, variance []float64, eps float64) bnFold {
	ch := len(scale)
	f := bnFold{m: make([]float64, ch), a: make([]float64, ch), m32: make([]float32, ch), a32: make([]float32, ch)}
	for k := range ch {
		f.m[k] = scale[k] / math.Sqrt(variance[k]+eps)
		f.a[k] = bias[k] - mean[k]*f.m[k]
		f.m32[k], f.a32[k] = float32(f.m[k]), float32(f.a[k])
	}
	return f
}

// apply computes y from x [N, C, ...], then max(y, 0) with relu. Float32
// goes through the vector kernel in float32 (a fused multiply-add with the
// rounded m and a; the difference from float64 is a few ulp of the terms);
// float64 stays exact to the float64 formula.
func (f *bnFold) apply(c *ops.Ctx, x, y *tensor.Tensor, relu bool) {
	s := span{x.Shape[0], x.Shape[1], tensor.Size(x.Shape[2:])}
	if x.DType == tensor.Float32 {
		xd, yd := x.F32(), y.F32()
		op := kern.ScaleShift
		if relu {
			op = kern.ScaleShiftRelu
		}
		c.For(s.outer*s.n, grain(s.inner), func(lo, hi int) {
			for r := lo; r < hi; r++ {
				k := r % s.n
				op(yd[r*s.inner:(r+1)*s.inner], xd[r*s.inner:(r+1)*s.inner], f.m32[k], f.a32[k])
			}
		})
		return
	}
	channelAffine(c, x.Data.([]float64), y.Data.([]float64), s, f.m, f.a, relu)
}

// channelAffine computes y = x*m[c] + a[c] on x viewed as s = [N, C,
// inner], then max(y, 0) with relu (NaN stays NaN).
func channelAffine[T float](c *ops.Ctx, x, y []T, s span, m, a []float64, relu bool) {
	c.For(s.outer*s.n, grain(s.inner), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			k := r % s.n
			mk, ak := m[k], a[k]
			row := x[r*s.inner : (r+1)*s.inner]
			out := y[r*s.inner : (r+1)*s.inner]
			for i, v := range row {
				out[i] = T(float64(v)*mk + ak)
			}
			if relu {
				for i, v := range out {
					if v < 0 {
						out[i] = 0
					}
				}
			}
		}
	})
}

// batchMoments returns each channel's mean and biased variance over the
// batch and spatial axes of x viewed as s = [N, C, inner].
func batchMoments(c *ops.Ctx, x *tensor.Tensor, s span) (mean, variance []float64) {
	mean, variance = make([]float64, s.n), make([]float64, s.n)
	if x.DType == tensor.Float32 {
		batchMomentsOf(c, x.F32(), s, mean, variance)
	} else {
		batchMomentsOf(c, x.Data.([]float64), s, mean, variance)
	}
	return mean, variance
}

func batchMomentsOf[T float](c *ops.Ctx, x []T, s span, mean, variance []float64) {
	count := float64(s.outer * s.inner)
	c.For(s.n, grain(s.outer*s.inner), func(lo, hi int) {
		for k := lo; k < hi; k++ {
			sum := 0.0
			for o := range s.outer {
				for _, v := range x[(o*s.n+k)*s.inner : (o*s.n+k+1)*s.inner] {
					sum += float64(v)
				}
			}
			mu := sum / count
			sq := 0.0
			for o := range s.outer {
				for _, v := range x[(o*s.n+k)*s.inner : (o*s.n+k+1)*s.inner] {
					d := float64(v) - mu
					sq += d * d
				}
			}
			mean[k], variance[k] = mu, sq/count
		}
	})
}

func inferBatchNorm(b *ops.Build, in []graph.Type) ([]graph.Type, error) {
	if in[0].DType == tensor.Undefined {
		return nil, fmt.Errorf("input type unknown")
	}
	out := []graph.Type{in[0]}
	if training, _ := b.Node.AttrInt("training_mode", 0); training != 0 && len(in) == 5 {
		out = append(out, in[3], in[4])
	}
	return out, nil
}
