package train

import (
	"fmt"

	"stride/graph"
	"stride/internal/kern"
	"stride/ops"
	"stride/tensor"
)

// Gradients of the ops that move data without arithmetic, and Dropout.

// passBack: ops that only re-view the data (Reshape, Flatten, Identity,
// Squeeze, Unsqueeze) pass the gradient through unchanged.
func passBack(b *Bwd) error {
	if !b.Need(0) {
		return nil
	}
	dx, dy := b.Grad(0), b.DY(0)
	if len(dx) != len(dy) {
		return fmt.Errorf("gradient of %d elements for an input of %d", len(dy), len(dx))
	}
	b.parFor(len(dx), func(lo, hi int) { kern.Apply(kern.Add, dx[lo:hi], dx[lo:hi], dy[lo:hi]) })
	return nil
}

// axisSplit returns the product of the dims before axis and after it.
func axisSplit(shape []int, axis int) (outer, inner int) {
	return tensor.Size(shape[:axis]), tensor.Size(shape[axis+1:])
}

// concatBack hands each input its slab of dY.
func concatBack(b *Bwd) error {
	axis64, err := b.Node.AttrInt("axis", 0)
	if err != nil {
		return err
	}
	out := b.Out[0].Shape
	axis, err := ops.NormAxis(axis64, len(out))
	if err != nil {
		return err
	}
	outer, inner := axisSplit(out, axis)
	dy := b.DY(0)
	off := 0
	for k, t := range b.In {
		w := t.Shape[axis] * inner
		if b.Need(k) {
			dx := b.Grad(k)
			for o := 0; o < outer; o++ {
				src := dy[o*out[axis]*inner+off:][:w]
				dst := dx[o*w:][:w]
				for i, v := range src {
					dst[i] += v
				}
			}
		}
		off += w
	}
	return nil
}

// splitBack gathers the outputs' gradients back into the input's layout.
func splitBack(b *Bwd) error {
	if !b.Need(0) {
		return nil
	}
	axis64, err := b.Node.AttrInt("axis", 0)
	if err != nil {
		return err
	}
	in := b.In[0].Shape
	axis, err := ops.NormAxis(axis64, len(in))
	if err != nil {
		return err
	}
	outer, inner := axisSplit(in, axis)
	dx := b.Grad(0)
	off := 0
	for k, y := range b.Out {
		if y == nil {
			continue
		}
		w := y.Shape[axis] * inner
		if dy := b.DY(k); dy != nil {
			for o := 0; o < outer; o++ {
				dst := dx[o*in[axis]*inner+off:][:w]
				for i, v := range dy[o*w:][:w] {
					dst[i] += v
				}
			}
		}
		off += w
	}
	return nil
}

// walkIndex calls fn(o, i) for every output element o with the flat index
// i of the input element it came from, where output index j on axis d
// reads input index start[d] + j*step[d].
func walkIndex(out, in []int, start, step []int, fn func(o, i int)) {
	r := len(out)
	if tensor.Size(out) == 0 {
		return
	}
	st := tensor.Strides(in)
	idx := make([]int, r)
	base := 0
	for d := 0; d < r; d++ {
		base += start[d] * st[d]
	}
	cur := base
	for o := 0; ; o++ {
		fn(o, cur)
		d := r - 1
		for ; d >= 0; d-- {
			idx[d]++
			cur += step[d] * st[d]
			if idx[d] < out[d] {
				break
			}
			cur -= step[d] * st[d] * out[d]
			idx[d] = 0
		}
		if d < 0 {
			return
		}
	}
}

