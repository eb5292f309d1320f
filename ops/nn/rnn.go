package nn

import (
	"fmt"
	"slices"

	"stride/graph"
	"stride/ops"
	"stride/tensor"
)

// The recurrent layers RNN, GRU and LSTM share one driver: the input
// projection X*W^T of every time step is one matrix product up front; each
// step then multiplies the hidden state by R^T and applies the cell's gate
// equations per batch entry. sequence_lens freezes an entry's state after
// its length (its outputs there stay zero); the reverse direction starts
// each entry at its own last step.

func init() {
	ops.Register(
		&ops.Def{Op: "RNN", Build: buildRecurrent(rnnCell)},
		&ops.Def{Op: "GRU", Build: buildRecurrent(gruCell)},
		&ops.Def{Op: "LSTM", Build: buildRecurrent(lstmCell)},
	)
}

// cellKind describes one recurrent op.
type cellKind struct {
	op          string
	gates       int      // gate blocks in W, R and each half of B
	defaultActs []string // per direction
}

var (
	rnnCell  = &cellKind{"RNN", 1, []string{"Tanh"}}
	gruCell  = &cellKind{"GRU", 3, []string{"Sigmoid", "Tanh"}}
	lstmCell = &cellKind{"LSTM", 4, []string{"Sigmoid", "Tanh", "Tanh"}}
)

// Input positions of the recurrent ops.
const (
	inX = iota
	inW
	inR
	inB
	inSeqLens
	inInitH
	inInitC // LSTM
	inP     // LSTM
)

type recurrent struct {
	cell        *cellKind
	hidden      int // 0: taken from W
	dirs        int
	reverse     bool // single direction, reversed
	layout      int
	acts        [][]activation // per direction
	clip        float32        // 0: no clipping
	linearReset bool           // GRU linear_before_reset
	inputForget bool           // LSTM input_forget
	want        [3]bool        // Y, Y_h, Y_c requested
}

func buildRecurrent(cell *cellKind) func(b *ops.Build) (ops.Kernel, error) {
	return func(b *ops.Build) (ops.Kernel, error) {
		r, err := parseRecurrent(b.Node, cell)
		if err != nil {
			return nil, err
		}
		return ops.KernelFunc(r.run), nil
	}
}

func parseRecurrent(n *graph.Node, cell *cellKind) (*recurrent, error) {
	r := &recurrent{cell: cell, dirs: 1}
	dir, err := n.AttrString("direction", "forward")
	if err != nil {
		return nil, err
	}
	switch dir {
	case "forward":
	case "reverse":
		r.reverse = true
	case "bidirectional":
		r.dirs = 2
	default:
		return nil, fmt.Errorf("unknown direction %q", dir)
	}
	hidden, err := n.AttrInt("hidden_size", 0)
	if err != nil {
		return nil, err
	}
	if hidden < 0 || hidden > 1<<24 {
		return nil, fmt.Errorf("hidden_size %d out of range", hidden)
	}
	r.hidden = int(hidden)
	layout, err := n.AttrInt("layout", 0)
	if err != nil {
		return nil, err
	}
	if layout != 0 && layout != 1 {
		return nil, fmt.Errorf("layout %d must be 0 or 1", layout)
	}
	r.layout = int(layout)
	if n.Has("clip") {
		if r.clip, err = n.AttrFloat("clip", 0); err != nil {
			return nil, err
		}
		if !(r.clip > 0) {
			return nil, fmt.Errorf("clip %v must be positive", r.clip)
		}
	}
	flags := []struct {
		name string
		dst  *bool
		cell *cellKind
	}{{"linear_before_reset", &r.linearReset, gruCell}, {"input_forget", &r.inputForget, lstmCell}}
	for _, f := range flags {
		if cell != f.cell {
			continue
		}
		v, err := n.AttrInt(f.name, 0)
		if err != nil {
			return nil, err
		}
		*f.dst = v != 0
	}
	names, err := n.AttrStrings("activations", nil)
	if err != nil {
		return nil, err
	}
	per := len(cell.defaultActs)
	switch {
	case names == nil:
		for range r.dirs {
			names = append(names, cell.defaultActs...)
		}
	case len(names) == per && r.dirs == 2:
		names = append(names, names...)
	case len(names) != per*r.dirs:
		return nil, fmt.Errorf("%d activations given, want %d", len(names), per*r.dirs)
	}
	alphas, err := n.AttrFloats("activation_alpha", nil)
	if err != nil {
		return nil, err
	}
	betas, err := n.AttrFloats("activation_beta", nil)
	if err != nil {
		return nil, err
	}
	acts, err := parseActivations(names, alphas, betas)
	if err != nil {
		return nil, err
	}
	for d := range r.dirs {
		r.acts = append(r.acts, acts[d*per:(d+1)*per])
	}
	for i := range r.want {
		r.want[i] = wantOutput(n, i) && (i < 2 || cell == lstmCell)
	}
	return r, nil
}

