package graph

import (
	"errors"
	"fmt"
	"strings"
)

// Validate checks that the graph is well formed: names are unique, every
// node input is a graph input, an initializer or some node's output, there
// is no cycle, and every graph output is produced. outer lists names visible
// from an enclosing graph (for subgraphs); pass nil for a top-level graph.
func (g *Graph) Validate(outer map[string]bool) error {
	defined := map[string]string{} // value -> what defines it
	define := func(name, by string) error {
		if name == "" {
			return nil
		}
		if prev, ok := defined[name]; ok {
			return fmt.Errorf("value %q is defined twice (by %s and by %s)", name, prev, by)
		}
		defined[name] = by
		return nil
	}
	for _, v := range g.Inputs {
		if v.Name == "" {
			return errors.New("graph input with an empty name")
		}
		if err := define(v.Name, "graph input"); err != nil {
			return err
		}
	}
	for name := range g.Initializers {
		if _, isInput := defined[name]; isInput {
			continue // an input with a default value (ONNX allows it)
		}
		if err := define(name, "initializer"); err != nil {
			return err
		}
	}
	for _, n := range g.Nodes {
		for _, o := range n.Outputs {
			if err := define(o, n.Label()); err != nil {
				return err
			}
		}
	}
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			if in == "" {
				continue
			}
			if _, ok := defined[in]; !ok && !outer[in] {
				return fmt.Errorf("%s: input %q is not defined by any node, input or initializer", n.Label(), in)
			}
		}
		for name, a := range n.Attrs {
			subs := a.Subgraphs()
			if len(subs) == 0 {
				continue
			}
			scope := map[string]bool{}
			for k := range outer {
				scope[k] = true
			}
			for k := range defined {
				scope[k] = true
			}
			for _, sub := range subs {
				if err := sub.Validate(scope); err != nil {
					return fmt.Errorf("%s: subgraph %q: %w", n.Label(), name, err)
				}
			}
		}
	}
	for _, v := range g.Outputs {
		if _, ok := defined[v.Name]; !ok && !outer[v.Name] {
			return fmt.Errorf("graph output %q is not produced by any node", v.Name)
		}
	}
	if _, err := g.TopoOrder(); err != nil {
		return err
	}
	return nil
}

// TopoOrder returns the nodes in an order where every node comes after the
// producers of its inputs, keeping the stored order where it already is
// valid. It fails on a cycle and names a node on it.
func (g *Graph) TopoOrder() ([]*Node, error) {
	prod := g.Producers()
	state := make(map[*Node]uint8, len(g.Nodes)) // 0 new, 1 on stack, 2 done
	order := make([]*Node, 0, len(g.Nodes))
	type frame struct {
		n    *Node
		deps []*Node
		i    int
	}
	deps := func(n *Node) []*Node {
		var d []*Node
		add := func(name string) {
			if p := prod[name]; p != nil && p != n {
				d = append(d, p)
			} else if p == n {
				d = append(d, n) // self-loop
			}
		}
		for _, in := range n.Inputs {
			if in != "" {
				add(in)
			}
		}
		for _, a := range n.Attrs {
			for _, sub := range a.Subgraphs() {
				for _, r := range sub.OuterRefs() {
					add(r)
				}
			}
		}
		return d
	}
	for _, root := range g.Nodes {
		if state[root] != 0 {
			continue
		}
		stack := []frame{{n: root, deps: deps(root)}}
		state[root] = 1
		for len(stack) > 0 {
			f := &stack[len(stack)-1]
			if f.i < len(f.deps) {
				d := f.deps[f.i]
				f.i++
				switch state[d] {
				case 1:
					var cyc []string
					for _, s := range stack {
						cyc = append(cyc, s.n.Label())
					}
					return nil, fmt.Errorf("graph has a cycle through %s (path: %s)", d.Label(), strings.Join(cyc, " -> "))
				case 0:
					state[d] = 1
					stack = append(stack, frame{n: d, deps: deps(d)})
				}
				continue
			}
			state[f.n] = 2
			order = append(order, f.n)
			stack = stack[:len(stack)-1]
		}
	}
	return order, nil
}