// sliceBack scatters dY into the sliced region of the input's gradient.
func sliceBack(b *Bwd) error {
	if !b.Need(0) {
		return nil
	}
	in := b.In[0].Shape
	r := len(in)
	get := func(i int) ([]int64, error) {
		if i < len(b.In) && b.In[i] != nil {
			return b.In[i].Ints()
		}
		return nil, nil
	}
	starts, err := get(1)
	if err != nil {
		return err
	}
	ends, err := get(2)
	if err != nil {
		return err
	}
	axes, err := get(3)
	if err != nil {
		return err
	}
	steps, err := get(4)
	if err != nil {
		return err
	}
	start, step := make([]int, r), make([]int, r)
	for d := range step {
		step[d] = 1
	}
	if axes == nil {
		for i := range starts {
			axes = append(axes, int64(i))
		}
	}
	for k, a := range axes {
		d, err := ops.NormAxis(a, r)
		if err != nil {
			return err
		}
		s := int64(1)
		if steps != nil {
			s = steps[k]
		}
		dim := int64(in[d])
		st := starts[k]
		if st < 0 {
			st += dim
		}
		if s > 0 {
			st = max(0, min(st, dim))
		} else {
			st = max(0, min(st, dim-1))
		}
		start[d], step[d] = int(st), int(s)
	}
	_ = ends // the output shape already encodes the end
	dx, dy := b.Grad(0), b.DY(0)
	walkIndex(b.Out[0].Shape, in, start, step, func(o, i int) { dx[i] += dy[o] })
	return nil
}

// padBack: the input's gradient is the part of dY over the input (constant
// padding only; negative pads crop).
func padBack(b *Bwd) error {
	if !b.Need(0) {
		return nil
	}
	mode, err := b.Node.AttrString("mode", "constant")
	if err != nil {
		return err
	}
	if mode != "constant" {
		return fmt.Errorf("the gradient of %s padding is not supported", mode)
	}
	in := b.In[0].Shape
	r := len(in)
	pads, err := b.In[1].Ints()
	if err != nil {
		return err
	}
	axes := make([]int, r)
	for i := range axes {
		axes[i] = i
	}
	if len(b.In) > 3 && b.In[3] != nil {
		a, err := b.In[3].Ints()
		if err != nil {
			return err
		}
		if axes, err = ops.NormAxes(a, r); err != nil {
			return err
		}
	}
	if len(pads) != 2*len(axes) {
		return fmt.Errorf("pads %v do not match %d axes", pads, len(axes))
	}
	begin := make([]int, r)
	for k, d := range axes {
		begin[d] = int(pads[k])
	}
	// Walk the input; element i sits at output index i + begin.
	out := b.Out[0].Shape
	ost := tensor.Strides(out)
	dx, dy := b.Grad(0), b.DY(0)
	idx := make([]int, r)
	for i := range dx {
		rem, o, inside := i, 0, true
		for d := r - 1; d >= 0; d-- {
			idx[d] = rem % in[d]
			rem /= in[d]
			p := idx[d] + begin[d]
			if p < 0 || p >= out[d] {
				inside = false
			}
			o += p * ost[d]
		}
		if inside {
			dx[i] += dy[o]
		}
	}
	return nil
}

func transposeBack(b *Bwd) error {
	if !b.Need(0) {
		return nil
	}
	in := b.In[0].Shape
	r := len(in)
	perm, err := b.Node.AttrInts("perm", nil)
	if err != nil {
		return err
	}
	if perm == nil {
		for i := r - 1; i >= 0; i-- {
			perm = append(perm, int64(i))
		}
	}
	// Output axis d reads input axis perm[d].
	ist := tensor.Strides(in)
	step := make([]int, r)
	for d := range perm {
		step[d] = ist[perm[d]]
	}
	dx, dy := b.Grad(0), b.DY(0)
	walkStrided(b.Out[0].Shape, step, func(o, i int) { dx[i] += dy[o] })
	return nil
}

// walkStrided calls fn(o, i) for every output element with i the offset
// given by per-axis strides.
func walkStrided(out []int, strides []int, fn func(o, i int)) {
	r := len(out)
	if tensor.Size(out) == 0 {
		return
	}
	idx := make([]int, r)
	cur := 0
	for o := 0; ; o++ {
		fn(o, cur)
		d := r - 1
		for ; d >= 0; d-- {
			idx[d]++
			cur += strides[d]
			if idx[d] < out[d] {
				break
			}
			cur -= strides[d] * out[d]
			idx[d] = 0
		}
		if d < 0 {
			return
		}
	}
}

// tileBack sums the gradient of every tile.
func tileBack(b *Bwd) error {
	if !b.Need(0) {
		return nil
	}
	in, out := b.In[0].Shape, b.Out[0].Shape
	r := len(in)
	ist := tensor.Strides(in)
	dx, dy := b.Grad(0), b.DY(0)
	idx := make([]int, r)
	for o := range dy {
		rem, i := o, 0
		for d := r - 1; d >= 0; d-- {
			idx[d] = rem % out[d]
			rem /= out[d]
			i += (idx[d] % in[d]) * ist[d]
		}
		dx[i] += dy[o]
	}
	return nil
}

