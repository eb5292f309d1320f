package caffe

import (
	"fmt"
	"sort"
	"strings"

	"stride/graph"
)

// SelectOutputs returns a copy of g (sharing nodes and initializers) whose
// outputs are the named values, in that order. Any value of the graph can
// be named, intermediate or not; for a graph imported from Caffe, a blob's
// name gives the blob's value after the forward pass (after any in-place
// layers), as Caffe holds it. It works for any graph (ONNX too), which is
// how `infer run --outputs A,B` gets intermediate values.
func SelectOutputs(g *graph.Graph, names []string) (*graph.Graph, error) {
	if len(names) == 0 {
		return g, nil
	}
	known := map[string]bool{}
	for _, v := range g.Inputs {
		known[v.Name] = true
	}
	for _, n := range g.Nodes {
		for _, o := range n.Outputs {
			if o != "" {
				known[o] = true
			}
		}
	}
	out := *g
	out.Outputs = nil
	seen := map[string]bool{}
	for _, name := range names {
		if !known[name] {
			if _, isInit := g.Initializers[name]; !isInit {
				return nil, fmt.Errorf("no value named %q in the graph%s", name, suggest(name, known))
			}
		}
		if seen[name] {
			return nil, fmt.Errorf("output %q is asked for twice", name)
		}
		seen[name] = true
		t, _ := g.TypeOf(name)
		out.Outputs = append(out.Outputs, &graph.Value{Name: name, Type: t})
	}
	return &out, nil
}

// suggest lists a few known names close to name, for error messages.
func suggest(name string, known map[string]bool) string {
	var close []string
	low := strings.ToLower(name)
	for k := range known {
		lk := strings.ToLower(k)
		if strings.Contains(lk, low) || strings.Contains(low, lk) {
			close = append(close, k)
		}
	}
	sort.Strings(close)
	if len(close) == 0 {
		return ""
	}
	if len(close) > 6 {
		close = close[:6]
	}
	return " (similar names: " + strings.Join(close, ", ") + ")"
}

// SelectOutputs returns the net's graph with the named blobs (or any graph
// values) as outputs, in order; see the package-level SelectOutputs.
func (n *Net) SelectOutputs(names []string) (*graph.Graph, error) {
	return SelectOutputs(n.Graph, names)
}

// Blobs lists the net's blob names in the order they are first written.
func (n *Net) Blobs() []string {
	var out []string
	seen := map[string]bool{}
	for _, L := range n.Layers {
		if L.Dropped {
			continue
		}
		for _, t := range L.Tops {
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	return out
}
