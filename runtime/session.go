// Package runtime owns execution: it turns an op graph into a Session (a
// kernel per node in dependency order, constants folded, value lifetimes
// known), runs it with a worker pool, and manages tensor memory so buffers
// are recycled as soon as their last reader has run. A Session is safe for
// concurrent Run calls.
package runtime

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"stride/graph"
	"stride/internal/parallel"
	"stride/ops"
	"stride/runtime/passes"
	"stride/tensor"
)

// Option configures a Session.
type Option func(*config)

type config struct {
	threads  int
	optimize bool
	pool     *parallel.Pool
}

// WithThreads sets the size of the Session's worker pool (default
// GOMAXPROCS).
func WithThreads(n int) Option { return func(c *config) { c.threads = n } }

// WithOptimize turns the load-time graph optimisations on or off (default on).
func WithOptimize(on bool) Option { return func(c *config) { c.optimize = on } }

// withPool shares a pool (subgraphs use their parent's).
func withPool(p *parallel.Pool) Option { return func(c *config) { c.pool = p } }

// Session is a graph prepared for execution. Besides the plan for the
// graph as declared (symbolic dims such as the batch left open), it keeps
// plans specialised to the input shapes it has seen: with every shape known,
// shape computations fold into constants and more ops fuse.
type Session struct {
	graph   *graph.Graph // as given
	opt     *graph.Graph // after the optimisation passes
	kernels kernelCache
	cfg     config
	pool    *parallel.Pool
	ownPool bool
	generic *plan

	mu    sync.Mutex
	specs map[string]*plan // by input shape signature
	order []string         // specs in insertion order, for eviction
}

// maxSpecialised bounds the plans a Session keeps per input-shape signature.
const maxSpecialised = 8

// plan is a graph compiled for execution: a kernel per node in dependency
// order, constants folded, value lifetimes known.
type plan struct {
	graph   *graph.Graph
	steps   []step
	slots   map[string]int
	consts  []*tensor.Tensor // by slot; nil when not constant
	inputs  []inputSlot
	outputs []int
	// lastUse[slot] is the index of the last step reading the slot, or -1.
	lastUse []int
	pool    *parallel.Pool
	states  sync.Pool
	outer   []string // outer-scope names, for subgraph plans
}

type step struct {
	node   *graph.Node
	def    *ops.Def
	kernel ops.Kernel
	in     []int // slot per input, -1 for omitted
	out    []int
	// release lists input slots whose last reader is this step.
	release []int
}

type inputSlot struct {
	value *graph.Value
	slot  int
}

// NewSession prepares g for execution. g is not modified.
func NewSession(g *graph.Graph, opts ...Option) (*Session, error) {
	cfg := config{optimize: true}
	for _, o := range opts {
		o(&cfg)
	}
	s := &Session{graph: g, cfg: cfg, pool: cfg.pool, specs: map[string]*plan{}}
	if s.pool == nil {
		s.pool = parallel.New(cfg.threads)
		s.ownPool = true
		s.cfg.pool = s.pool
	}
	if err := g.Validate(nil); err != nil {
		s.Close()
		return nil, err
	}
	s.opt = g
	if cfg.optimize {
		opt, err := passes.Optimize(g)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.opt = opt
	}
	s.kernels = kernelCache{}
	p, err := newPlan(s.opt, s.cfg, nil, nil, s.kernels)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.generic = p
	return s, nil
}

// kernelCache remembers the kernels of the generic plan, with the constant
// inputs each was built for, so plans specialised to input shapes reuse
// them (and their pre-packed weights) instead of preparing them again.
type kernelCache map[*graph.Node]cachedKernel

type cachedKernel struct {
	k      ops.Kernel
	consts []*tensor.Tensor
}

// lookup returns the cached kernel of n when it was built for the same
// constant inputs.
func (kc kernelCache) lookup(n *graph.Node, consts []*tensor.Tensor) ops.Kernel {
	c, ok := kc[n]
	if !ok || len(c.consts) != len(consts) {
		return nil
	}
	for i := range consts {
		if c.consts[i] != consts[i] {
			return nil
		}
	}
	return c.k
}

