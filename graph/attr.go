package graph

import (
	"fmt"

	"stride/tensor"
)

// AttrKind says which field of an Attr is set.
type AttrKind uint8

// Attribute kinds.
const (
	AttrUndefined AttrKind = iota
	AttrFloat
	AttrInt
	AttrString
	AttrTensor
	AttrGraph
	AttrFloats
	AttrInts
	AttrStrings
	AttrTensors
	AttrGraphs
)

var attrKindNames = [...]string{"undefined", "float", "int", "string", "tensor", "graph", "floats", "ints", "strings", "tensors", "graphs"}

func (k AttrKind) String() string {
	if int(k) < len(attrKindNames) {
		return attrKindNames[k]
	}
	return fmt.Sprintf("attrkind(%d)", uint8(k))
}

// Attr is a typed node attribute.
type Attr struct {
	Kind    AttrKind
	Float   float32
	Int     int64
	String  string
	Tensor  *tensor.Tensor
	Graph   *Graph
	Floats  []float32
	Ints    []int64
	Strings []string
	Tensors []*tensor.Tensor
	Graphs  []*Graph
}

// Subgraphs returns the graphs an attribute holds (for If, Loop, Scan).
func (a *Attr) Subgraphs() []*Graph {
	switch a.Kind {
	case AttrGraph:
		return []*Graph{a.Graph}
	case AttrGraphs:
		return a.Graphs
	}
	return nil
}

// Constructors used by importers and the builder.
func IntAttr(v int64) *Attr             { return &Attr{Kind: AttrInt, Int: v} }
func FloatAttr(v float32) *Attr         { return &Attr{Kind: AttrFloat, Float: v} }
func StringAttr(v string) *Attr         { return &Attr{Kind: AttrString, String: v} }
func IntsAttr(v ...int64) *Attr         { return &Attr{Kind: AttrInts, Ints: v} }
func FloatsAttr(v ...float32) *Attr     { return &Attr{Kind: AttrFloats, Floats: v} }
func TensorAttr(t *tensor.Tensor) *Attr { return &Attr{Kind: AttrTensor, Tensor: t} }
func StringsAttr(v ...string) *Attr     { return &Attr{Kind: AttrStrings, Strings: v} }
func GraphAttr(g *Graph) *Attr          { return &Attr{Kind: AttrGraph, Graph: g} }

// Has reports whether the node carries attribute name.
func (n *Node) Has(name string) bool { _, ok := n.Attrs[name]; return ok }

// SetAttr sets an attribute, creating the map if needed.
func (n *Node) SetAttr(name string, a *Attr) {
	if n.Attrs == nil {
		n.Attrs = map[string]*Attr{}
	}
	n.Attrs[name] = a
}

func (n *Node) attr(name string, kind AttrKind) (*Attr, error) {
	a, ok := n.Attrs[name]
	if !ok {
		return nil, nil
	}
	if a.Kind != kind {
		return nil, fmt.Errorf("%s: attribute %q is %v, want %v", n.Label(), name, a.Kind, kind)
	}
	return a, nil
}

// AttrInt returns an int attribute or def when absent.
func (n *Node) AttrInt(name string, def int64) (int64, error) {
	a, err := n.attr(name, AttrInt)
	if a == nil || err != nil {
		return def, err
	}
	return a.Int, nil
}

// AttrFloat returns a float attribute or def when absent.
func (n *Node) AttrFloat(name string, def float32) (float32, error) {
	a, err := n.attr(name, AttrFloat)
	if a == nil || err != nil {
		return def, err
	}
	return a.Float, nil
}

// AttrString returns a string attribute or def when absent.
func (n *Node) AttrString(name string, def string) (string, error) {
	a, err := n.attr(name, AttrString)
	if a == nil || err != nil {
		return def, err
	}
	return a.String, nil
}

// AttrInts returns an ints attribute or def when absent.
func (n *Node) AttrInts(name string, def []int64) ([]int64, error) {
	a, err := n.attr(name, AttrInts)
	if a == nil || err != nil {
		return def, err
	}
	return a.Ints, nil
}

// AttrFloats returns a floats attribute or def when absent.
func (n *Node) AttrFloats(name string, def []float32) ([]float32, error) {
	a, err := n.attr(name, AttrFloats)
	if a == nil || err != nil {
		return def, err
	}
	return a.Floats, nil
}

// AttrStrings returns a strings attribute or def when absent.
func (n *Node) AttrStrings(name string, def []string) ([]string, error) {
	a, err := n.attr(name, AttrStrings)
	if a == nil || err != nil {
		return def, err
	}
	return a.Strings, nil
}

// AttrTensor returns a tensor attribute or nil when absent.
func (n *Node) AttrTensor(name string) (*tensor.Tensor, error) {
	a, err := n.attr(name, AttrTensor)
	if a == nil || err != nil {
		return nil, err
	}
	return a.Tensor, nil
}

// AttrGraph returns a graph attribute or nil when absent.
func (n *Node) AttrGraph(name string) (*Graph, error) {
	a, err := n.attr(name, AttrGraph)
	if a == nil || err != nil {
		return nil, err
	}
	return a.Graph, nil
}