// rnnShapes are the checked sizes of one run.
type rnnShapes struct {
	seq, batch, input, hidden int
	gh                        int // gates * hidden
}

func (r *recurrent) shapes(in []*tensor.Tensor) (s rnnShapes, err error) {
	x, w, rr := in[inX], in[inW], in[inR]
	if len(x.Shape) != 3 || len(w.Shape) != 3 || len(rr.Shape) != 3 {
		return s, fmt.Errorf("X %v, W %v and R %v must all be 3-D", x.Shape, w.Shape, rr.Shape)
	}
	s.seq, s.batch, s.input = x.Shape[0], x.Shape[1], x.Shape[2]
	if r.layout == 1 {
		s.seq, s.batch = s.batch, s.seq
	}
	g := r.cell.gates
	s.hidden = r.hidden
	if s.hidden == 0 {
		s.hidden = w.Shape[1] / g
	}
	s.gh = g * s.hidden
	if !slices.Equal(w.Shape, []int{r.dirs, s.gh, s.input}) {
		return s, fmt.Errorf("W %v: want [%d, %d, %d]", w.Shape, r.dirs, s.gh, s.input)
	}
	if !slices.Equal(rr.Shape, []int{r.dirs, s.gh, s.hidden}) {
		return s, fmt.Errorf("R %v: want [%d, %d, %d]", rr.Shape, r.dirs, s.gh, s.hidden)
	}
	state := []int{r.dirs, s.batch, s.hidden}
	if r.layout == 1 {
		state = []int{s.batch, r.dirs, s.hidden}
	}
	optional := []struct {
		i     int
		name  string
		shape []int
	}{
		{inB, "B", []int{r.dirs, 2 * s.gh}},
		{inSeqLens, "sequence_lens", []int{s.batch}},
		{inInitH, "initial_h", state},
		{inInitC, "initial_c", state},
		{inP, "P", []int{r.dirs, 3 * s.hidden}},
	}
	for _, o := range optional {
		if o.i < len(in) && in[o.i] != nil && !slices.Equal(in[o.i].Shape, o.shape) {
			return s, fmt.Errorf("%s has shape %v, want %v", o.name, in[o.i].Shape, o.shape)
		}
	}
	return s, nil
}

// optF32 returns the float32 data of optional input i, or nil.
func optF32(in []*tensor.Tensor, i int) ([]float32, error) {
	if i >= len(in) || in[i] == nil {
		return nil, nil
	}
	d, ok := in[i].Data.([]float32)
	if !ok {
		return nil, fmt.Errorf("input %d: unsupported element type %v", i, in[i].DType)
	}
	return d, nil
}

func (r *recurrent) run(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	for i := inX; i <= inR; i++ {
		if _, _, err := float32In(in, i, [...]string{"X", "W", "R"}[i]); err != nil {
			return nil, err
		}
	}
	s, err := r.shapes(in)
	if err != nil {
		return nil, err
	}
	var opt [inP + 1][]float32
	for _, i := range []int{inB, inInitH, inInitC, inP} {
		if opt[i], err = optF32(in, i); err != nil {
			return nil, err
		}
	}
	lens := make([]int, s.batch)
	for b := range lens {
		lens[b] = s.seq
	}
	if inSeqLens < len(in) && in[inSeqLens] != nil {
		v, err := in[inSeqLens].Ints()
		if err != nil {
			return nil, fmt.Errorf("sequence_lens: %w", err)
		}
		for b, l := range v {
			if l < 0 || l > int64(s.seq) {
				return nil, fmt.Errorf("sequence_lens[%d] = %d out of range [0, %d]", b, l, s.seq)
			}
			lens[b] = int(l)
		}
	}
	yShape := []int{s.seq, r.dirs, s.batch, s.hidden}
	stShape := []int{r.dirs, s.batch, s.hidden}
	if r.layout == 1 {
		yShape = []int{s.batch, s.seq, r.dirs, s.hidden}
		stShape = []int{s.batch, r.dirs, s.hidden}
	}
	outs := make([]*tensor.Tensor, 3)
	for i, shape := range [][]int{yShape, stShape, stShape} {
		if r.want[i] {
			if outs[i], err = c.AllocZero(tensor.Float32, shape...); err != nil {
				return nil, err
			}
		}
	}
	for d := 0; d < r.dirs; d++ {
		r.direction(c, d, s, in, opt, lens, outs)
	}
	if r.cell != lstmCell {
		outs = outs[:2]
	}
	return outs, nil
}

