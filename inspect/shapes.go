package inspect

import (
	"context"
	"fmt"

	"stride/graph"
	"stride/runtime"
	"stride/tensor"
)

// zeroFeeds makes a zero tensor for every input without a default.
// Symbolic dims become batch for dim 0 and size elsewhere on the image
// input (whose shape is given), 1 on other inputs.
func zeroFeeds(g *graph.Graph, image string, imageShape []int, batch int) (map[string]*tensor.Tensor, error) {
	feeds := map[string]*tensor.Tensor{}
	for _, v := range g.Inputs {
		if _, ok := g.Initializers[v.Name]; ok {
			continue
		}
		dt := v.Type.DType
		if dt == tensor.Undefined {
			dt = tensor.Float32
		}
		var shape []int
		if v.Name == image {
			shape = imageShape
		} else {
			if !v.Type.Ranked {
				return nil, fmt.Errorf("input %q has an unknown rank", v.Name)
			}
			for i, d := range v.Type.Shape {
				switch {
				case d.Known():
					shape = append(shape, int(d.Size))
				case i == 0:
					shape = append(shape, batch)
				default:
					shape = append(shape, 1)
				}
			}
		}
		t, err := tensor.New(dt, shape...)
		if err != nil {
			return nil, fmt.Errorf("input %q: %w", v.Name, err)
		}
		feeds[v.Name] = t
	}
	return feeds, nil
}

// RunAll runs g once on feeds with every node output exposed, and returns
// each value's tensor by name. g is not modified.
func RunAll(ctx context.Context, g *graph.Graph, feeds map[string]*tensor.Tensor, opts ...runtime.Option) (map[string]*tensor.Tensor, error) {
	return RunValues(ctx, g, feeds, allOutputs(g), opts...)
}

// RunValues runs g once on feeds with the named values as its outputs.
func RunValues(ctx context.Context, g *graph.Graph, feeds map[string]*tensor.Tensor, names []string, opts ...runtime.Option) (map[string]*tensor.Tensor, error) {
	c := *g
	c.Outputs = nil
	for _, name := range names {
		v := &graph.Value{Name: name}
		if t, ok := g.TypeOf(name); ok {
			v.Type = t
		}
		c.Outputs = append(c.Outputs, v)
	}
	s, err := runtime.NewSession(&c, opts...)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return s.Run(ctx, feeds)
}

func allOutputs(g *graph.Graph) []string {
	var names []string
	seen := map[string]bool{}
	for _, n := range g.Nodes {
		for _, o := range n.Outputs {
			if o != "" && !seen[o] {
				seen[o] = true
				names = append(names, o)
			}
		}
	}
	return names
}
