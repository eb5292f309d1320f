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