// layoutIndex addresses the tensors whose leading dims are [seq, dirs,
// batch] (layout 0) or [batch, seq, dirs] (layout 1); pass seq = 1, t = 0
// for the state tensors.
func (r *recurrent) layoutIndex(t, d, b, seq, batch int) int {
	if r.layout == 1 {
		return (b*seq+t)*r.dirs + d
	}
	return (t*r.dirs+d)*batch + b
}

// xRow is the row of X (and of its projections) holding step t of entry b.
func (r *recurrent) xRow(t, b int, s rnnShapes) int {
	if r.layout == 1 {
		return b*s.seq + t
	}
	return t*s.batch + b
}

// direction runs one direction over the whole sequence.
func (r *recurrent) direction(c *ops.Ctx, d int, s rnnShapes, in []*tensor.Tensor, opt [inP + 1][]float32, lens []int, outs []*tensor.Tensor) {
	H, gh := s.hidden, s.gh
	x := in[inX].F32()
	w := in[inW].F32()[d*gh*s.input : (d+1)*gh*s.input]
	rw := in[inR].F32()[d*gh*H : (d+1)*gh*H]
	reverse := r.reverse || d == 1
	acts := r.acts[d]

	// Input projections of every step, bias included. GRU with
	// linear_before_reset keeps the recurrent bias of its h gate apart:
	// it is added before the reset gate multiplies.
	rows := s.seq * s.batch
	xw := make([]float32, rows*gh)
	matmul(c.Tasks, false, true, rows, gh, s.input, 1, x, s.input, w, s.input, 0, xw, gh)
	var rbh []float32
	if bias := opt[inB]; bias != nil {
		wb, rb := bias[d*2*gh:d*2*gh+gh], bias[d*2*gh+gh:(d+1)*2*gh]
		sum := make([]float32, gh)
		for j := range sum {
			sum[j] = wb[j] + rb[j]
		}
		if r.cell == gruCell && r.linearReset {
			copy(sum[2*H:], wb[2*H:])
			rbh = rb[2*H:]
		}
		c.For(rows, 64, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				axpy(xw[i*gh:(i+1)*gh], sum, 1)
			}
		})
	}
	var peep []float32
	if p := opt[inP]; p != nil {
		peep = p[d*3*H : (d+1)*3*H]
	}

	h := make([]float32, s.batch*H)
	var cst []float32
	if r.cell == lstmCell {
		cst = make([]float32, s.batch*H)
	}
	for b := 0; b < s.batch; b++ {
		st := r.layoutIndex(0, d, b, 1, s.batch) * H
		if init := opt[inInitH]; init != nil {
			copy(h[b*H:(b+1)*H], init[st:st+H])
		}
		if init := opt[inInitC]; init != nil && cst != nil {
			copy(cst[b*H:(b+1)*H], init[st:st+H])
		}
	}

	hr := make([]float32, s.batch*gh)
	scratch := make([]float32, max(s.batch, 4)*H)
	var y []float32
	if outs[0] != nil {
		y = outs[0].F32()
	}
	for step := 0; step < s.seq; step++ {
		// Recurrent projections of every entry's state; GRU without
		// linear_before_reset projects its h gate after the reset.
		n := gh
		if r.cell == gruCell && !r.linearReset {
			n = 2 * H
		}
		matmul(c.Tasks, false, true, s.batch, n, H, 1, h, H, rw, H, 0, hr, gh)
		if r.cell == gruCell && !r.linearReset {
			r.gruResetProjection(c, s, step, lens, reverse, xw, hr, h, rw, scratch, acts)
		}
		for b := 0; b < s.batch; b++ {
			if step >= lens[b] {
				continue
			}
			t := step
			if reverse {
				t = lens[b] - 1 - step
			}
			xrow := r.xRow(t, b, s)
			g := xw[xrow*gh : (xrow+1)*gh]
			hb := h[b*H : (b+1)*H]
			hrb := hr[b*gh : (b+1)*gh]
			switch r.cell {
			case rnnCell:
				r.rnnStep(g, hrb, hb, acts)
			case gruCell:
				r.gruStep(g, hrb, hb, rbh, acts, scratch[:3*H])
			case lstmCell:
				r.lstmStep(g, hrb, hb, cst[b*H:(b+1)*H], peep, acts, scratch[:4*H])
			}
			if y != nil {
				o := r.layoutIndex(t, d, b, s.seq, s.batch) * H
				copy(y[o:o+H], hb)
			}
		}
	}
	for i, state := range [][]float32{nil, h, cst} {
		if i == 0 || outs[i] == nil || state == nil {
			continue
		}
		od := outs[i].F32()
		for b := 0; b < s.batch; b++ {
			o := r.layoutIndex(0, d, b, 1, s.batch) * H
			copy(od[o:o+H], state[b*H:(b+1)*H])
		}
	}
}