// expandBack sums over the broadcast axes.
func expandBack(b *Bwd) error {
	if !b.Need(0) {
		return nil
	}
	return reduceInto(b.Grad(0), b.In[0].Shape, b.DY(0), b.Out[0].Shape, 1)
}

// gatherBack adds dY's rows into the gathered rows of the data (Embed).
func gatherBack(b *Bwd) error {
	if b.Need(1) {
		return fmt.Errorf("indices have no gradient")
	}
	if !b.Need(0) {
		return nil
	}
	axis, err := b.Node.AttrInt("axis", 0)
	if err != nil {
		return err
	}
	data := b.In[0].Shape
	if axis != 0 {
		return fmt.Errorf("the gradient of Gather is implemented for axis 0, got %d", axis)
	}
	idx, err := b.In[1].Ints()
	if err != nil {
		return err
	}
	row := tensor.Size(data[1:])
	dx, dy := b.Grad(0), b.DY(0)
	for k, j := range idx {
		if j < 0 {
			j += int64(data[0])
		}
		if j < 0 || j >= int64(data[0]) {
			return fmt.Errorf("index %d out of range", idx[k])
		}
		dst := dx[int(j)*row:][:row]
		for i, v := range dy[k*row:][:row] {
			dst[i] += v
		}
	}
	return nil
}

// dropoutOp is Caffe's inverted dropout: in training each element is kept
// with probability 1-ratio and scaled by 1/(1-ratio); at test time it is
// the identity.
type dropoutOp struct {
	ratio float32
	train bool
	mask  []bool
	scale float32
}

func newDropoutOp(n *graph.Node, consts []*tensor.Tensor, mode Mode) (Op, error) {
	o := &dropoutOp{ratio: 0.5}
	if len(consts) > 1 && n.Input(1) != "" {
		if consts[1] == nil {
			return nil, fmt.Errorf("the dropout ratio must be a constant")
		}
		o.ratio = float32(consts[1].Float64s()[0])
	}
	if len(consts) > 2 && n.Input(2) != "" {
		if consts[2] == nil {
			return nil, fmt.Errorf("training_mode must be a constant")
		}
		o.train = consts[2].Float64s()[0] != 0
	}
	if mode == TestMode {
		o.train = false
	}
	if o.ratio < 0 || o.ratio >= 1 {
		return nil, fmt.Errorf("ratio %g must be in [0, 1)", o.ratio)
	}
	o.scale = 1 / (1 - o.ratio)
	return o, nil
}

func (o *dropoutOp) Forward(f *Fwd, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x := in[0]
	if !o.train || o.ratio == 0 {
		return []*tensor.Tensor{x, nil}, nil
	}
	y, err := f.Alloc(tensor.Float32, x.Shape...)
	if err != nil {
		return nil, err
	}
	if cap(o.mask) < x.Len() {
		o.mask = make([]bool, x.Len())
	}
	o.mask = o.mask[:x.Len()]
	rng := f.Rand()
	keep := 1 - float64(o.ratio)
	xd, yd := x.F32(), y.F32()
	for i := range xd {
		o.mask[i] = rng.Float64() < keep
		if o.mask[i] {
			yd[i] = xd[i] * o.scale
		} else {
			yd[i] = 0
		}
	}
	var mask *tensor.Tensor
	if len(f.Node.Outputs) > 1 && f.Node.Outputs[1] != "" {
		mask = tensor.From(x.Shape, append([]bool{}, o.mask...))
	}
	return []*tensor.Tensor{y, mask}, nil
}

func (o *dropoutOp) Backward(b *Bwd) error {
	if !b.Need(0) {
		return nil
	}
	dx, dy := b.Grad(0), b.DY(0)
	if !o.train || o.ratio == 0 {
		for i, v := range dy {
			dx[i] += v
		}
		return nil
	}
	for i, v := range dy {
		if o.mask[i] {
			dx[i] += v * o.scale
		}
	}
	return nil
}
