package passes

import "stride/graph"

// RemoveDead drops nodes none of whose outputs reach a graph output, and
// initializers nothing reads. Random generators are dead like any other node
// when unused: removing them changes no output.
func RemoveDead(g *graph.Graph) (bool, error) {
	live := map[string]bool{}
	for _, v := range g.Outputs {
		live[v.Name] = true
	}
	prod := g.Producers()
	keep := map[*graph.Node]bool{}
	var stack []string
	for name := range live {
		stack = append(stack, name)
	}
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n := prod[v]
		if n == nil || keep[n] {
			continue
		}
		keep[n] = true
		reads := append([]string{}, n.Inputs...)
		for _, a := range n.Attrs {
			for _, sub := range a.Subgraphs() {
				reads = append(reads, sub.OuterRefs()...)
			}
		}
		for _, in := range reads {
			if in != "" && !live[in] {
				live[in] = true
				stack = append(stack, in)
			}
		}
	}
	changed := false
	dead := map[*graph.Node]bool{}
	for _, n := range g.Nodes {
		if !keep[n] {
			dead[n] = true
			changed = true
		}
	}
	removeNodes(g, dead)
	for name := range g.Initializers {
		if !live[name] && g.Input(name) == nil {
			delete(g.Initializers, name)
			changed = true
		}
	}
	return changed, nil
}
