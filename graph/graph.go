// Package graph owns Stride's op graph: the one intermediate form that every
// importer produces and the runtime, the optimisation passes, the trainer and
// the exporter consume. A Graph is values (named, typed, with shapes that may
// hold symbolic dims), nodes (op type, typed attributes, inputs, outputs),
// initializers, and graph inputs and outputs. It knows nothing of files or
// kernels.
package graph

import (
	"fmt"
	"sort"
	"strings"

	"stride/tensor"
)

// Dim is one dimension of a shape: a known size (Size >= 0), a named
// symbolic size such as "batch" (Param != ""), or unknown (Size < 0, no Param).
type Dim struct {
	Size  int64
	Param string
}

// Known reports whether the dim has a concrete size.
func (d Dim) Known() bool { return d.Param == "" && d.Size >= 0 }

func (d Dim) String() string {
	switch {
	case d.Param != "":
		return d.Param
	case d.Size < 0:
		return "?"
	}
	return fmt.Sprint(d.Size)
}

// Fixed returns a known dim.
func Fixed(n int) Dim { return Dim{Size: int64(n)} }

// Sym returns a symbolic dim.
func Sym(name string) Dim { return Dim{Size: -1, Param: name} }

// Unknown is a dim of unknown size.
var Unknown = Dim{Size: -1}

// Type is the type of a value: element type and shape. Shape is nil with
// Ranked false when even the rank is unknown.
type Type struct {
	DType  tensor.DType
	Shape  []Dim
	Ranked bool
}

// TensorType returns a ranked type with fully known dims.
func TensorType(dt tensor.DType, dims ...int) Type {
	s := make([]Dim, len(dims))
	for i, d := range dims {
		s[i] = Fixed(d)
	}
	return Type{DType: dt, Shape: s, Ranked: true}
}

// Static returns the concrete dims if every dim is known.
func (t Type) Static() ([]int, bool) {
	if !t.Ranked {
		return nil, false
	}
	out := make([]int, len(t.Shape))
	for i, d := range t.Shape {
		if !d.Known() {
			return nil, false
		}
		out[i] = int(d.Size)
	}
	return out, true
}

func (t Type) String() string {
	if !t.Ranked {
		return t.DType.String() + "[...]"
	}
	parts := make([]string, len(t.Shape))
	for i, d := range t.Shape {
		parts[i] = d.String()
	}
	return t.DType.String() + "[" + strings.Join(parts, ",") + "]"
}

// Value is a named, typed edge of the graph.
type Value struct {
	Name string
	Type Type
	Doc  string
}

// Node applies one operator.
type Node struct {
	Name   string
	Op     string // operator type, e.g. "Conv"
	Domain string // "" for the default ONNX domain
	// Inputs name the consumed values in order; "" marks an omitted
	// optional input.
	Inputs  []string
	Outputs []string
	Attrs   map[string]*Attr
	// Source locates the node in the file it came from (for error messages),
	// e.g. "layer conv1 (line 12)". Optional.
	Source string
}

// Label names the node for error messages: its name, else its first output.
func (n *Node) Label() string {
	if n.Name != "" {
		return fmt.Sprintf("%s %q", n.Op, n.Name)
	}
	if len(n.Outputs) > 0 {
		return fmt.Sprintf("%s (output %q)", n.Op, n.Outputs[0])
	}
	return n.Op
}

// Input returns the i-th input name, or "" when absent.
func (n *Node) Input(i int) string {
	if i < len(n.Inputs) {
		return n.Inputs[i]
	}
	return ""
}

// Graph is a computation graph.
type Graph struct {
	Name  string
	Nodes []*Node
	// Inputs are the values fed at run time (initializers excluded).
	Inputs  []*Value
	Outputs []*Value
	// Initializers are constant tensors by value name.
	Initializers map[string]*tensor.Tensor
	// ValueInfo holds known types of intermediate values.
	ValueInfo map[string]*Value
	// Opsets maps an operator-set domain ("" for ONNX) to its version.
	Opsets map[string]int64
	// Meta is model-level information carried for export and inspection.
	Meta Meta
}

// Meta describes where a graph came from.
type Meta struct {
	Producer        string
	ProducerVersion string
	Doc             string
	Domain          string
	ModelVersion    int64
	IRVersion       int64
	Props           map[string]string
}

// New returns an empty graph.
func New(name string) *Graph {
	return &Graph{
		Name:         name,
		Initializers: map[string]*tensor.Tensor{},
		ValueInfo:    map[string]*Value{},
		Opsets:       map[string]int64{},
	}
}

// Opset returns the version of the default ONNX domain.
func (g *Graph) Opset() int64 { return g.Opsets[""] }

// Input returns the graph input named name.
func (g *Graph) Input(name string) *Value {
	for _, v := range g.Inputs {
		if v.Name == name {
			return v
		}
	}
	return nil
}

// TypeOf returns what the graph knows of a value's type.
func (g *Graph) TypeOf(name string) (Type, bool) {
	if t, ok := g.Initializers[name]; ok {
		return TensorType(t.DType, t.Shape...), true
	}
	for _, v := range g.Inputs {
		if v.Name == name {
			return v.Type, true
		}
	}
	if v, ok := g.ValueInfo[name]; ok {
		return v.Type, true
	}
	for _, v := range g.Outputs {
		if v.Name == name {
			return v.Type, true
		}
	}
	return Type{}, false
}

// Producers maps every value name to the node that writes it.
func (g *Graph) Producers() map[string]*Node {
	m := make(map[string]*Node, len(g.Nodes))
	for _, n := range g.Nodes {
		for _, o := range n.Outputs {
			if o != "" {
				m[o] = n
			}
		}
	}
	return m
}

// Consumers maps every value name to the nodes that read it, in node order.
func (g *Graph) Consumers() map[string][]*Node {
	m := map[string][]*Node{}
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			if in != "" {
				m[in] = append(m[in], n)
			}
		}
		for _, a := range n.Attrs {
			for _, sub := range a.Subgraphs() {
				for _, name := range sub.OuterRefs() {
					m[name] = append(m[name], n)
				}
			}
		}
	}
	return m
}

// OuterRefs lists the names a (sub)graph reads but does not define itself:
// for a subgraph of If/Loop/Scan these come from the enclosing scope.
func (g *Graph) OuterRefs() []string {
	defined := map[string]bool{}
	for _, v := range g.Inputs {
		defined[v.Name] = true
	}
	for name := range g.Initializers {
		defined[name] = true
	}
	for _, n := range g.Nodes {
		for _, o := range n.Outputs {
			defined[o] = true
		}
	}
	seen := map[string]bool{}
	var out []string
	add := func(name string) {
		if name != "" && !defined[name] && !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			add(in)
		}
		for _, a := range n.Attrs {
			for _, sub := range a.Subgraphs() {
				for _, r := range sub.OuterRefs() {
					add(r)
				}
			}
		}
	}
	for _, v := range g.Outputs {
		add(v.Name)
	}
	return out
}

// SortedInitializerNames returns initializer names in a stable order.
func (g *Graph) SortedInitializerNames() []string {
	names := make([]string, 0, len(g.Initializers))
	for n := range g.Initializers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
