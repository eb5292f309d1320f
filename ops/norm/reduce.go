package norm

import (
	"fmt"
	"math"

	"stride/graph"
	"stride/internal/kern"
	"stride/ops"
	"stride/tensor"
)

// accKind is what a reduction accumulates over a column.
type accKind uint8

const (
	accSum accKind = iota
	accSumSq
	accAbs
	accProd
	accLogSumExp
	accMax
	accMin
)

// reduceDef describes one Reduce* op.
type reduceDef struct {
	acc accKind
	// exact reductions of integer inputs accumulate in int64, which wraps
	// exactly like the element type does; the others go through float64.
	exact bool
	// final turns the float64 accumulator of an n-element column into the
	// result; nil means the accumulator is the result.
	final func(acc float64, n int) float64
}

var reduceDefs = map[string]reduceDef{
	"ReduceSum":       {acc: accSum, exact: true},
	"ReduceMean":      {acc: accSum, final: func(s float64, n int) float64 { return s / float64(n) }},
	"ReduceSumSquare": {acc: accSumSq, exact: true},
	"ReduceL1":        {acc: accAbs, exact: true},
	"ReduceL2":        {acc: accSumSq, final: func(s float64, _ int) float64 { return math.Sqrt(s) }},
	"ReduceLogSum":    {acc: accSum, final: func(s float64, _ int) float64 { return math.Log(s) }},
	"ReduceLogSumExp": {acc: accLogSumExp},
	"ReduceProd":      {acc: accProd, exact: true},
	"ReduceMax":       {acc: accMax},
	"ReduceMin":       {acc: accMin},
}

func init() {
	for op := range reduceDefs {
		ops.Register(&ops.Def{Op: op, Build: buildReduce, Infer: inferReduce, Float64: true})
	}
}

func buildReduce(b *ops.Build) (ops.Kernel, error) {
	d := reduceDefs[b.Node.Op]
	a, err := attrInts(b.Node, []string{"keepdims", "noop_with_empty_axes"}, []int64{1, 0})
	if err != nil {
		return nil, err
	}
	keep, noop := a[0] != 0, a[1] != 0
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x := in[0]
		var axesIn *tensor.Tensor
		if len(in) > 1 {
			axesIn = in[1]
		}
		axes, err := reduceAxes(axesIn, x.Rank(), noop)
		if err != nil {
			return nil, err
		}
		y, err := c.Alloc(x.DType, reducedShape(x.Shape, axes, keep, 1)...)
		if err != nil {
			return nil, err
		}
		if err := reduce(c, d, x, axes, y); err != nil {
			return nil, err
		}
		return ops.Outs(y)
	}), nil
}

// reduceAxes reads the axes input. No axes means all axes, or none at all
// with noop_with_empty_axes (each element is then reduced on its own, so
// ReduceSumSquare squares, ReduceL1 takes absolute values, and so on).
func reduceAxes(t *tensor.Tensor, rank int, noop bool) ([]int, error) {
	var axes []int64
	if t != nil {
		var err error
		if axes, err = t.Ints(); err != nil {
			return nil, fmt.Errorf("axes: %w", err)
		}
	}
	if len(axes) == 0 {
		if noop {
			return []int{}, nil
		}
		all := make([]int, rank)
		for i := range all {
			all[i] = i
		}
		return all, nil
	}
	return ops.NormAxes(axes, rank)
}

// reducedShape is shape with the axes set to one (keep) or removed. It
// serves concrete shapes and symbolic dims alike.
func reducedShape[D any](shape []D, axes []int, keep bool, one D) []D {
	red := make([]bool, len(shape))
	for _, a := range axes {
		red[a] = true
	}
	out := make([]D, 0, len(shape))
	for d, n := range shape {
		switch {
		case !red[d]:
			out = append(out, n)
		case keep:
			out = append(out, one)
		}
	}
	return out
}

// reduce computes y, already allocated with the reduced shape.
func reduce(c *ops.Ctx, d reduceDef, x *tensor.Tensor, axes []int, y *tensor.Tensor) error {
	p := planAxes(x.Shape, axes)
	switch xd := x.Data.(type) {
	case []float32:
		reduceTyped(c, d, xd, y.Data.([]float32), x.Shape, p)
	case []float64:
		reduceTyped(c, d, xd, y.Data.([]float64), x.Shape, p)
	case []int8:
		reduceTyped(c, d, xd, y.Data.([]int8), x.Shape, p)
	case []int16:
		reduceTyped(c, d, xd, y.Data.([]int16), x.Shape, p)
	case []int32:
		reduceTyped(c, d, xd, y.Data.([]int32), x.Shape, p)
	case []int64:
		reduceTyped(c, d, xd, y.Data.([]int64), x.Shape, p)
	case []uint8:
		reduceTyped(c, d, xd, y.Data.([]uint8), x.Shape, p)
	case []uint16:
		reduceTyped(c, d, xd, y.Data.([]uint16), x.Shape, p)
	case []uint32:
		reduceTyped(c, d, xd, y.Data.([]uint32), x.Shape, p)
	case []uint64:
		reduceTyped(c, d, xd, y.Data.([]uint64), x.Shape, p)
	case []bool:
		if d.acc != accMax && d.acc != accMin {
			return fmt.Errorf("input type bool is not supported")
		}
		reduceBool(c, d.acc == accMax, xd, y.Data.([]bool), x.Shape, p)
	default:
		return fmt.Errorf("input type %v is not supported", x.DType)
	}
	return nil
}