// newPlan compiles an (already optimised) graph. outer types the
// outer-scope values of a subgraph; shapes, when given, fixes the input
// shapes the plan is specialised to. The generic plan (shapes nil) records
// its kernels in cache; specialised plans reuse them.
func newPlan(g *graph.Graph, cfg config, outer map[string]graph.Type, shapes map[string][]int, cache kernelCache) (*plan, error) {
	orig := g
	if shapes != nil {
		g = withInputShapes(g, shapes)
	}
	order, err := g.TopoOrder()
	if err != nil {
		return nil, err
	}
	s := &plan{graph: orig, slots: map[string]int{}, pool: cfg.pool}
	slot := func(name string) int {
		if i, ok := s.slots[name]; ok {
			return i
		}
		i := len(s.consts)
		s.slots[name] = i
		s.consts = append(s.consts, nil)
		return i
	}
	types := map[string]graph.Type{}
	for k, t := range outer {
		types[k] = t
	}
	for _, name := range sortedOuter(outer) {
		slot(name)
		s.outer = append(s.outer, name)
	}
	for _, v := range g.Inputs {
		s.inputs = append(s.inputs, inputSlot{value: v, slot: slot(v.Name)})
		types[v.Name] = v.Type
	}
	isInput := map[string]bool{}
	for _, v := range g.Inputs {
		isInput[v.Name] = true
	}
	for name, t := range g.Initializers {
		if isInput[name] {
			continue // a default for an input; the fed value wins
		}
		s.consts[slot(name)] = t
		types[name] = graph.TensorType(t.DType, t.Shape...)
	}
	for name, v := range g.ValueInfo {
		if _, ok := types[name]; !ok {
			types[name] = v.Type
		}
	}
	foldCtx := ops.NewCtx(context.Background(), nil, nil)
	for _, n := range order {
		def, ok := ops.Lookup(n.Domain, n.Op)
		if !ok {
			dom := n.Domain
			if dom == "" {
				dom = "ai.onnx"
			}
			return nil, fmt.Errorf("%s: unsupported op type %q in domain %q", n.Label(), n.Op, dom)
		}
		st := step{node: n, def: def}
		b := &ops.Build{Node: n, Opset: g.Opsets[n.Domain]}
		if n.Domain == "" && b.Opset == 0 {
			b.Opset = g.Opsets["ai.onnx"]
		}
		allConst := true
		for _, in := range n.Inputs {
			if in == "" {
				st.in = append(st.in, -1)
				b.Consts = append(b.Consts, nil)
				b.Types = append(b.Types, graph.Type{})
				continue
			}
			i := slot(in)
			st.in = append(st.in, i)
			b.Consts = append(b.Consts, s.consts[i])
			b.Types = append(b.Types, types[in])
			if s.consts[i] == nil {
				allConst = false
			}
		}
		// Values read by subgraphs are passed as extra inputs.
		implicit := implicitInputs(n)
		for _, name := range implicit {
			i := slot(name)
			st.in = append(st.in, i)
			if s.consts[i] == nil {
				allConst = false
			}
		}
		b.Implicit = implicit
		b.Compile = func(sub *graph.Graph) (ops.Subgraph, error) {
			return compileSubgraph(sub, s.pool, types)
		}
		if cfg.optimize {
			if t := foldShapeOf(n, b.Types); t != nil {
				s.consts[slot(n.Outputs[0])] = t
				types[n.Outputs[0]] = graph.TensorType(t.DType, t.Shape...)
				continue
			}
		}
		k := cache.lookup(n, b.Consts)
		if k == nil {
			if k, err = safeBuild(def, b); err != nil {
				return nil, fmt.Errorf("%s: %w", n.Label(), err)
			}
			if shapes == nil && cache != nil {
				cache[n] = cachedKernel{k, b.Consts}
			}
		}
		st.kernel = k
		for _, o := range n.Outputs {
			if o == "" {
				st.out = append(st.out, -1)
				continue
			}
			st.out = append(st.out, slot(o))
		}
		if def.Infer != nil {
			if outs, err := safeInfer(def, b); err == nil {
				for i, t := range outs {
					if i < len(n.Outputs) && n.Outputs[i] != "" {
						types[n.Outputs[i]] = t
					}
				}
			}
		}
		if allConst && !def.Volatile && cfg.optimize {
			// Constant folding: run the node once now and keep its outputs.
			vals := make([]*tensor.Tensor, len(st.in))
			for j, i := range st.in {
				if i >= 0 {
					vals[j] = s.consts[i]
				}
			}
			outs, err := runKernel(foldCtx, &st, vals)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", n.Label(), err)
			}
			for j, o := range st.out {
				if o >= 0 && j < len(outs) && outs[j] != nil {
					s.consts[o] = outs[j]
					types[n.Outputs[j]] = graph.TensorType(outs[j].DType, outs[j].Shape...)
				}
			}
			continue
		}
		s.steps = append(s.steps, st)
	}
	for _, v := range g.Outputs {
		s.outputs = append(s.outputs, slot(v.Name))
	}
	s.planLifetimes()
	return s, nil
}

