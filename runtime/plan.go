package runtime

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"stride/graph"
	"stride/internal/parallel"
	"stride/ops"
	"stride/tensor"
)

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
	sort.Strings(names)
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
	sort.Strings(names)
	return names
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
