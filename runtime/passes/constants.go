package passes

import "stride/graph"

// ConstantsToInitializers turns Constant nodes into initializers, so the
// passes after it see their values (PyTorch exports Clip's bounds, Reshape's
// shapes and the like as Constant nodes). A Constant whose output is a graph
// output stays a node: initializers are shared, outputs are handed out.
func ConstantsToInitializers(g *graph.Graph) (bool, error) {
	ix := newIndex(g)
	dead := map[*graph.Node]bool{}
	for _, n := range g.Nodes {
		if n.Domain != "" || n.Op != "Constant" || len(n.Outputs) != 1 || ix.isOutput[n.Outputs[0]] {
			continue
		}
		t, err := n.AttrTensor("value")
		if err != nil || t == nil {
			continue
		}
		if _, taken := g.Initializers[n.Outputs[0]]; taken {
			continue
		}
		g.Initializers[n.Outputs[0]] = t
		dead[n] = true
	}
	removeNodes(g, dead)
	return len(dead) > 0, nil
}
