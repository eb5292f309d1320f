package graph

import (
	"fmt"
	"sort"
	"strings"
)

// WithOutputs returns a copy of g (sharing nodes and initializers) whose
// outputs are the named values, in that order. Any value of the graph can
// be named, intermediate or not: this is how `infer run --outputs A,B`
// returns intermediate values.
func (g *Graph) WithOutputs(names []string) (*Graph, error) {
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
		out.Outputs = append(out.Outputs, &Value{Name: name, Type: t})
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
