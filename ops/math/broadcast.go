package mathops

import (
	"fmt"

	"stride/graph"
	"stride/ops"
	"stride/tensor"
)

// grain is the smallest number of elements worth a task of its own.
const grain = 8192

// runFn computes the output elements [o, o+n), a contiguous run. off[k] is
// the offset of input k at output element o and step[k] its stride along
// the run: 1 for an input that varies along it, 0 for one broadcast over it.
type runFn func(o, n int, off, step []int)

// plan is a broadcast of some inputs to an output shape, with the output
// dimensions collapsed as far as the inputs allow: two adjacent dims merge
// when every input either spans both contiguously or is broadcast over both.
// Same-shape and scalar operands thus collapse to one dim (one run per
// task), [N,C]+[C] to two (runs of C), and so on.
type plan struct {
	shape []int   // output shape
	n     int     // output elements
	dims  []int   // collapsed output dims, outermost first; never empty
	st    [][]int // st[k][d] is input k's stride along dims[d] (0 = broadcast)
}

// broadcast plans the numpy-style broadcast of the given input shapes.
func broadcast(ins ...[]int) (*plan, error) {
	out, err := ops.BroadcastShapes(ins...)
	if err != nil {
		return nil, err
	}
	return planTo(out, ins...)
}

// planTo plans reading each input as if it had shape out; each input must
// broadcast to out (unidirectional broadcasting).
func planTo(out []int, ins ...[]int) (*plan, error) {
	n, err := tensor.NumElements(out)
	if err != nil {
		return nil, err
	}
	full := make([][]int, len(ins))
	for k, s := range ins {
		if len(s) > len(out) {
			return nil, fmt.Errorf("shape %v cannot be broadcast to %v", s, out)
		}
		off := len(out) - len(s)
		for i, d := range s {
			if d != 1 && d != out[off+i] {
				return nil, fmt.Errorf("shape %v cannot be broadcast to %v", s, out)
			}
		}
		full[k] = ops.BroadcastStrides(s, out)
	}
	p := &plan{shape: out, n: n, st: make([][]int, len(ins))}
	for j, d := range out {
		if d == 1 {
			continue // size-1 dims never move any index
		}
		last := len(p.dims) - 1
		merge := last >= 0
		for k := range ins {
			if merge && p.st[k][last] != full[k][j]*d {
				merge = false
			}
		}
		if merge {
			// The merged dim steps like its inner part.
			p.dims[last] *= d
			for k := range ins {
				p.st[k][last] = full[k][j]
			}
			continue
		}
		p.dims = append(p.dims, d)
		for k := range ins {
			p.st[k] = append(p.st[k], full[k][j])
		}
	}
	if len(p.dims) == 0 {
		p.dims = []int{1}
		for k := range ins {
			p.st[k] = []int{0}
		}
	}
	return p, nil
}

// run calls fn over every output element, in runs along the innermost
// collapsed dim, splitting the output over the worker pool.
func (p *plan) run(c *ops.Ctx, fn runFn) { p.runGrain(c, grain, fn) }

// runGrain is run with tasks of at least g elements.
func (p *plan) runGrain(c *ops.Ctx, g int, fn runFn) {
	c.For(p.n, g, func(lo, hi int) { p.walk(lo, hi, fn) })
}

// walk calls fn for the runs covering output elements [lo, hi). It keeps a
// multi-index over the collapsed dims (an odometer) and each input's offset.
func (p *plan) walk(lo, hi int, fn runFn) {
	r := len(p.dims)
	inner := p.dims[r-1]
	idx := make([]int, r)
	off := make([]int, len(p.st))
	step := make([]int, len(p.st))
	rem := lo
	for d := r - 1; d >= 0; d-- {
		idx[d] = rem % p.dims[d]
		rem /= p.dims[d]
		for k, st := range p.st {
			off[k] += idx[d] * st[d]
		}
	}
	for k, st := range p.st {
		step[k] = st[r-1]
	}
	for o := lo; o < hi; {
		n := min(inner-idx[r-1], hi-o)
		fn(o, n, off, step)
		o += n
		if o == hi {
			return
		}
		idx[r-1] += n
		for k := range off {
			off[k] += n * step[k]
		}
		// Carry: the run ended at the end of the inner dim.
		for d := r - 1; d > 0 && idx[d] == p.dims[d]; d-- {
			idx[d] = 0
			idx[d-1]++
			for k, st := range p.st {
				off[k] += st[d-1] - p.dims[d]*st[d]
			}
		}
	}
}

