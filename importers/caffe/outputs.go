package caffe

import (
	"stride/graph"
)

// SelectOutputs returns the net's graph with the named blobs (or any graph
// values) as outputs, in order; see graph.Graph.WithOutputs. For a Caffe net a blob's
// name gives the blob's value after the forward pass (after any in-place
// layers), as Caffe holds it.
func (n *Net) SelectOutputs(names []string) (*graph.Graph, error) {
	return n.Graph.WithOutputs(names)
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
