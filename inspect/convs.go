package inspect

import "stride/graph"

// ConvMap names the value holding one convolution's activation maps.
type ConvMap struct {
	Conv *graph.Node
	// Value is the convolution's output, or the output of the chain of
	// per-channel and activation ops (bias Add, BatchNormalization, Relu,
	// ...) that alone reads it: what the next layer sees.
	Value string
	// After lists the ops of that chain.
	After []string
}

// chainOps keep a convolution's maps one per channel; a lone consumer of
// one of these is followed.
var chainOps = map[string]bool{
	"Relu": true, "LeakyRelu": true, "PRelu": true, "Elu": true, "Selu": true, "Sigmoid": true,
	"Tanh": true, "Clip": true, "HardSigmoid": true, "HardSwish": true, "Softplus": true,
	"Mish": true, "Gelu": true, "BatchNormalization": true, "Add": true, "Mul": true,
	"Sub": true, "Div": true, "Identity": true, "Dropout": true,
}

// ConvMaps lists the convolutions of g in execution order with the values
// holding their activation maps.
func ConvMaps(g *graph.Graph) ([]ConvMap, error) {
	order, err := g.TopoOrder()
	if err != nil {
		return nil, err
	}
	consumers := g.Consumers()
	outputs := map[string]bool{}
	for _, v := range g.Outputs {
		outputs[v.Name] = true
	}
	var out []ConvMap
	for _, n := range order {
		if n.Op != "Conv" || len(n.Outputs) == 0 {
			continue
		}
		m := ConvMap{Conv: n, Value: n.Outputs[0]}
		for !outputs[m.Value] {
			next := consumers[m.Value]
			if len(next) != 1 || !chainOps[next[0].Op] || len(next[0].Outputs) == 0 || next[0].Input(0) != m.Value {
				break
			}
			m.Value = next[0].Outputs[0]
			m.After = append(m.After, next[0].Op)
		}
		out = append(out, m)
	}
	return out, nil
}