// gate adds the input and recurrent projections of one gate, clips, and
// applies the activation, in place in dst.
func (r *recurrent) gate(dst, x, hr []float32, act activation) {
	for i := range dst {
		v := x[i] + hr[i]
		if r.clip > 0 {
			v = max(-r.clip, min(r.clip, v))
		}
		dst[i] = v
	}
	act.apply(dst)
}

// rnnStep: H = f(X*Wi^T + H*Ri^T + Wbi + Rbi).
func (r *recurrent) rnnStep(x, hr, h []float32, acts []activation) {
	r.gate(h, x, hr, acts[0])
}

// gruResetProjection computes, for GRU without linear_before_reset, the
// reset gate r of every active entry and then (r . H) * Rh^T into the h
// block of hr.
func (r *recurrent) gruResetProjection(c *ops.Ctx, s rnnShapes, step int, lens []int, reverse bool, xw, hr, h, rw, scratch []float32, acts []activation) {
	H, gh := s.hidden, s.gh
	rh := scratch[:s.batch*H]
	for b := 0; b < s.batch; b++ {
		rb := rh[b*H : (b+1)*H]
		if step >= lens[b] {
			clear(rb)
			continue
		}
		t := step
		if reverse {
			t = lens[b] - 1 - step
		}
		xrow := r.xRow(t, b, s)
		r.gate(rb, xw[xrow*gh+H:xrow*gh+2*H], hr[b*gh+H:b*gh+2*H], acts[0])
		for i, v := range h[b*H : (b+1)*H] {
			rb[i] *= v
		}
	}
	matmul(c.Tasks, false, true, s.batch, H, H, 1, rh, H, rw[2*H*H:], H, 0, hr[2*H:], gh)
}

// gruStep: z = f(..z), r = f(..r), h~ = g(X*Wh^T + (r . H)*Rh^T + Rbh + Wbh)
// or, with linear_before_reset, g(X*Wh^T + r . (H*Rh^T + Rbh) + Wbh);
// H = (1 - z) . h~ + z . H.
func (r *recurrent) gruStep(x, hr, h, rbh []float32, acts []activation, tmp []float32) {
	H := len(h)
	z, rg, hh := tmp[:H], tmp[H:2*H], tmp[2*H:3*H]
	r.gate(z, x[:H], hr[:H], acts[0])
	if r.linearReset {
		r.gate(rg, x[H:2*H], hr[H:2*H], acts[0])
		for i := range hh {
			v := hr[2*H+i]
			if rbh != nil {
				v += rbh[i]
			}
			hh[i] = rg[i] * v
		}
		r.gate(hh, x[2*H:], hh, acts[1])
	} else {
		r.gate(hh, x[2*H:], hr[2*H:], acts[1])
	}
	for i := range h {
		h[i] = (1-z[i])*hh[i] + z[i]*h[i]
	}
}

// lstmStep, gates in W order i, o, f, c and peepholes in order i, o, f:
// i = f(..i + Pi.C), f = f(..f + Pf.C) (1 - i with input_forget),
// c~ = g(..c), C = f.C + i.c~, o = f(..o + Po.C), H = o . h(C).
func (r *recurrent) lstmStep(x, hr, h, cs, peep []float32, acts []activation, tmp []float32) {
	H := len(h)
	ig, og, fg, cg := tmp[:H], tmp[H:2*H], tmp[2*H:3*H], tmp[3*H:]
	withPeep := func(dst []float32, block, p int) {
		copy(dst, hr[block*H:(block+1)*H])
		if peep != nil {
			for k := range dst {
				dst[k] += peep[p*H+k] * cs[k]
			}
		}
	}
	withPeep(ig, 0, 0)
	r.gate(ig, x[:H], ig, acts[0])
	if r.inputForget {
		for k := range fg {
			fg[k] = 1 - ig[k]
		}
	} else {
		withPeep(fg, 2, 2)
		r.gate(fg, x[2*H:3*H], fg, acts[0])
	}
	r.gate(cg, x[3*H:], hr[3*H:], acts[1])
	for k := range cs {
		cs[k] = fg[k]*cs[k] + ig[k]*cg[k]
	}
	withPeep(og, 1, 1)
	r.gate(og, x[H:2*H], og, acts[0])
	copy(h, cs)
	acts[2].apply(h)
	for k := range h {
		h[k] *= og[k]
	}
}
