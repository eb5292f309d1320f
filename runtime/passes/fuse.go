package passes

import (
	"stride/graph"
)

// toFused turns a Conv node into a FusedConv node (same inputs and
// attributes) so it can take a residual input and an activation.
func toFused(n *graph.Node, op string) {
	n.Domain = FusedDomain
	n.Op = op
}

// FuseConvAdd makes Add(conv(x), z) one FusedConv that adds z in its
// epilogue, when z has exactly the conv output's shape (a residual
// connection). The Add's output keeps its name.
func FuseConvAdd(g *graph.Graph) (bool, error) {
	if !fusedAvailable("FusedConv") {
		return false, nil
	}
	ix := newIndex(g)
	types := inferTypes(g)
	dead := map[*graph.Node]bool{}
	for _, add := range g.Nodes {
		if add.Domain != "" || add.Op != "Add" || len(add.Inputs) != 2 || dead[add] {
			continue
		}
		for i := 0; i < 2; i++ {
			y, z := add.Inputs[i], add.Inputs[1-i]
			conv := ix.producer[y]
			if conv == nil || dead[conv] || !ix.soleUse(y) || ix.constant(z) != nil {
				continue
			}
			if !(conv.Domain == "" && conv.Op == "Conv" || conv.Domain == FusedDomain && conv.Op == "FusedConv" && conv.Input(3) == "" && !conv.Has("activation")) {
				continue
			}
			ty, ok1 := types[y]
			tz, ok2 := types[z]
			if !ok1 || !ok2 || !sameShape(ty, tz) || ty.DType != tz.DType {
				continue
			}
			toFused(conv, "FusedConv")
			for len(conv.Inputs) < 3 {
				conv.Inputs = append(conv.Inputs, "")
			}
			conv.Inputs = append(conv.Inputs[:3], z)
			conv.Outputs[0] = add.Outputs[0]
			dead[add] = true
			break
		}
	}
	removeNodes(g, dead)
	return len(dead) > 0, nil
}

// FuseActivation moves Relu, LeakyRelu and Clip (with constant bounds) into
// the preceding convolution or Gemm, whose epilogue applies them.
func FuseActivation(g *graph.Graph) (bool, error) {
	ix := newIndex(g)
	dead := map[*graph.Node]bool{}
	for _, act := range g.Nodes {
		if act.Domain != "" || len(act.Outputs) != 1 || dead[act] {
			continue
		}
		attrs, ok := activationAttrs(act, ix)
		if !ok {
			continue
		}
		p := ix.producer[act.Input(0)]
		if p == nil || dead[p] || !ix.soleUse(act.Input(0)) || p.Has("activation") {
			continue
		}
		switch {
		case p.Domain == "" && p.Op == "Conv" && fusedAvailable("FusedConv"):
			toFused(p, "FusedConv")
		case p.Domain == FusedDomain && p.Op == "FusedConv":
		case p.Domain == "" && p.Op == "Gemm" && fusedAvailable("FusedGemm"):
			toFused(p, "FusedGemm")
		case p.Domain == FusedDomain && p.Op == "FusedGemm":
		default:
			continue
		}
		for k, v := range attrs {
			p.SetAttr(k, v)
		}
		p.Outputs[0] = act.Outputs[0]
		dead[act] = true
	}
	removeNodes(g, dead)
	return len(dead) > 0, nil
}

// activationAttrs describes an activation node as FusedConv attributes.
func activationAttrs(n *graph.Node, ix *index) (map[string]*graph.Attr, bool) {
	switch n.Op {
	case "Relu":
		return map[string]*graph.Attr{"activation": graph.StringAttr("Relu")}, true
	case "LeakyRelu":
		alpha, err := n.AttrFloat("alpha", 0.01)
		if err != nil {
			return nil, false
		}
		return map[string]*graph.Attr{"activation": graph.StringAttr("LeakyRelu"), "activation_alpha": graph.FloatAttr(alpha)}, true
	case "Clip":
		lo, hi := float32(-3.4028234663852886e38), float32(3.4028234663852886e38)
		for i, dst := range []*float32{&lo, &hi} {
			name := n.Input(i + 1)
			if name == "" {
				continue
			}
			t := ix.constant(name)
			if t == nil || t.Len() != 1 || !t.DType.IsFloat() {
				return nil, false
			}
			*dst = float32(t.Float64s()[0])
		}
		return map[string]*graph.Attr{"activation": graph.StringAttr("Clip"), "min": graph.FloatAttr(lo), "max": graph.FloatAttr(hi)}, true
	}
	return nil, false
}
