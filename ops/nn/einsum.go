package nn

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"stride/ops"
	"stride/tensor"
)

func init() {
	ops.Register(&ops.Def{Op: "Einsum", Build: buildEinsum})
}

// Einsum is evaluated as numpy does in spirit: each operand first takes
// its diagonals (repeated labels) and sums the labels no one else needs;
// operands are then contracted left to right, each pair as a batched
// matrix product (batch = shared labels still needed, K = shared labels
// no longer needed); the result is finally permuted to the output order.

// Labels are 0..51 for letters; ellipsis dims get labels from ellLabel
// on, right-aligned across operands so they broadcast like numpy.
const (
	ellLabel = 52
	ellipsis = -1 // placeholder for "..." in a parsed term
)

type einsumEq struct {
	terms    [][]int // per input; ellipsis marks where "..." was
	out      []int
	explicit bool
}

func labelOf(r rune) (int, bool) {
	switch {
	case r >= 'A' && r <= 'Z':
		return int(r - 'A'), true
	case r >= 'a' && r <= 'z':
		return 26 + int(r-'a'), true
	}
	return 0, false
}

func parseTerm(s string) ([]int, error) {
	var out []int
	seenEll := false
	for i := 0; i < len(s); i++ {
		if strings.HasPrefix(s[i:], "...") {
			if seenEll {
				return nil, fmt.Errorf("term %q has two ellipses", s)
			}
			seenEll = true
			out = append(out, ellipsis)
			i += 2
			continue
		}
		l, ok := labelOf(rune(s[i]))
		if !ok {
			return nil, fmt.Errorf("term %q: invalid label %q", s, s[i])
		}
		out = append(out, l)
	}
	return out, nil
}

func parseEinsum(eq string) (*einsumEq, error) {
	eq = strings.ReplaceAll(eq, " ", "")
	lhs, rhs, explicit := strings.Cut(eq, "->")
	e := &einsumEq{explicit: explicit}
	for _, t := range strings.Split(lhs, ",") {
		term, err := parseTerm(t)
		if err != nil {
			return nil, err
		}
		e.terms = append(e.terms, term)
	}
	if explicit {
		out, err := parseTerm(rhs)
		if err != nil {
			return nil, err
		}
		seen := map[int]bool{}
		for _, l := range out {
			if seen[l] {
				return nil, fmt.Errorf("output of %q repeats a label", eq)
			}
			seen[l] = true
			if l != ellipsis && !slices.ContainsFunc(e.terms, func(t []int) bool { return slices.Contains(t, l) }) {
				return nil, fmt.Errorf("output label of %q does not appear in any input", eq)
			}
		}
		e.out = out
	}
	return e, nil
}

// einsumPlan is the equation resolved against operand ranks.
type einsumPlan struct {
	labels [][]int // per operand, one label per dim
	out    []int
	size   map[int]int
}

func (e *einsumEq) plan(shapes [][]int) (*einsumPlan, error) {
	if len(shapes) != len(e.terms) {
		return nil, fmt.Errorf("equation has %d operands, got %d inputs", len(e.terms), len(shapes))
	}
	// Ellipsis width per operand, and the widest.
	ellRank := 0
	widths := make([]int, len(shapes))
	for i, t := range e.terms {
		explicit := len(t)
		if slices.Contains(t, ellipsis) {
			explicit--
			widths[i] = len(shapes[i]) - explicit
		}
		if widths[i] < 0 || (!slices.Contains(t, ellipsis) && len(t) != len(shapes[i])) {
			return nil, fmt.Errorf("operand %d has shape %v but its term has %d labels", i, shapes[i], len(t))
		}
		ellRank = max(ellRank, widths[i])
	}
	expand := func(t []int, w int) []int {
		var out []int
		for _, l := range t {
			if l != ellipsis {
				out = append(out, l)
				continue
			}
			for k := 0; k < w; k++ {
				out = append(out, ellLabel+ellRank-w+k)
			}
		}
		return out
	}
	p := &einsumPlan{size: map[int]int{}}
	count := map[int]int{}
	for i, t := range e.terms {
		ls := expand(t, widths[i])
		for d, l := range ls {
			// Sizes must agree, except that 1 broadcasts.
			n := shapes[i][d]
			switch s, ok := p.size[l]; {
			case !ok || s == 1:
				p.size[l] = n
			case n != 1 && n != s:
				return nil, fmt.Errorf("label %s has sizes %d and %d", labelName(l), s, n)
			}
			count[l]++
		}
		p.labels = append(p.labels, ls)
	}
	if e.explicit {
		p.out = expand(e.out, ellRank)
	} else {
		for k := 0; k < ellRank; k++ {
			p.out = append(p.out, ellLabel+k)
		}
		for l := 0; l < ellLabel; l++ {
			if count[l] == 1 {
				p.out = append(p.out, l)
			}
		}
	}
	return p, nil
}

