package train

import (
	"context"
	"fmt"
	"math/rand/v2"
	"unsafe"

	"stride/graph"
	"stride/internal/gemm"
	"stride/internal/parallel"
	"stride/ops"
	"stride/tensor"

	_ "stride/ops/all" // forward kernels of every registered op
)

// Mode selects the behaviour of ops that act differently while training
// (Dropout, BatchNorm with batch statistics).
type Mode uint8

// The modes.
const (
	TestMode Mode = iota
	TrainMode
)

func (m Mode) String() string {
	if m == TrainMode {
		return "train"
	}
	return "test"
}

// Op is one graph node prepared for training: its forward computation and
// the rule that turns the gradients of its outputs into gradients of its
// inputs. An Op may keep what its backward pass needs (an argmax, a mask)
// between the two calls.
type Op interface {
	Forward(f *Fwd, in []*tensor.Tensor) ([]*tensor.Tensor, error)
	Backward(b *Bwd) error
}

// Fwd is what a forward pass gives an op: the run context (tensor memory,
// worker pool), the mode and a random source.
type Fwd struct {
	*ops.Ctx
	Mode Mode
	Node *graph.Node
	seed uint64
	step int
}

// Rand returns a random source that depends only on the pass's seed and
// the node, so a pass can be replayed exactly (for example after a resume).
func (f *Fwd) Rand() *rand.Rand {
	return rand.New(rand.NewPCG(f.seed, uint64(f.step)*0x9E3779B97F4A7C15+1))
}

// Run is the worker pool as a GEMM runner.
func (f *Fwd) Run() gemm.Runner { return f.Ctx.Tasks }

// Bwd is what a backward rule works with: the node, its inputs and outputs
// from the forward pass and the gradients of its outputs. Rules add the
// gradients they compute into the buffers Grad returns.
type Bwd struct {
	*ops.Ctx
	Node *graph.Node
	In   []*tensor.Tensor
	Out  []*tensor.Tensor
	// DOut[i] is the gradient of output i, or nil when none flows back
	// (rules treat that as zero).
	DOut []*tensor.Tensor
	p    *program
	st   *step
}

// Need reports whether input i needs a gradient.
func (b *Bwd) Need(i int) bool {
	return i < len(b.st.in) && b.st.in[i] >= 0 && b.p.needGrad[b.st.in[i]]
}

// Grad returns the gradient buffer of input i, shaped like the input. It
// starts at zero in each pass and rules add into it, so inputs read by
// several nodes sum their contributions.
func (b *Bwd) Grad(i int) []float32 { return b.p.gradOf(b.st.in[i]).F32() }

// DY returns the gradient of output i as floats, or nil.
func (b *Bwd) DY(i int) []float32 {
	if i >= len(b.DOut) || b.DOut[i] == nil {
		return nil
	}
	return b.DOut[i].F32()
}

// Run is the worker pool as a GEMM runner.
func (b *Bwd) Run() gemm.Runner { return b.Ctx.Tasks }

// Scratch returns a float32 tensor valid until the next pass (contents
// undefined).
func (b *Bwd) Scratch(shape ...int) []float32 {
	t, err := b.p.arena.Alloc(tensor.Float32, shape)
	if err != nil {
		panic(err)
	}
	return t.F32()
}

// step is one node of the tape.
type step struct {
	node    *graph.Node
	op      Op
	in, out []int // slots; -1 for an omitted value
	// back says the node is on a path from a learnable parameter (or an
	// input that needs a gradient) to the outputs.
	back bool
}

// program is a graph prepared for training: a tape of ops in dependency
// order over numbered value slots.
type program struct {
	g        *graph.Graph
	mode     Mode
	steps    []*step
	slots    map[string]int
	names    []string
	vals     []*tensor.Tensor
	consts   []*tensor.Tensor // initializers and folded values, by slot
	grads    []*tensor.Tensor
	param    []*Param // by slot; nil when the slot is not a parameter
	view     []*tensor.Tensor
	needGrad []bool
	inputs   map[string]int
	arena    *arena
	ctx      *ops.Ctx
	seed     uint64
}

// dataPtr identifies a tensor's storage.
func dataPtr(t *tensor.Tensor) uintptr {
	if d, ok := t.Data.([]float32); ok && len(d) > 0 {
		return uintptr(unsafe.Pointer(unsafe.SliceData(d)))
	}
	return 0
}

