package norm

import (
	"fmt"

	"stride/graph"
	"stride/ops"
	"stride/tensor"
)

func init() {
	for _, op := range []string{"ArgMax", "ArgMin"} {
		ops.Register(&ops.Def{Op: op, Build: buildArg, Infer: inferArg, Float64: true})
	}
}

type argAttrs struct {
	axis       int64
	keep, last bool
}

func readArgAttrs(n *graph.Node) (argAttrs, error) {
	a, err := attrInts(n, []string{"axis", "keepdims", "select_last_index"}, []int64{0, 1, 0})
	if err != nil {
		return argAttrs{}, err
	}
	return argAttrs{axis: a[0], keep: a[1] != 0, last: a[2] != 0}, nil
}

func buildArg(b *ops.Build) (ops.Kernel, error) {
	at, err := readArgAttrs(b.Node)
	if err != nil {
		return nil, err
	}
	isMax := b.Node.Op == "ArgMax"
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x := in[0]
		axis, err := ops.NormAxis(at.axis, x.Rank())
		if err != nil {
			return nil, err
		}
		s := spanOf(x.Shape, axis, axis+1)
		if s.n == 0 && s.columns() > 0 {
			return nil, fmt.Errorf("axis %d of shape %v is empty: no index to return", at.axis, x.Shape)
		}
		y, err := c.Alloc(tensor.Int64, reducedShape(x.Shape, []int{axis}, at.keep, 1)...)
		if err != nil {
			return nil, err
		}
		yd := y.I64()
		switch xd := x.Data.(type) {
		case []float32:
			argTyped(c, xd, yd, s, isMax, at.last)
		case []float64:
			argTyped(c, xd, yd, s, isMax, at.last)
		case []int8:
			argTyped(c, xd, yd, s, isMax, at.last)
		case []int16:
			argTyped(c, xd, yd, s, isMax, at.last)
		case []int32:
			argTyped(c, xd, yd, s, isMax, at.last)
		case []int64:
			argTyped(c, xd, yd, s, isMax, at.last)
		case []uint8:
			argTyped(c, xd, yd, s, isMax, at.last)
		case []uint16:
			argTyped(c, xd, yd, s, isMax, at.last)
		case []uint32:
			argTyped(c, xd, yd, s, isMax, at.last)
		case []uint64:
			argTyped(c, xd, yd, s, isMax, at.last)
		default:
			return nil, fmt.Errorf("input type %v is not supported", x.DType)
		}
		return ops.Outs(y)
	}), nil
}

// argTyped writes the index of each column's maximum (isMax) or minimum.
// Ties go to the first index, or the last with select_last_index. A NaN
// counts as more extreme than any number, as in numpy.
func argTyped[T number](c *ops.Ctx, x []T, y []int64, s span, isMax, last bool) {
	eachColumn(c, s, x, func(t int, col []T) {
		bi := 0
		for i, v := range col {
			if beats(v, col[bi], isMax) || last && ties(v, col[bi]) {
				bi = i
			}
		}
		y[t] = int64(bi)
	})
}

func beats[T number](v, best T, isMax bool) bool {
	switch {
	case best != best: // NaN is never beaten
		return false
	case v != v:
		return true
	case isMax:
		return v > best
	}
	return v < best
}

func ties[T number](v, best T) bool { return v == best || v != v && best != best }

func inferArg(b *ops.Build, in []graph.Type) ([]graph.Type, error) {
	x := in[0]
	if !x.Ranked {
		return nil, fmt.Errorf("input rank unknown")
	}
	at, err := readArgAttrs(b.Node)
	if err != nil {
		return nil, err
	}
	axis, err := ops.NormAxis(at.axis, len(x.Shape))
	if err != nil {
		return nil, err
	}
	return []graph.Type{{DType: tensor.Int64, Shape: reducedShape(x.Shape, []int{axis}, at.keep, graph.Fixed(1)), Ranked: true}}, nil
}