func labelName(l int) string {
	switch {
	case l < 26:
		return string(rune('A' + l))
	case l < ellLabel:
		return string(rune('a' + l - 26))
	}
	return "..."
}

func buildEinsum(b *ops.Build) (ops.Kernel, error) {
	s, err := b.Node.AttrString("equation", "")
	if err != nil {
		return nil, err
	}
	eq, err := parseEinsum(s)
	if err != nil {
		return nil, err
	}
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		shapes := make([][]int, len(in))
		for i, t := range in {
			if t == nil {
				return nil, fmt.Errorf("missing input %d", i)
			}
			if t.DType != in[0].DType {
				return nil, fmt.Errorf("inputs have different types %v and %v", in[0].DType, t.DType)
			}
			shapes[i] = t.Shape
		}
		if len(in) == 0 {
			return nil, fmt.Errorf("Einsum needs at least one input")
		}
		p, err := eq.plan(shapes)
		if err != nil {
			return nil, err
		}
		outShape := make([]int, len(p.out))
		for i, l := range p.out {
			outShape[i] = p.size[l]
		}
		y, err := c.Alloc(in[0].DType, outShape...)
		if err != nil {
			return nil, err
		}
		// Float16/BFloat16 arrive widened to float32, so []uint16 is Uint16.
		switch yd := y.Data.(type) {
		case []float32:
			einsum(c, p, in, yd)
		case []float64:
			einsum(c, p, in, yd)
		case []int8:
			einsum(c, p, in, yd)
		case []int16:
			einsum(c, p, in, yd)
		case []int32:
			einsum(c, p, in, yd)
		case []int64:
			einsum(c, p, in, yd)
		case []uint8:
			einsum(c, p, in, yd)
		case []uint16:
			einsum(c, p, in, yd)
		case []uint32:
			einsum(c, p, in, yd)
		case []uint64:
			einsum(c, p, in, yd)
		default:
			return nil, fmt.Errorf("Einsum does not support element type %v", in[0].DType)
		}
		return ops.Outs(y)
	}), nil
}

// term is a contiguous operand with one distinct label per dim.
type term[T number] struct {
	data   []T
	labels []int
	shape  []int
}

// einsum evaluates plan p into y.
func einsum[T number](c *ops.Ctx, p *einsumPlan, in []*tensor.Tensor, y []T) {
	// needed[i] = labels used by the output or by operands after i.
	needed := make([]map[int]bool, len(in))
	acc := map[int]bool{}
	for _, l := range p.out {
		acc[l] = true
	}
	for i := len(in) - 1; i >= 0; i-- {
		needed[i] = maps.Clone(acc)
		for _, l := range p.labels[i] {
			acc[l] = true
		}
	}
	var cur term[T]
	for i, t := range in {
		keep := needed[i]
		if i > 0 {
			keep = maps.Clone(needed[i])
			for _, l := range cur.labels {
				keep[l] = true
			}
		}
		op := prepare(t.Data.([]T), t.Shape, p.labels[i], keep)
		if i == 0 {
			cur = op
			continue
		}
		cur = contract(c, cur, op, needed[i], p.size)
	}
	// Permute (and broadcast) to the output order.
	cur = prepare(cur.data, cur.shape, cur.labels, labelSet(p.out))
	st := make([]int, len(p.out))
	shape := make([]int, len(p.out))
	for i, l := range p.out {
		shape[i] = p.size[l]
		if k := slices.Index(cur.labels, l); k >= 0 && cur.shape[k] != 1 {
			st[i] = tensor.Strides(cur.shape)[k]
		}
	}
	stridedSum(cur.data, shape, st, nil, nil, y)
}

func labelSet(ls []int) map[int]bool {
	m := map[int]bool{}
	for _, l := range ls {
		m[l] = true
	}
	return m
}

