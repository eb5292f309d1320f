package runtime

import (
	"fmt"

	"stride/graph"
	"stride/internal/parallel"
	"stride/ops"
	"stride/runtime/passes"
	"stride/tensor"
)

// subSession runs the body of an If, Loop or Scan node. It shares the
// parent's worker pool and reads outer-scope values by name.
type subSession struct {
	s *plan
}

func compileSubgraph(g *graph.Graph, pool *parallel.Pool, scope map[string]graph.Type) (ops.Subgraph, error) {
	outer := map[string]graph.Type{}
	for _, name := range g.OuterRefs() {
		outer[name] = scope[name]
	}
	refs := map[string]bool{}
	for name := range outer {
		refs[name] = true
	}
	if err := g.Validate(refs); err != nil {
		return nil, err
	}
	opt, err := passes.Optimize(g)
	if err != nil {
		return nil, err
	}
	s, err := newPlan(opt, config{optimize: true, pool: pool}, outer, nil, nil)
	if err != nil {
		return nil, err
	}
	return &subSession{s: s}, nil
}

func (ss *subSession) OuterRefs() []string { return ss.s.outer }

func (ss *subSession) Run(c *ops.Ctx, inputs []*tensor.Tensor, outer map[string]*tensor.Tensor) ([]*tensor.Tensor, error) {
	s := ss.s
	if len(inputs) != len(s.inputs) {
		return nil, fmt.Errorf("subgraph %q takes %d inputs, got %d", s.graph.Name, len(s.inputs), len(inputs))
	}
	st := s.getState()
	defer s.putState(st)
	for i, in := range s.inputs {
		st.vals[in.slot] = inputs[i]
	}
	for _, name := range s.outer {
		t, ok := outer[name]
		if !ok {
			return nil, fmt.Errorf("subgraph %q: outer value %q not provided", s.graph.Name, name)
		}
		st.vals[s.slots[name]] = t
	}
	// Outer values and inputs belong to the caller: never recycle them.
	return s.exec(ops.NewCtx(c.Context, s.pool, st), st, nil)
}
