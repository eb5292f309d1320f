// Package passes owns the load-time graph optimisations: small functions
// that rewrite a graph into an equivalent one that runs faster (folding
// BatchNorm and per-channel affine ops into convolutions, fusing
// activations and residual adds into them, removing identities and dead
// nodes). Each pass keeps every graph output's name and value; each has a
// test that runs a model before and after.
package passes

import (
	"fmt"

	"stride/graph"
	"stride/ops"
	"stride/tensor"
)

// Pass rewrites a graph in place and reports whether it changed anything.
type Pass struct {
	Name string
	Run  func(g *graph.Graph) (bool, error)
}

// Default lists the passes Optimize runs, in order.
var Default = []Pass{
	{"constants-to-initializers", ConstantsToInitializers},
	{"remove-identity", RemoveIdentity},
	{"fold-conv-batchnorm", FoldConvBatchNorm},
	{"fold-conv-affine", FoldConvAffine},
	{"fuse-conv-add", FuseConvAdd},
	{"fuse-activation", FuseActivation},
	{"fuse-batchnorm-relu", FuseBatchNormRelu},
	{"remove-dead", RemoveDead},
}

// Optimize returns an optimised copy of g; g itself is not modified.
func Optimize(g *graph.Graph) (*graph.Graph, error) {
	out := Clone(g)
	for _, p := range Default {
		if _, err := p.Run(out); err != nil {
			return nil, fmt.Errorf("pass %s: %w", p.Name, err)
		}
	}
	return out, nil
}

// Clone copies the graph structure (nodes, values, attribute maps); tensors
// are shared, since passes never modify a tensor in place.
func Clone(g *graph.Graph) *graph.Graph {
	c := *g
	c.Nodes = make([]*graph.Node, len(g.Nodes))
	for i, n := range g.Nodes {
		nn := *n
		nn.Inputs = append([]string{}, n.Inputs...)
		nn.Outputs = append([]string{}, n.Outputs...)
		nn.Attrs = make(map[string]*graph.Attr, len(n.Attrs))
		for k, v := range n.Attrs {
			nn.Attrs[k] = v
		}
		c.Nodes[i] = &nn
	}
	c.Inputs = append([]*graph.Value{}, g.Inputs...)
	c.Outputs = append([]*graph.Value{}, g.Outputs...)
	c.Initializers = make(map[string]*tensor.Tensor, len(g.Initializers))
	for k, v := range g.Initializers {
		c.Initializers[k] = v
	}
	c.ValueInfo = make(map[string]*graph.Value, len(g.ValueInfo))
	for k, v := range g.ValueInfo {
		c.ValueInfo[k] = v
	}
	c.Opsets = make(map[string]int64, len(g.Opsets))
	for k, v := range g.Opsets {
		c.Opsets[k] = v
	}
	return &c
}

// index answers the questions passes ask about a graph.
type index struct {
	g         *graph.Graph
	producer  map[string]*graph.Node
	consumers map[string][]*graph.Node
	isOutput  map[string]bool
}

func newIndex(g *graph.Graph) *index {
	ix := &index{g: g, producer: g.Producers(), consumers: g.Consumers(), isOutput: map[string]bool{}}
	for _, v := range g.Outputs {
		ix.isOutput[v.Name] = true
	}
	return ix
}

// soleUse reports whether value v is read by exactly one node and is not a
// graph output, so the producer may absorb its consumer.
func (ix *index) soleUse(v string) bool {
	return len(ix.consumers[v]) == 1 && !ix.isOutput[v]
}

// constant returns an initializer by name.
func (ix *index) constant(name string) *tensor.Tensor {
	if name == "" {
		return nil
	}
	return ix.g.Initializers[name]
}

// rename makes every reader of `from` read `to` instead.
func rename(g *graph.Graph, from, to string) {
	for _, n := range g.Nodes {
		for i, in := range n.Inputs {
			if in == from {
				n.Inputs[i] = to
			}
		}
	}
}

// removeNodes drops the given nodes from g.
func removeNodes(g *graph.Graph, dead map[*graph.Node]bool) {
	if len(dead) == 0 {
		return
	}
	kept := g.Nodes[:0]
	for _, n := range g.Nodes {
		if !dead[n] {
			kept = append(kept, n)
		}
	}
	g.Nodes = kept
}

var uniq int

func freshName(g *graph.Graph, base string) string {
	for {
		uniq++
		name := fmt.Sprintf("%s__opt%d", base, uniq)
		if _, taken := g.Initializers[name]; !taken {
			return name
		}
	}
}

// fusedAvailable reports whether the runtime has the fused kernels.
func fusedAvailable(op string) bool {
	_, ok := ops.Lookup(FusedDomain, op)
	return ok
}

// FusedDomain is the domain of Stride's internal fused ops (FusedConv,
// FusedGemm, FusedBatchNorm). They exist only inside a Session: exported graphs are never
// optimised.
const FusedDomain = "stride"
