package norm

import (
	"fmt"

	"stride/graph"
	"stride/ops"
	"stride/tensor"
)

// NegativeLogLikelihoodLoss takes log-probabilities [N, C, D1...] and class
// targets [N, D1...]; SoftmaxCrossEntropyLoss takes scores, applies
// LogSoftmax along the class axis (its optional second output) and then
// computes the same loss.

func init() {
	ops.Register(
		&ops.Def{Op: "NegativeLogLikelihoodLoss", Build: buildLoss, Infer: inferLoss, Float64: true},
		&ops.Def{Op: "SoftmaxCrossEntropyLoss", Build: buildLoss, Infer: inferLoss, Float64: true},
	)
}

type lossAttrs struct {
	reduction string
	ignore    int64
	hasIgnore bool
}

func readLossAttrs(n *graph.Node) (lossAttrs, error) {
	r, err := n.AttrString("reduction", "mean")
	if err != nil {
		return lossAttrs{}, err
	}
	if r != "none" && r != "sum" && r != "mean" {
		return lossAttrs{}, fmt.Errorf("reduction %q is not none, sum or mean", r)
	}
	ii, err := n.AttrInt("ignore_index", 0)
	if err != nil {
		return lossAttrs{}, err
	}
	return lossAttrs{reduction: r, ignore: ii, hasIgnore: n.Has("ignore_index")}, nil
}

func buildLoss(b *ops.Build) (ops.Kernel, error) {
	at, err := readLossAttrs(b.Node)
	if err != nil {
		return nil, err
	}
	softmax := b.Node.Op == "SoftmaxCrossEntropyLoss"
	wantLogProb := softmax && len(b.Node.Outputs) > 1 && b.Node.Outputs[1] != ""
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		if len(in) < 2 || in[0] == nil || in[1] == nil {
			return nil, fmt.Errorf("input and target are required")
		}
		x, target := in[0], in[1]
		if err := needFloat(x); err != nil {
			return nil, err
		}
		if x.Rank() < 2 {
			return nil, fmt.Errorf("input of shape %v has no class axis", x.Shape)
		}
		s := span{x.Shape[0], x.Shape[1], tensor.Size(x.Shape[2:])}
		want := append([]int{x.Shape[0]}, x.Shape[2:]...)
		if !tensor.SameShape(target.Shape, want) {
			return nil, fmt.Errorf("target has shape %v, want %v for input %v", target.Shape, want, x.Shape)
		}
		labels, err := target.Ints()
		if err != nil {
			return nil, fmt.Errorf("target: %w", err)
		}
		var weight []float64
		if len(in) > 2 && in[2] != nil {
			if weight, err = channelParam(in[2], s.n, "weight"); err != nil {
				return nil, err
			}
		}
		logp := x
		if softmax {
			if wantLogProb {
				logp, err = c.AllocLike(x)
			} else {
				logp, err = tensor.New(x.DType, x.Shape...)
			}
			if err != nil {
				return nil, err
			}
			if x.DType == tensor.Float32 {
				mapColumns(c, s, x.F32(), logp.F32(), func(_ int, in, out []float32) { logSoftmaxCol(in, out) })
			} else {
				mapColumns(c, s, x.Data.([]float64), logp.Data.([]float64), func(_ int, in, out []float64) { logSoftmaxCol(in, out) })
			}
		}
		loss := make([]float64, len(labels))
		var wsum float64
		if x.DType == tensor.Float32 {
			wsum, err = nll(logp.F32(), s, labels, weight, at, loss)
		} else {
			wsum, err = nll(logp.Data.([]float64), s, labels, weight, at, loss)
		}
		if err != nil {
			return nil, err
		}
		var y *tensor.Tensor
		if at.reduction == "none" {
			y, err = c.Alloc(x.DType, want...)
		} else {
			y, err = c.Alloc(x.DType)
			total := 0.0
			for _, v := range loss {
				total += v
			}
			if at.reduction == "mean" {
				total /= wsum
			}
			loss = []float64{total}
		}
		if err != nil {
			return nil, err
		}
		setFloats(y, loss)
		if wantLogProb {
			return ops.Outs(y, logp)
		}
		return ops.Outs(y)
	}), nil
}

// nll writes -logp[n, t, d] * weight[t] for each sample (n, d) with label t
// into loss, 0 for ignored samples, and returns the sum of the weights of
// the samples not ignored (their count without weights).
func nll[T float](logp []T, s span, labels []int64, weight []float64, at lossAttrs, loss []float64) (float64, error) {
	wsum := 0.0
	for i, t := range labels {
		if at.hasIgnore && t == at.ignore {
			continue
		}
		if t < 0 || t >= int64(s.n) {
			return 0, fmt.Errorf("target %d is not a class index in [0, %d)", t, s.n)
		}
		w := 1.0
		if weight != nil {
			w = weight[t]
		}
		n, d := i/s.inner, i%s.inner
		loss[i] = -float64(logp[(n*s.n+int(t))*s.inner+d]) * w
		wsum += w
	}
	return wsum, nil
}

func inferLoss(b *ops.Build, in []graph.Type) ([]graph.Type, error) {
	at, err := readLossAttrs(b.Node)
	if err != nil {
		return nil, err
	}
	x := in[0]
	if x.DType == tensor.Undefined {
		return nil, fmt.Errorf("input type unknown")
	}
	loss := graph.Type{DType: x.DType, Ranked: true}
	if at.reduction == "none" {
		if !in[1].Ranked {
			return nil, fmt.Errorf("target rank unknown")
		}
		loss.Shape = in[1].Shape
	}
	return []graph.Type{loss, x}, nil
}
