package norm

import (
	"math"

	"stride/internal/kern"
	"stride/ops"
	"stride/tensor"
)

// softmaxFamily maps each op to its column kernel for both float types.
var softmaxFamily = map[string]struct {
	f32 func(x, y []float32)
	f64 func(x, y []float64)
}{
	"Softmax":    {softmaxCol32, softmaxCol[float64]},
	"LogSoftmax": {logSoftmaxCol32, logSoftmaxCol[float64]},
	"Hardmax":    {hardmaxCol[float32], hardmaxCol[float64]},
}

func init() {
	for op := range softmaxFamily {
		ops.Register(&ops.Def{Op: op, Build: buildSoftmax, Infer: inferSame, Float64: true})
	}
}

// buildSoftmax prepares Softmax, LogSoftmax or Hardmax with the opset-13
// semantics: the op applies along one axis (default -1).
func buildSoftmax(b *ops.Build) (ops.Kernel, error) {
	k := softmaxFamily[b.Node.Op]
	axisAttr, err := b.Node.AttrInt("axis", -1)
	if err != nil {
		return nil, err
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
			mapColumns(c, s, x.F32(), y.F32(), func(_ int, in, out []float32) { k.f32(in, out) })
		} else {
			mapColumns(c, s, x.Data.([]float64), y.Data.([]float64), func(_ int, in, out []float64) { k.f64(in, out) })
		}
		return ops.Outs(y)
	}), nil
}

// colMax returns the largest element of x (NaN if any is, -inf if x is
// empty).
func colMax[T float](x []T) float64 {
	m := math.Inf(-1)
	for _, v := range x {
		m = max(m, float64(v))
	}
	return m
}

// softmaxCol computes exp(x - max) / sum(exp(x - max)); the shift by the
// maximum keeps every exp in (0, 1].
func softmaxCol[T float](x, y []T) {
	m := colMax(x)
	s := 0.0
	y = y[:len(x)]
	for i, v := range x {
		e := math.Exp(float64(v) - m)
		y[i] = T(e)
		s += e
	}
	inv := 1 / s
	for i, v := range y {
		y[i] = T(float64(v) * inv)
	}
}

// softmaxCol32 is softmaxCol with the vector kernels: exp in float32 (a
// few ulp), the sum in float64.
func softmaxCol32(x, y []float32) {
	y = y[:len(x)]
	kern.ExpShift(y, x, kern.MaxOf(x))
	kern.ApplyVS(kern.Mul, y, y, float32(1/kern.SumOf(y)))
}

// logSoftmaxCol32 is logSoftmaxCol with the vector kernels; y holds the
// exponentials until the last passes. (x - m) - log(sum) rather than
// x - (m + log(sum)): the shift rounded to float32 would cost up to half
// an ulp of m, large next to a result near 0.
func logSoftmaxCol32(x, y []float32) {
	y = y[:len(x)]
	m := kern.MaxOf(x)
	kern.ExpShift(y, x, m)
	lse := float32(math.Log(kern.SumOf(y)))
	kern.ApplyVS(kern.Sub, y, x, m)
	kern.ApplyVS(kern.Sub, y, y, lse)
}

// logSoftmaxCol computes x - max - log(sum(exp(x - max))).
func logSoftmaxCol[T float](x, y []T) {
	m := colMax(x)
	s := 0.0
	for _, v := range x {
		s += math.Exp(float64(v) - m)
	}
	shift := m + math.Log(s)
	y = y[:len(x)]
	for i, v := range x {
		y[i] = T(float64(v) - shift)
	}
}

// hardmaxCol sets 1 at the first maximum of x and 0 elsewhere.
func hardmaxCol[T float](x, y []T) {
	best := 0
	for i, v := range x {
		if beats(v, x[best], true) {
			best = i
		}
		y[i] = 0
	}
	if len(x) > 0 {
		y[best] = 1
	}
}
