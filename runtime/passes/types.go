package passes

import (
	"stride/graph"
	"stride/ops"
)

// inferTypes propagates value types through the graph with the ops' shape
// functions, starting from inputs, initializers and the ValueInfo the
// model carries. Values it cannot type are absent from the result.
func inferTypes(g *graph.Graph) map[string]graph.Type {
	types := map[string]graph.Type{}
	for name, v := range g.ValueInfo {
		types[name] = v.Type
	}
	for _, v := range g.Inputs {
		types[v.Name] = v.Type
	}
	for name, t := range g.Initializers {
		types[name] = graph.TensorType(t.DType, t.Shape...)
	}
	order, err := g.TopoOrder()
	if err != nil {
		return types
	}
	for _, n := range order {
		def, ok := ops.Lookup(n.Domain, n.Op)
		if !ok || def.Infer == nil {
			continue
		}
		b := &ops.Build{Node: n, Opset: g.Opsets[n.Domain]}
		for _, in := range n.Inputs {
			b.Consts = append(b.Consts, g.Initializers[in])
			b.Types = append(b.Types, types[in])
		}
		outs, err := safeInfer(def, b)
		if err != nil {
			continue
		}
		for i, t := range outs {
			if i < len(n.Outputs) && n.Outputs[i] != "" && t.Ranked {
				types[n.Outputs[i]] = t
			}
		}
	}
	return types
}

func safeInfer(def *ops.Def, b *ops.Build) (outs []graph.Type, err error) {
	defer func() {
		if r := recover(); r != nil {
			outs, err = nil, errPanic
		}
	}()
	return def.Infer(b, b.Types)
}

type panicErr struct{}

func (panicErr) Error() string { return "shape function panicked" }

var errPanic = panicErr{}

// sameShape reports whether two types have provably equal shapes: equal
// known dims, or the same symbolic name.
func sameShape(a, b graph.Type) bool {
	if !a.Ranked || !b.Ranked || len(a.Shape) != len(b.Shape) {
		return false
	}
	for i := range a.Shape {
		x, y := a.Shape[i], b.Shape[i]
		switch {
		case x.Known() && y.Known():
			if x.Size != y.Size {
				return false
			}
		case x.Param != "" && x.Param == y.Param:
		default:
			return false
		}
	}
	return true
}
