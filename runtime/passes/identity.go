package passes

import "stride/graph"

// RemoveIdentity removes nodes that pass their input through unchanged:
// Identity, Dropout in inference form (no training_mode input, no mask
// consumer), Transpose with the identity permutation and Reshape to the
// input's own (known) shape. When the removed node's output is a graph
// output, the node is kept so the output keeps its name.
func RemoveIdentity(g *graph.Graph) (bool, error) {
	ix := newIndex(g)
	types := inferTypes(g)
	dead := map[*graph.Node]bool{}
	for _, n := range g.Nodes {
		if !(isPassThrough(n, ix) || isNoopReshape(n, ix, types)) || ix.isOutput[n.Outputs[0]] {
			continue
		}
		rename(g, n.Outputs[0], n.Inputs[0])
		dead[n] = true
	}
	removeNodes(g, dead)
	return len(dead) > 0, nil
}

func isPassThrough(n *graph.Node, ix *index) bool {
	if n.Domain != "" || len(n.Inputs) == 0 || n.Inputs[0] == "" || len(n.Outputs) == 0 {
		return false
	}
	switch n.Op {
	case "Transpose":
		perm, err := n.AttrInts("perm", nil)
		if err != nil || perm == nil {
			return false
		}
		for i, p := range perm {
			if int64(i) != p {
				return false
			}
		}
		return len(n.Outputs) == 1
	case "Identity":
		return len(n.Outputs) == 1
	case "Dropout":
		if n.Input(2) != "" { // training_mode given: only a constant false is safe
			t := ix.constant(n.Input(2))
			if t == nil || t.Float64s()[0] != 0 {
				return false
			}
		}
		return len(n.Outputs) == 1 || n.Outputs[1] == "" || len(ix.consumers[n.Outputs[1]]) == 0 && !ix.isOutput[n.Outputs[1]]
	}
	return false
}

// isNoopReshape reports a Reshape (or Flatten) whose result has the
// input's own static shape.
func isNoopReshape(n *graph.Node, ix *index, types map[string]graph.Type) bool {
	if n.Domain != "" || (n.Op != "Reshape" && n.Op != "Flatten" && n.Op != "Squeeze" && n.Op != "Unsqueeze") || len(n.Outputs) != 1 {
		return false
	}
	in, ok1 := types[n.Input(0)]
	out, ok2 := types[n.Outputs[0]]
	if !ok1 || !ok2 {
		return false
	}
	a, okA := in.Static()
	b, okB := out.Static()
	if !okA || !okB || len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