func reduceTyped[T number](c *ops.Ctx, d reduceDef, x, y []T, shape []int, p axesPlan) {
	if p.perm != nil {
		tmp := make([]T, len(x))
		permute(tmp, x, shape, p.perm)
		x = tmp
	}
	n := p.s.n
	switch {
	case d.acc == accMax || d.acc == accMin:
		isMax := d.acc == accMax
		lo, empty := limits[T]()
		if isMax {
			empty = lo
		}
		eachColumn(c, p.s, x, func(t int, col []T) { y[t] = extreme(col, isMax, empty) })
	case d.exact && !isFloat[T]():
		f := fold[T, int64](d.acc)
		eachColumn(c, p.s, x, func(t int, col []T) { y[t] = T(f(col)) })
	default:
		f := fold[T, float64](d.acc)
		if vec, ok := any(kern.SumOf).(func([]T) float64); ok && d.acc == accSum {
			f = vec // float32 sums: the vector kernel, also in float64
		}
		eachColumn(c, p.s, x, func(t int, col []T) {
			v := f(col)
			if d.final != nil {
				v = d.final(v, n)
			}
			y[t] = T(v)
		})
	}
}

// fold returns the accumulator of kind k over a column, computed in A.
// Sums are pairwise (see pairwise).
func fold[T number, A int64 | float64](k accKind) func(x []T) A {
	switch k {
	case accSum:
		return pairwise(func(x []T) A {
			var s A
			for _, v := range x {
				s += A(v)
			}
			return s
		})
	case accSumSq:
		return pairwise(func(x []T) A {
			var s A
			for _, v := range x {
				s += A(v) * A(v)
			}
			return s
		})
	case accAbs:
		return pairwise(func(x []T) A {
			var s A
			for _, v := range x {
				if v < 0 {
					v = -v
				}
				s += A(v)
			}
			return s
		})
	case accProd:
		return func(x []T) A {
			s := A(1)
			for _, v := range x {
				s *= A(v)
			}
			return s
		}
	case accLogSumExp:
		return func(x []T) A { return A(logSumExp(x)) }
	}
	panic(fmt.Sprintf("norm: no fold for accumulator %d", k))
}

// pairwiseLeaf is the length up to which pairwise sums run straight.
const pairwiseLeaf = 256

// pairwise turns a straight sum into one that adds the sums of halves
// recursively, so the rounding error of a float64 sum of n elements grows
// with log n rather than n (it matters for float64 inputs; float32 inputs
// are exact enough in float64 either way). Integer sums are unchanged.
func pairwise[T number, A int64 | float64](leaf func(x []T) A) func(x []T) A {
	var sum func(x []T) A
	sum = func(x []T) A {
		if len(x) <= pairwiseLeaf {
			return leaf(x)
		}
		h := len(x) / 2
		return sum(x[:h]) + sum(x[h:])
	}
	return sum
}

// logSumExp computes log(sum(exp(x))), shifted by the maximum so that no
// exp overflows.
func logSumExp[T number](x []T) float64 {
	m := math.Inf(-1)
	for _, v := range x {
		m = max(m, float64(v))
	}
	if math.IsInf(m, 0) { // empty or all -inf (-inf), or some +inf (+inf)
		return m
	}
	s := 0.0
	for _, v := range x {
		s += math.Exp(float64(v) - m)
	}
	return m + math.Log(s)
}

// extreme returns the maximum or minimum of x (NaN if any element is NaN),
// or empty when x is empty.
func extreme[T number](x []T, isMax bool, empty T) T {
	if len(x) == 0 {
		return empty
	}
	r := x[0]
	if isMax {
		for _, v := range x[1:] {
			r = max(r, v)
		}
	} else {
		for _, v := range x[1:] {
			r = min(r, v)
		}
	}
	return r
}

// reduceBool is ReduceMax (any) and ReduceMin (all) on bools.
func reduceBool(c *ops.Ctx, isMax bool, x, y []bool, shape []int, p axesPlan) {
	if p.perm != nil {
		tmp := make([]bool, len(x))
		permute(tmp, x, shape, p.perm)
		x = tmp
	}
	eachColumn(c, p.s, x, func(t int, col []bool) {
		r := !isMax // the identity: false for any, true for all
		for _, v := range col {
			if v == isMax {
				r = isMax
				break
			}
		}
		y[t] = r
	})
}

// inferReduce gives the output shape when the axes are constant.
func inferReduce(b *ops.Build, in []graph.Type) ([]graph.Type, error) {
	x := in[0]
	if !x.Ranked {
		return nil, fmt.Errorf("input rank unknown")
	}
	if b.HasInput(1) && b.Const(1) == nil {
		return nil, fmt.Errorf("axes not constant")
	}
	a, err := attrInts(b.Node, []string{"keepdims", "noop_with_empty_axes"}, []int64{1, 0})
	if err != nil {
		return nil, err
	}
	axes, err := reduceAxes(b.Const(1), len(x.Shape), a[1] != 0)
	if err != nil {
		return nil, err
	}
	return []graph.Type{{DType: x.DType, Shape: reducedShape(x.Shape, axes, a[0] != 0, graph.Fixed(1)), Ranked: true}}, nil
}
