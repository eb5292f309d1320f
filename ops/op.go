// Package ops owns Stride's operators: for each op type, the parsing and
// checking of its attributes, its shape rule where one is known, and a
// reference kernel. Ops are registered in one table (Register, called from
// the init function of each op family's file); the runtime looks them up by
// domain and op type. Kernels never allocate tensors themselves: they ask
// the run's context (Ctx.Alloc), so the runtime controls tensor memory.
//
// The graph reaching ops uses one semantics per op type: importers rewrite
// the older opset forms (attributes that later became inputs, and so on), so
// a kernel reads, for example, Reduce axes from its second input only.
package ops

import (
	"context"
	"fmt"
	"sort"

	"stride/graph"
	"stride/internal/parallel"
	"stride/tensor"
)

// Kernel is an op prepared for one node: attributes parsed, constant inputs
// possibly pre-processed. Run may be called concurrently from many
// goroutines, so a Kernel must not mutate itself during Run.
type Kernel interface {
	// Run computes the node's outputs. in[i] is nil for an omitted optional
	// input. It returns one tensor per node output (nil for an output the
	// op does not produce).
	Run(c *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error)
}

// KernelFunc adapts a function to Kernel.
type KernelFunc func(c *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error)

// Run calls f.
func (f KernelFunc) Run(c *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) { return f(c, in) }

// Build is what an op's builder sees at load time.
type Build struct {
	Node *graph.Node
	// Opset is the version of the node's domain in the model.
	Opset int64
	// Consts[i] is the value of input i when it is constant (an
	// initializer or folded), else nil.
	Consts []*tensor.Tensor
	// Types[i] is what is known of input i's type.
	Types []graph.Type
	// Compile prepares a subgraph (If, Loop, Scan bodies) for execution.
	Compile func(g *graph.Graph) (Subgraph, error)
	// Implicit names the outer-scope values the node's subgraphs read. The
	// runtime passes them to Run after the node's own inputs, in this order.
	Implicit []string
}

// Const returns the constant value of input i, or nil.
func (b *Build) Const(i int) *tensor.Tensor {
	if i < len(b.Consts) {
		return b.Consts[i]
	}
	return nil
}

// NumInputs returns the number of inputs the node lists (including omitted ones).
func (b *Build) NumInputs() int { return len(b.Node.Inputs) }

// HasInput reports whether input i is present.
func (b *Build) HasInput(i int) bool { return b.Node.Input(i) != "" }

// Subgraph is a compiled subgraph. Run binds its formal inputs in order,
// and outer-scope values by name, and returns its outputs in order.
type Subgraph interface {
	Run(c *Ctx, inputs []*tensor.Tensor, outer map[string]*tensor.Tensor) ([]*tensor.Tensor, error)
	// OuterRefs lists the outer-scope names the subgraph reads.
	OuterRefs() []string
}

// Def registers one op type.
type Def struct {
	Op     string
	Domain string // "" for ai.onnx
	// Build prepares a kernel for a node. Attribute errors are returned here.
	Build func(b *Build) (Kernel, error)
	// Infer, when set, computes output types from input types at load.
	Infer func(b *Build, in []graph.Type) ([]graph.Type, error)
	// Native16 says the kernel handles Float16/BFloat16 tensors itself;
	// otherwise such inputs are computed in float32 and results rounded back.
	Native16 bool
	// Float64 says the kernel handles Float64 itself; otherwise float64
	// inputs are computed in float32 and results converted back.
	Float64 bool
	// Volatile ops (random generators) are never folded into constants.
	Volatile bool
}

var registry = map[string]*Def{}

func key(domain, op string) string {
	if domain == "ai.onnx" {
		domain = ""
	}
	return domain + "::" + op
}

// Register adds op definitions to the table. Registering a name twice is a
// programming error.
func Register(defs ...*Def) {
	for _, d := range defs {
		k := key(d.Domain, d.Op)
		if _, dup := registry[k]; dup {
			panic("ops: duplicate registration of " + k)
		}
		registry[k] = d
	}
}

// Lookup finds the definition of an op type.
func Lookup(domain, op string) (*Def, bool) {
	d, ok := registry[key(domain, op)]
	return d, ok
}

// Registered lists the registered op types as "domain::op", sorted.
func Registered() []string {
	out := make([]string, 0, len(registry))
	for k := range registry {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Allocator hands out tensor memory. Memory it returns may hold old data.
type Allocator interface {
	Alloc(dt tensor.DType, shape []int) (*tensor.Tensor, error)
}

// Releaser is implemented by allocators that can take back a temporary.
type Releaser interface {
	Release(t *tensor.Tensor)
}

// Ctx is the context of one Run, passed to every kernel.
type Ctx struct {
	context.Context
	Pool  *parallel.Pool
	alloc Allocator
}

// NewCtx makes a run context. A nil allocator allocates from the Go heap.
func NewCtx(ctx context.Context, pool *parallel.Pool, a Allocator) *Ctx {
	if ctx == nil {
		ctx = context.Background()
	}
	return &Ctx{Context: ctx, Pool: pool, alloc: a}
}

// Alloc returns a tensor of the given type and shape. Its contents are
// undefined: the kernel must write every element (use AllocZero otherwise).
func (c *Ctx) Alloc(dt tensor.DType, shape ...int) (*tensor.Tensor, error) {
	if _, err := tensor.NumElements(shape); err != nil {
		return nil, err
	}
	if c == nil || c.alloc == nil {
		return tensor.New(dt, shape...)
	}
	return c.alloc.Alloc(dt, shape)
}

// Release hands back a temporary the kernel allocated with Alloc and no
// longer needs (it must not be returned as an output). Its memory may be
// given to a later Alloc.
func (c *Ctx) Release(t *tensor.Tensor) {
	if c == nil || t == nil {
		return
	}
	if r, ok := c.alloc.(Releaser); ok {
		r.Release(t)
	}
}

// AllocZero is Alloc with every element zeroed.
func (c *Ctx) AllocZero(dt tensor.DType, shape ...int) (*tensor.Tensor, error) {
	t, err := c.Alloc(dt, shape...)
	if err != nil {
		return nil, err
	}
	clearData(t.Data)
	return t, nil
}

// AllocLike allocates a tensor of t's type and shape.
func (c *Ctx) AllocLike(t *tensor.Tensor) (*tensor.Tensor, error) {
	return c.Alloc(t.DType, t.Shape...)
}

// For runs fn over [0,n) in parallel chunks of at least grain elements.
func (c *Ctx) For(n, grain int, fn func(lo, hi int)) {
	var p *parallel.Pool
	if c != nil {
		p = c.Pool
	}
	p.For(n, grain, fn)
}

// Tasks runs fn(t) for t in [0,n) in parallel.
func (c *Ctx) Tasks(n int, fn func(t int)) {
	var p *parallel.Pool
	if c != nil {
		p = c.Pool
	}
	p.Tasks(n, fn)
}

func clearData(d any) {
	switch s := d.(type) {
	case []float32:
		clear(s)
	case []float64:
		clear(s)
	case []uint16:
		clear(s)
	case []int8:
		clear(s)
	case []int16:
		clear(s)
	case []int32:
		clear(s)
	case []int64:
		clear(s)
	case []uint8:
		clear(s)
	case []uint32:
		clear(s)
	case []uint64:
		clear(s)
	case []bool:
		clear(s)
	case []string:
		clear(s)
	}
}

// Errorf builds an error; the runtime adds the node's name around it.
func Errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

// Outs wraps tensors as a kernel result.
func Outs(ts ...*tensor.Tensor) ([]*tensor.Tensor, error) { return ts, nil }
