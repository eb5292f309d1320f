package graph

import (
	"strings"
	"testing"

	"stride/tensor"
)

func chain() *Graph {
	g := New("t")
	g.Inputs = []*Value{{Name: "x", Type: Type{DType: tensor.Float32, Shape: []Dim{Sym("N"), Fixed(3)}, Ranked: true}}}
	g.Initializers["w"] = tensor.From([]int{3}, []float32{1, 2, 3})
	// Stored out of order on purpose: TopoOrder must fix it.
	g.Nodes = []*Node{
		{Name: "b", Op: "Relu", Inputs: []string{"y"}, Outputs: []string{"z"}},
		{Name: "a", Op: "Mul", Inputs: []string{"x", "w"}, Outputs: []string{"y"}},
	}
	g.Outputs = []*Value{{Name: "z"}}
	return g
}

func TestValidateAndOrder(t *testing.T) {
	g := chain()
	if err := g.Validate(nil); err != nil {
		t.Fatal(err)
	}
	order, err := g.TopoOrder()
	if err != nil {
		t.Fatal(err)
	}
	if order[0].Name != "a" || order[1].Name != "b" {
		t.Fatalf("order %v, %v", order[0].Name, order[1].Name)
	}
}

func TestValidateErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		mutate func(g *Graph)
		want   string
	}{
		"missing input": {func(g *Graph) { g.Nodes[1].Inputs[1] = "nope" }, `input "nope" is not defined`},
		"cycle":         {func(g *Graph) { g.Nodes[1].Inputs[0] = "z" }, "cycle"},
		"dup output":    {func(g *Graph) { g.Nodes[0].Outputs[0] = "y" }, "defined twice"},
		"bad output":    {func(g *Graph) { g.Outputs[0].Name = "q" }, `graph output "q"`},
	} {
		g := chain()
		tc.mutate(g)
		err := g.Validate(nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want error containing %q", name, err, tc.want)
		}
	}
}

func TestSubgraphOuterRefs(t *testing.T) {
	body := New("body")
	body.Nodes = []*Node{{Op: "Add", Inputs: []string{"outer", "outer"}, Outputs: []string{"r"}}}
	body.Outputs = []*Value{{Name: "r"}}
	if refs := body.OuterRefs(); len(refs) != 1 || refs[0] != "outer" {
		t.Fatalf("refs %v", refs)
	}
	g := chain()
	n := &Node{Op: "If", Inputs: []string{"x"}, Outputs: []string{"o"}}
	n.SetAttr("then_branch", GraphAttr(body))
	g.Nodes = append(g.Nodes, n)
	if err := g.Validate(nil); err == nil || !strings.Contains(err.Error(), "outer") {
		t.Fatalf("undefined outer ref accepted: %v", err)
	}
	body.Nodes[0].Inputs = []string{"y", "z"}
	if err := g.Validate(nil); err != nil {
		t.Fatal(err)
	}
}

func TestAttrKinds(t *testing.T) {
	n := &Node{Op: "Conv"}
	n.SetAttr("group", IntAttr(2))
	if v, err := n.AttrInt("group", 1); err != nil || v != 2 {
		t.Fatal(v, err)
	}
	if v, err := n.AttrInt("missing", 7); err != nil || v != 7 {
		t.Fatal(v, err)
	}
	if _, err := n.AttrFloat("group", 0); err == nil {
		t.Fatal("kind mismatch accepted")
	}
}