func sortedOuter(m map[string]graph.Type) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sortStrings(names)
	return names
}

func implicitInputs(n *graph.Node) []string {
	var out []string
	seen := map[string]bool{}
	for _, name := range sortedAttrNames(n) {
		for _, sub := range n.Attrs[name].Subgraphs() {
			for _, r := range sub.OuterRefs() {
				if !seen[r] {
					seen[r] = true
					out = append(out, r)
				}
			}
		}
	}
	return out
}

func sortedAttrNames(n *graph.Node) []string {
	names := make([]string, 0, len(n.Attrs))
	for k := range n.Attrs {
		names = append(names, k)
	}
	sortStrings(names)
	return names
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// planLifetimes records, for each step, which slots die after it.
func (s *plan) planLifetimes() {
	s.lastUse = make([]int, len(s.consts))
	for i := range s.lastUse {
		s.lastUse[i] = -1
	}
	for i, st := range s.steps {
		for _, in := range st.in {
			if in >= 0 {
				s.lastUse[in] = i
			}
		}
		// An output nobody reads dies right after its producer.
		for _, o := range st.out {
			if o >= 0 && s.lastUse[o] < i {
				s.lastUse[o] = i
			}
		}
	}
	keep := map[int]bool{}
	for _, o := range s.outputs {
		keep[o] = true
	}
	for _, in := range s.inputs {
		keep[in.slot] = true
	}
	for i, st := range s.steps {
		seen := map[int]bool{}
		for _, sl := range append(append([]int{}, st.in...), st.out...) {
			if sl < 0 || seen[sl] || keep[sl] || s.consts[sl] != nil || s.lastUse[sl] != i {
				continue
			}
			seen[sl] = true
			s.steps[i].release = append(s.steps[i].release, sl)
		}
	}
}

// Close releases the Session's worker pool.
func (s *Session) Close() {
	if s.ownPool {
		s.pool.Close()
	}
}

// planFor returns the plan for a run whose inputs have the given shapes:
// a specialised one when the graph leaves input dims open and optimisation
// is on, else the generic one.
func (s *Session) planFor(inputs map[string]*tensor.Tensor) *plan {
	if !s.cfg.optimize {
		return s.generic
	}
	open := false
	for _, v := range s.graph.Inputs {
		if _, static := v.Type.Static(); !static {
			open = true
			break
		}
	}
	if !open {
		return s.generic
	}
	var sig []byte
	shapes := make(map[string][]int, len(s.graph.Inputs))
	for _, v := range s.graph.Inputs {
		t := inputs[v.Name]
		if t == nil {
			return s.generic // a defaulted input: keep it simple
		}
		shapes[v.Name] = t.Shape
		sig = fmt.Appendf(sig, "%v;", t.Shape)
	}
	key := string(sig)
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.specs[key]; ok {
		return p
	}
	p, err := newPlan(s.opt, s.cfg, nil, shapes, s.kernels)
	if err != nil {
		p = s.generic // specialising is an optimisation; the generic plan still runs
	}
	if len(s.order) == maxSpecialised {
		delete(s.specs, s.order[0])
		s.order = s.order[1:]
	}
	s.specs[key] = p
	s.order = append(s.order, key)
	return p
}

// withInputShapes returns a copy of g whose inputs have the given static
// shapes.
func withInputShapes(g *graph.Graph, shapes map[string][]int) *graph.Graph {
	c := *g
	c.Inputs = make([]*graph.Value, len(g.Inputs))
	for i, v := range g.Inputs {
		nv := *v
		if sh, ok := shapes[v.Name]; ok {
			nv.Type = graph.TensorType(v.Type.DType, sh...)
		}
		c.Inputs[i] = &nv
	}
	return &c
}

// Graph returns the graph the Session runs.
func (s *Session) Graph() *graph.Graph { return s.graph }

// Inputs describes the values Run expects.
func (s *Session) Inputs() []*graph.Value { return s.graph.Inputs }

// Outputs describes the values Run returns.
func (s *Session) Outputs() []*graph.Value { return s.graph.Outputs }

// Threads returns the size of the worker pool.
func (s *Session) Threads() int { return s.pool.Threads() }

// Run executes the graph. inputs maps graph input names to tensors; every
// input without an initializer default must be given. The result maps each
// graph output name to its value. Run stops early with ctx's error when ctx
// is cancelled.
func (s *Session) Run(ctx context.Context, inputs map[string]*tensor.Tensor) (map[string]*tensor.Tensor, error) {
	outs, err := s.RunList(ctx, inputs)
	if err != nil {
		return nil, err
	}
	m := make(map[string]*tensor.Tensor, len(outs))
	for i, v := range s.graph.Outputs {
		m[v.Name] = outs[i]
	}
	return m, nil
}

// RunList is Run with outputs in graph output order.
func (s *Session) RunList(ctx context.Context, inputs map[string]*tensor.Tensor) ([]*tensor.Tensor, error) {
	return s.runList(ctx, inputs, nil)
}

func (s *Session) runList(ctx context.Context, inputs map[string]*tensor.Tensor, prof *Profile) ([]*tensor.Tensor, error) {
	for name := range inputs {
		if s.graph.Input(name) == nil {
			return nil, fmt.Errorf("unknown input %q (the model's inputs are %s)", name, s.inputNames())
		}
	}
	feeds := make(map[string]*tensor.Tensor, len(s.graph.Inputs))
	bound := map[string]int{}
	for _, v := range s.graph.Inputs {
		t, ok := inputs[v.Name]
		if !ok || t == nil {
			if d, has := s.graph.Initializers[v.Name]; has {
				t = d
			} else {
				return nil, fmt.Errorf("missing input %q (%v)", v.Name, v.Type)
			}
		}
		if err := checkInput(v, t, bound); err != nil {
			return nil, err
		}
		feeds[v.Name] = t
	}
	p := s.planFor(inputs)
	st := p.getState()
	defer p.putState(st)
	for _, in := range p.inputs {
		st.vals[in.slot] = feeds[in.value.Name]
	}
	c := ops.NewCtx(ctx, s.pool, st)
	return p.exec(c, st, prof)
}

func (s *Session) inputNames() string {
	out := ""
	for i, v := range s.graph.Inputs {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%q", v.Name)
	}
	if out == "" {
		return "none"
	}
	return out
}

func (s *plan) exec(c *ops.Ctx, st *state, prof *Profile) ([]*tensor.Tensor, error) {
	for i, t := range s.consts {
		if t != nil {
			st.vals[i] = t
		}
	}
	vals := make([]*tensor.Tensor, 0, 8)
	for i := range s.steps {
		if err := c.Err(); err != nil {
			return nil, err
		}
		sp := &s.steps[i]
		vals = vals[:0]
		for _, in := range sp.in {
			if in < 0 {
				vals = append(vals, nil)
			} else {
				vals = append(vals, st.vals[in])
			}
		}
		var t0 time.Time
		if prof != nil {
			t0 = time.Now()
		}
		outs, err := runKernel(c, sp, vals)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sp.node.Label(), err)
		}
		if prof != nil {
			prof.add(i, sp.node.Name, sp.node.Op, time.Since(t0))
		}
		for j, o := range sp.out {
			if o < 0 {
				continue
			}
			if j >= len(outs) || outs[j] == nil {
				return nil, fmt.Errorf("%s: produced no value for output %q", sp.node.Label(), sp.node.Outputs[j])
			}
			st.vals[o] = outs[j]
			st.retain(outs[j])
		}
		for _, r := range sp.release {
			st.release(st.vals[r])
			st.vals[r] = nil
		}
	}
	res := make([]*tensor.Tensor, len(s.outputs))
	for i, o := range s.outputs {
		t := st.vals[o]
		if t == nil {
			return nil, fmt.Errorf("output %q was not computed", s.graph.Outputs[i].Name)
		}
		st.detach(t)
		// The caller gets its own header: arena headers are reused.
		res[i] = &tensor.Tensor{DType: t.DType, Shape: append([]int(nil), t.Shape...), Data: t.Data}
	}
	return res, nil
}