// compile prepares g for training or testing. params are the net's
// parameter blobs: initializers sharing their storage become parameter
// slots, whose gradients go to the blob's diff. wantGrad lists graph inputs
// that need gradients too (tests use it).
func compile(g *graph.Graph, params []*Param, mode Mode, pool *parallel.Pool, wantGrad ...string) (*program, error) {
	order, err := g.TopoOrder()
	if err != nil {
		return nil, err
	}
	p := &program{g: g, mode: mode, slots: map[string]int{}, inputs: map[string]int{}, arena: newArena()}
	p.ctx = ops.NewCtx(context.Background(), pool, p.arena)
	slot := func(name string) int {
		if i, ok := p.slots[name]; ok {
			return i
		}
		i := len(p.names)
		p.slots[name] = i
		p.names = append(p.names, name)
		p.consts = append(p.consts, nil)
		p.param = append(p.param, nil)
		p.view = append(p.view, nil)
		return i
	}
	byPtr := map[uintptr]*Param{}
	for _, pr := range params {
		byPtr[dataPtr(pr.Data)] = pr
	}
	for _, v := range g.Inputs {
		p.inputs[v.Name] = slot(v.Name)
	}
	for _, name := range g.SortedInitializerNames() {
		if _, isInput := p.inputs[name]; isInput {
			continue
		}
		t := g.Initializers[name]
		i := slot(name)
		if pr := byPtr[dataPtr(t)]; pr != nil && t.Len() == pr.Data.Len() {
			p.param[i] = pr
			p.view[i] = t
			continue
		}
		p.consts[i] = t
	}
	types := map[string]graph.Type{}
	for k, v := range g.ValueInfo {
		types[k] = v.Type
	}
	for _, v := range g.Inputs {
		types[v.Name] = v.Type
	}
	for _, n := range order {
		st := &step{node: n}
		for _, in := range n.Inputs {
			if in == "" {
				st.in = append(st.in, -1)
			} else {
				st.in = append(st.in, slot(in))
			}
		}
		for _, o := range n.Outputs {
			if o == "" {
				st.out = append(st.out, -1)
			} else {
				st.out = append(st.out, slot(o))
			}
		}
		op, foldable, err := p.build(n, st, types)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n.Label(), err)
		}
		st.op = op
		if foldable && p.allConst(st) {
			if err := p.fold(st); err != nil {
				return nil, fmt.Errorf("%s: %w", n.Label(), err)
			}
			continue
		}
		p.steps = append(p.steps, st)
	}
	p.vals = make([]*tensor.Tensor, len(p.names))
	p.grads = make([]*tensor.Tensor, len(p.names))
	p.needGrad = make([]bool, len(p.names))
	for i, pr := range p.param {
		if pr != nil && pr.Learnable() {
			p.needGrad[i] = true
		}
	}
	for _, name := range wantGrad {
		i, ok := p.inputs[name]
		if !ok {
			return nil, fmt.Errorf("no graph input %q", name)
		}
		p.needGrad[i] = true
	}
	for _, st := range p.steps {
		for _, in := range st.in {
			if in >= 0 && p.needGrad[in] {
				st.back = true
			}
		}
		if !st.back {
			continue
		}
		if _, none := st.op.(noGrad); none {
			return nil, fmt.Errorf("%s: op %s has no gradient, but a learnable parameter reaches it", st.node.Label(), st.node.Op)
		}
		for _, o := range st.out {
			if o >= 0 {
				p.needGrad[o] = true
			}
		}
	}
	return p, nil
}

func (p *program) allConst(st *step) bool {
	for _, in := range st.in {
		if in >= 0 && p.consts[in] == nil {
			return false
		}
	}
	return true
}

// fold runs a node whose inputs are all constant once, at compile time.
func (p *program) fold(st *step) error {
	in := make([]*tensor.Tensor, len(st.in))
	for j, s := range st.in {
		if s >= 0 {
			in[j] = p.consts[s]
		}
	}
	f := &Fwd{Ctx: ops.NewCtx(context.Background(), nil, nil), Mode: p.mode, Node: st.node}
	outs, err := st.op.Forward(f, in)
	if err != nil {
		return err
	}
	for j, o := range st.out {
		if o >= 0 && j < len(outs) {
			p.consts[o] = outs[j]
		}
	}
	return nil
}

// build prepares the op of one node: its gradient rule from the table,
// with the registered forward kernel unless the rule brings its own.
func (p *program) build(n *graph.Node, st *step, types map[string]graph.Type) (Op, bool, error) {
	r, hasRule := lookupRule(n.Domain, n.Op)
	consts := make([]*tensor.Tensor, len(st.in))
	for j, s := range st.in {
		if s >= 0 {
			consts[j] = p.consts[s]
		}
	}
	if hasRule && r.build != nil {
		op, err := r.build(n, consts, p.mode)
		return op, false, err
	}
	def, ok := ops.Lookup(n.Domain, n.Op)
	if !ok {
		return nil, false, fmt.Errorf("unsupported op type %q", n.Op)
	}
	b := &ops.Build{Node: n, Opset: p.g.Opsets[n.Domain], Consts: consts}
	if b.Opset == 0 {
		b.Opset = 13
	}
	for _, in := range n.Inputs {
		t, _ := p.g.TypeOf(in)
		if tt, ok := types[in]; ok {
			t = tt
		}
		b.Types = append(b.Types, t)
	}
	k, err := def.Build(b)
	if err != nil {
		return nil, false, err
	}
	if !hasRule {
		return noGrad{k}, !def.Volatile, nil
	}
	return &kernelOp{k: k, back: r.back}, !def.Volatile, nil
}

// kernelOp runs a registered kernel forward and a table rule backward.
type kernelOp struct {
	k    ops.Kernel
	back func(b *Bwd) error
}

