package onnx

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"stride/graph"
	"stride/proto/onnxpb"
)

// maxInlineDepth bounds recursive function expansion (a function calling
// itself would otherwise never end).
const maxInlineDepth = 32

// inline expands a call of a model-local function into the function's body,
// with the body's values renamed apart and its attribute references bound
// to the caller's attributes.
func (c *converter) inline(call *onnxpb.NodeProto, f *onnxpb.FunctionProto, g *graph.Graph) ([]*graph.Node, error) {
	c.depth++
	defer func() { c.depth-- }()
	if c.depth > maxInlineDepth {
		return nil, fmt.Errorf("function %q: calls nest more than %d deep (recursive?)", f.GetName(), maxInlineDepth)
	}
	rename := map[string]string{}
	for i, name := range f.GetInput() {
		if i < len(call.GetInput()) {
			rename[name] = call.GetInput()[i]
		} else {
			rename[name] = ""
		}
	}
	for i, name := range f.GetOutput() {
		if i < len(call.GetOutput()) {
			rename[name] = call.GetOutput()[i]
		}
	}
	callAttrs := map[string]*onnxpb.AttributeProto{}
	for _, a := range f.GetAttributeProto() {
		callAttrs[a.GetName()] = a // defaults
	}
	for _, a := range call.GetAttribute() {
		callAttrs[a.GetName()] = a
	}
	prefix := c.fresh(f.GetName())
	mapName := func(n string) string {
		if n == "" {
			return ""
		}
		if r, ok := rename[n]; ok {
			return r
		}
		r := prefix + "/" + n
		rename[n] = r
		return r
	}
	var out []*graph.Node
	for _, bn := range f.GetNode() {
		nn := proto.Clone(bn).(*onnxpb.NodeProto)
		for i, in := range nn.Input {
			nn.Input[i] = mapName(in)
		}
		for i, o := range nn.Output {
			nn.Output[i] = mapName(o)
		}
		var attrs []*onnxpb.AttributeProto
		for _, a := range nn.Attribute {
			if ref := a.GetRefAttrName(); ref != "" {
				src, ok := callAttrs[ref]
				if !ok {
					continue // not given by the caller: the op's default applies
				}
				b := proto.Clone(src).(*onnxpb.AttributeProto)
				b.Name = a.GetName()
				a = b
			}
			attrs = append(attrs, a)
		}
		nn.Attribute = attrs
		if nn.Name != "" {
			nn.Name = prefix + "/" + nn.Name
		}
		nodes, err := c.node(nn, g)
		if err != nil {
			return nil, fmt.Errorf("in function %q: %w", f.GetName(), err)
		}
		out = append(out, nodes...)
	}
	return out, nil
}