// runKernel runs one step, adapting 16-bit and 64-bit float inputs for
// kernels that only compute in float32, and turning a kernel panic into an
// error so a hostile model cannot crash the process.
func runKernel(c *ops.Ctx, sp *step, in []*tensor.Tensor) (outs []*tensor.Tensor, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error in %s kernel: %v", sp.node.Op, r)
		}
	}()
	narrow := tensor.Undefined
	hasF32 := false
	for _, t := range in {
		if t == nil {
			continue
		}
		if t.DType == tensor.Float32 {
			hasF32 = true
		}
		if narrow == tensor.Undefined && ((t.DType == tensor.Float16 || t.DType == tensor.BFloat16) && !sp.def.Native16 ||
			t.DType == tensor.Float64 && !sp.def.Float64) {
			narrow = t.DType
		}
	}
	if narrow == tensor.Undefined {
		return sp.kernel.Run(c, in)
	}
	wide := make([]*tensor.Tensor, len(in))
	for i, t := range in {
		if t != nil && t.DType == narrow {
			wide[i] = tensor.ToFloat32(t)
		} else {
			wide[i] = t
		}
	}
	outs, err = sp.kernel.Run(c, wide)
	if err != nil {
		return nil, err
	}
	// Results come back in the caller's type, unless float32 was already
	// among the inputs: then a float32 output may be meant as such.
	if hasF32 {
		return outs, nil
	}
	for i, t := range outs {
		if t != nil && t.DType == tensor.Float32 {
			if outs[i], err = tensor.Convert(t, narrow); err != nil {
				return nil, err
			}
		}
	}
	return outs, nil
}