func (o *kernelOp) Forward(f *Fwd, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	return o.k.Run(f.Ctx, in)
}

func (o *kernelOp) Backward(b *Bwd) error { return o.back(b) }

// noGrad is an op without a gradient rule: fine off the gradient path.
type noGrad struct{ k ops.Kernel }

func (o noGrad) Forward(f *Fwd, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	return o.k.Run(f.Ctx, in)
}

func (o noGrad) Backward(*Bwd) error { return fmt.Errorf("no gradient rule") }

// slotOf returns the slot of a value name.
func (p *program) slotOf(name string) (int, bool) {
	i, ok := p.slots[name]
	return i, ok
}

// setInput binds a graph input for the next pass.
func (p *program) setInput(name string, t *tensor.Tensor) error {
	i, ok := p.inputs[name]
	if !ok {
		return fmt.Errorf("the net has no input %q", name)
	}
	p.vals[i] = t
	return nil
}

// value returns the value of a slot after a forward pass.
func (p *program) value(name string) *tensor.Tensor {
	if i, ok := p.slots[name]; ok {
		return p.vals[i]
	}
	return nil
}

// forward runs every node. seed makes random ops (Dropout) reproducible.
func (p *program) forward(ctx context.Context, seed uint64) error {
	p.arena.reset()
	p.seed = seed
	clear(p.grads)
	for i, c := range p.consts {
		if c != nil {
			p.vals[i] = c
		}
	}
	for i, v := range p.view {
		if v != nil {
			p.vals[i] = v
		}
	}
	for name, i := range p.inputs {
		if p.vals[i] == nil {
			return fmt.Errorf("input %q is not fed", name)
		}
	}
	if ctx == nil {
		ctx = context.Background()
	}
	p.ctx.Context = ctx
	f := &Fwd{Ctx: p.ctx, Mode: p.mode, seed: seed}
	in := make([]*tensor.Tensor, 0, 8)
	for k, st := range p.steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		in = in[:0]
		for _, s := range st.in {
			if s < 0 {
				in = append(in, nil)
			} else {
				in = append(in, p.vals[s])
			}
		}
		f.Node, f.step = st.node, k
		outs, err := runForward(st.op, f, in)
		if err != nil {
			return fmt.Errorf("%s: %w", st.node.Label(), err)
		}
		for j, o := range st.out {
			if o < 0 {
				continue
			}
			if j >= len(outs) || outs[j] == nil {
				return fmt.Errorf("%s: produced no value for output %q", st.node.Label(), st.node.Outputs[j])
			}
			p.vals[o] = outs[j]
		}
	}
	return nil
}

func runForward(op Op, f *Fwd, in []*tensor.Tensor) (outs []*tensor.Tensor, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error in forward kernel: %v", r)
		}
	}()
	return op.Forward(f, in)
}

func runBackward(op Op, b *Bwd) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error in gradient rule: %v", r)
		}
	}()
	return op.Backward(b)
}

// gradOf returns the gradient buffer of a slot, creating it (zeroed) on
// first use. A parameter slot's gradient is a view of the blob's diff.
func (p *program) gradOf(s int) *tensor.Tensor {
	if g := p.grads[s]; g != nil {
		return g
	}
	if pr := p.param[s]; pr != nil {
		p.grads[s] = tensor.From(p.view[s].Shape, pr.Diff)
		return p.grads[s]
	}
	p.grads[s] = p.arena.zeros(p.vals[s].Shape)
	return p.grads[s]
}

// seedGrad returns the gradient buffer of a value, for loss layers to
// write the gradient of the loss into.
func (p *program) seedGrad(name string) ([]float32, error) {
	s, ok := p.slots[name]
	if !ok {
		return nil, fmt.Errorf("no value %q", name)
	}
	if !p.needGrad[s] {
		return nil, nil
	}
	return p.gradOf(s).F32(), nil
}

// backward walks the tape in reverse, from the gradients seeded by the
// loss layers down to the parameters.
func (p *program) backward(ctx context.Context) error {
	b := &Bwd{Ctx: p.ctx, p: p}
	for k := len(p.steps) - 1; k >= 0; k-- {
		st := p.steps[k]
		if !st.back {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		any := false
		b.DOut = b.DOut[:0]
		b.Out = b.Out[:0]
		for _, o := range st.out {
			var g, v *tensor.Tensor
			if o >= 0 {
				g, v = p.grads[o], p.vals[o]
			}
			if g != nil {
				any = true
			}
			b.DOut = append(b.DOut, g)
			b.Out = append(b.Out, v)
		}
		if !any {
			continue
		}
		b.In = b.In[:0]
		for _, s := range st.in {
			if s < 0 {
				b.In = append(b.In, nil)
			} else {
				b.In = append(b.In, p.vals[s])
			}
		}
		b.Node, b.st = st.node, st
		if err := runBackward(st.op, b); err != nil {
			return fmt.Errorf("%s (backward): %w", st.node.Label(), err)
		}
	}
	return nil
}