// Shape inference. Symbolic dims follow the broadcasting rules as far as
// they can be decided at load time: a known 1 yields the other dim, a known
// size other than 1 wins over a symbolic or unknown one (which must be 1 or
// equal to it), equal symbols stay, anything else is unknown.

func broadcastDim(a, b graph.Dim) (graph.Dim, error) {
	switch {
	case a.Known() && b.Known():
		switch {
		case a.Size == b.Size || b.Size == 1:
			return a, nil
		case a.Size == 1:
			return b, nil
		}
		return graph.Dim{}, fmt.Errorf("dims %v and %v cannot be broadcast together", a, b)
	case a.Known() && a.Size == 1:
		return b, nil
	case b.Known() && b.Size == 1:
		return a, nil
	case a.Known():
		return a, nil
	case b.Known():
		return b, nil
	case a.Param != "" && a.Param == b.Param:
		return a, nil
	}
	return graph.Unknown, nil
}

// broadcastType returns the type of an elementwise result of the given
// input types, with element type dt. It fails when some input's rank is
// unknown, so that a less precise type never replaces a known one.
func broadcastType(dt tensor.DType, ts ...graph.Type) (graph.Type, error) {
	rank := 0
	for _, t := range ts {
		if !t.Ranked {
			return graph.Type{}, fmt.Errorf("input rank unknown")
		}
		rank = max(rank, len(t.Shape))
	}
	out := make([]graph.Dim, rank)
	for i := range out {
		out[i] = graph.Fixed(1)
	}
	for _, t := range ts {
		off := rank - len(t.Shape)
		for i, d := range t.Shape {
			bd, err := broadcastDim(out[off+i], d)
			if err != nil {
				return graph.Type{}, err
			}
			out[off+i] = bd
		}
	}
	return graph.Type{DType: dt, Shape: out, Ranked: true}, nil
}

// inferBroadcast is Def.Infer for ops whose output is the broadcast of the
// inputs listed in idx (all present inputs when idx is nil). The output
// element type is dt, or that of input `like` when dt is Undefined.
func inferBroadcast(dt tensor.DType, like int, idx ...int) func(*ops.Build, []graph.Type) ([]graph.Type, error) {
	return func(b *ops.Build, in []graph.Type) ([]graph.Type, error) {
		var ts []graph.Type
		if idx == nil {
			for i, t := range in {
				if b.HasInput(i) {
					ts = append(ts, t)
				}
			}
		} else {
			for _, i := range idx {
				if i >= len(in) {
					return nil, fmt.Errorf("missing input %d", i)
				}
				ts = append(ts, in[i])
			}
		}
		if len(ts) == 0 {
			return nil, fmt.Errorf("no inputs")
		}
		odt := dt
		if odt == tensor.Undefined {
			if like >= len(in) || in[like].DType == tensor.Undefined {
				return nil, fmt.Errorf("input type unknown")
			}
			odt = in[like].DType
		}
		t, err := broadcastType(odt, ts...)
		if err != nil {
			return nil, err
		}
		return []graph.Type{t}, nil
	}
}

// inferSame is Def.Infer for ops whose output has the type of input 0.
var inferSame = inferBroadcast(tensor.Undefined, 0, 0)

// inferBool is Def.Infer for unary predicates (IsNaN, IsInf).
var inferBool = inferBroadcast(tensor.Bool, 0, 0)