var errShape = errors.New("shape mismatch")

func checkInput(v *graph.Value, t *tensor.Tensor, bound map[string]int) error {
	if v.Type.DType != tensor.Undefined && t.DType != v.Type.DType {
		return fmt.Errorf("input %q: got %v, want %v", v.Name, t.DType, v.Type.DType)
	}
	if t.Len() != tensor.Size(t.Shape) {
		return fmt.Errorf("input %q: %d elements do not fill shape %v", v.Name, t.Len(), t.Shape)
	}
	if !v.Type.Ranked {
		return nil
	}
	if len(t.Shape) != len(v.Type.Shape) {
		return fmt.Errorf("input %q: got shape %v (rank %d), want %v: %w", v.Name, t.Shape, len(t.Shape), v.Type, errShape)
	}
	for i, d := range v.Type.Shape {
		got := t.Shape[i]
		switch {
		case d.Param != "":
			if b, ok := bound[d.Param]; ok && b != got {
				return fmt.Errorf("input %q: dim %d (%s) is %d, but %s was bound to %d by another input: %w", v.Name, i, d.Param, got, d.Param, b, errShape)
			}
			bound[d.Param] = got
		case d.Size >= 0 && int64(got) != d.Size:
			return fmt.Errorf("input %q: got shape %v, want %v: %w", v.Name, t.Shape, v.Type, errShape)
		}
	}
	return nil
}

// safeInfer runs an op's shape function; shape inference is advisory, so a
// failure (even a panic on a malformed node) only means "unknown".
func safeInfer(def *ops.Def, b *ops.Build) (outs []graph.Type, err error) {
	defer func() {
		if r := recover(); r != nil {
			outs, err = nil, fmt.Errorf("shape inference of %s failed: %v", b.Node.Op, r)
		}
	}()
	return def.Infer(b, b.Types)
}

// safeBuild prepares a kernel, turning a panic on a malformed node into an
// error.
func safeBuild(def *ops.Def, b *ops.Build) (k ops.Kernel, err error) {
	defer func() {
		if r := recover(); r != nil {
			k, err = nil, fmt.Errorf("internal error preparing %s: %v", b.Node.Op, r)
		}
	}()
	return def.Build(b)
}

// foldShapeOf evaluates Shape and Size at load when the input's shape is
// fully known, so the shape arithmetic behind Reshape and friends folds
// into constants.
func foldShapeOf(n *graph.Node, types []graph.Type) *tensor.Tensor {
	if n.Domain != "" || (n.Op != "Shape" && n.Op != "Size") || len(types) != 1 || len(n.Outputs) != 1 {
		return nil
	}
	dims, ok := types[0].Static()
	if !ok {
		return nil
	}
	if n.Op == "Size" {
		return tensor.Scalar(int64(tensor.Size(dims)))
	}
	start, err1 := n.AttrInt("start", 0)
	end, err2 := n.AttrInt("end", int64(len(dims)))
	if err1 != nil || err2 != nil {
		return nil
	}
	r := int64(len(dims))
	clamp := func(v int64) int64 {
		if v < 0 {
			v += r
		}
		return min(max(v, 0), r)
	}
	start, end = clamp(start), clamp(end)
	out := []int64{}
	for _, d := range dims[start:max(start, end)] {
		out = append(out, int64(d))
	}
	return tensor.From([]int{len(out)}, out)
}
