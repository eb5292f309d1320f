package conformance

import (
	"fmt"
	"math"

	"stride/tensor"
)

// Tolerances of the conformance comparison.
const (
	RTol = 1e-3
	ATol = 1e-5
)

// Diff describes how far an output is from its reference.
type Diff struct {
	MaxAbs, MaxRel float64
}

// Compare checks got against want: same type and shape; floats within
// atol + rtol*|want| (NaN matches NaN, infinities match exactly); other
// types exactly. It returns the largest absolute and relative errors.
func Compare(got, want *tensor.Tensor, rtol, atol float64) (Diff, error) {
	var d Diff
	if got.DType != want.DType {
		return d, fmt.Errorf("type %v, want %v", got.DType, want.DType)
	}
	if !tensor.SameShape(got.Shape, want.Shape) {
		return d, fmt.Errorf("shape %v, want %v", got.Shape, want.Shape)
	}
	if got.DType == tensor.String {
		g, w := got.Data.([]string), want.Data.([]string)
		for i := range w {
			if g[i] != w[i] {
				return d, fmt.Errorf("element %d is %q, want %q", i, g[i], w[i])
			}
		}
		return d, nil
	}
	g, w := got.Float64s(), want.Float64s()
	exact := !got.DType.IsFloat()
	bad := -1
	for i := range w {
		a, b := g[i], w[i]
		if math.IsNaN(b) || math.IsNaN(a) {
			if math.IsNaN(a) != math.IsNaN(b) && bad < 0 {
				bad = i
			}
			continue
		}
		if math.IsInf(b, 0) || math.IsInf(a, 0) {
			if a != b && bad < 0 {
				bad = i
			}
			continue
		}
		diff := math.Abs(a - b)
		if diff > d.MaxAbs {
			d.MaxAbs = diff
		}
		if b != 0 {
			if r := diff / math.Abs(b); r > d.MaxRel {
				d.MaxRel = r
			}
		}
		if (exact && diff != 0 || !exact && diff > atol+rtol*math.Abs(b)) && bad < 0 {
			bad = i
		}
	}
	if bad >= 0 {
		return d, fmt.Errorf("element %d is %v, want %v (max abs err %.3g, max rel err %.3g)", bad, g[bad], w[bad], d.MaxAbs, d.MaxRel)
	}
	return d, nil
}