// prepare takes the diagonal of repeated labels and sums the labels not in
// keep, returning a contiguous operand.
func prepare[T number](data []T, shape, labels []int, keep map[int]bool) term[T] {
	st := tensor.Strides(shape)
	var ul, us, ust []int // distinct labels with their size and summed stride
	for d, l := range labels {
		if k := slices.Index(ul, l); k >= 0 {
			ust[k] += st[d]
			us[k] = min(us[k], shape[d])
			continue
		}
		ul, us, ust = append(ul, l), append(us, shape[d]), append(ust, st[d])
	}
	var t term[T]
	var sumShape, sumSt []int
	var keepSt []int
	for k, l := range ul {
		if keep[l] {
			t.labels, t.shape, keepSt = append(t.labels, l), append(t.shape, us[k]), append(keepSt, ust[k])
		} else {
			sumShape, sumSt = append(sumShape, us[k]), append(sumSt, ust[k])
		}
	}
	if len(sumShape) == 0 && len(ul) == len(labels) {
		t.data = data // already contiguous with distinct labels
		return t
	}
	t.data = make([]T, product(t.shape))
	stridedSum(data, t.shape, keepSt, sumShape, sumSt, t.data)
	return t
}

// contract multiplies two operands over their shared labels, keeping the
// labels in needed.
func contract[T number](c *ops.Ctx, a, b term[T], needed map[int]bool, size map[int]int) term[T] {
	var batch, ms, ks, ns []int
	for _, l := range a.labels {
		switch {
		case !slices.Contains(b.labels, l):
			ms = append(ms, l)
		case needed[l]:
			batch = append(batch, l)
		default:
			ks = append(ks, l)
		}
	}
	for _, l := range b.labels {
		if !slices.Contains(a.labels, l) {
			ns = append(ns, l)
		}
	}
	sizes := func(ls []int) int {
		n := 1
		for _, l := range ls {
			n *= size[l]
		}
		return n
	}
	nb, m, k, n := sizes(batch), sizes(ms), sizes(ks), sizes(ns)
	// Lay A out as [batch, M, K] and B as [batch, K, N].
	ad := arrange(a, slices.Concat(batch, ms, ks), size)
	bd := arrange(b, slices.Concat(batch, ks, ns), size)
	out := term[T]{labels: slices.Concat(batch, ms, ns)}
	for _, l := range out.labels {
		out.shape = append(out.shape, size[l])
	}
	out.data = make([]T, nb*m*n)
	bmm(c, nb, m, n, k, ad, bd, out.data)
	return out
}

// arrange copies an operand into the given label order, broadcasting size-1
// dims to the full label sizes.
func arrange[T number](t term[T], order []int, size map[int]int) []T {
	st := tensor.Strides(t.shape)
	shape := make([]int, len(order))
	ost := make([]int, len(order))
	for i, l := range order {
		shape[i] = size[l]
		if k := slices.Index(t.labels, l); k >= 0 && t.shape[k] != 1 {
			ost[i] = st[k]
		}
	}
	if slices.Equal(order, t.labels) && slices.Equal(shape, t.shape) {
		return t.data
	}
	out := make([]T, product(shape))
	stridedSum(t.data, shape, ost, nil, nil, out)
	return out
}

// bmm computes nb products of m x k and k x n matrices.
func bmm[T number](c *ops.Ctx, nb, m, n, k int, a, b, y []T) {
	if af, ok := any(a).([]float32); ok {
		bf, yf := any(b).([]float32), any(y).([]float32)
		spread(c, nb, func(t int, run runner) {
			matmul(run, false, false, m, n, k, 1, af[t*m*k:], k, bf[t*k*n:], n, 0, yf[t*m*n:], n)
		})
		return
	}
	for t := 0; t < nb; t++ {
		matmulNaive(m, n, k, a[t*m*k:(t+1)*m*k], b[t*k*n:(t+1)*k*n], y[t*m*n:(t+1)*m*n])
	}
}

// stridedSum writes, for each row-major position of shape, the sum over
// sumShape of src read at the given strides (stride 0 broadcasts).
func stridedSum[T number](src []T, shape, st, sumShape, sumSt []int, dst []T) {
	n := product(sumShape)
	pos := make([]int, len(shape))
	spos := make([]int, len(sumShape))
	off := 0
	for i := range dst {
		var s T
		so := off
		for r := 0; r < n; r++ {
			s += src[so]
			so = step(spos, sumShape, sumSt, so)
		}
		dst[i] = s
		off = step(pos, shape, st, off)
	}
}

// step advances a row-major multi-index and returns the matching offset.
func step(pos, shape, st []int, off int) int {
	for a := len(pos) - 1; a >= 0; a-- {
		pos[a]++
		off += st[a]
		if pos[a] < shape[a] {
			return off
		}
		off -= pos[a] * st[a]
		pos[a] = 0
	}
	return off
}
