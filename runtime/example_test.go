package runtime_test

import (
	"context"
	"fmt"

	"stride/graph"
	"stride/runtime"
	"stride/tensor"
)

// A graph built in code (importers produce the same kind) runs in a
// Session; the batch dim is symbolic and bound by each Run.
func ExampleNewSession() {
	g := graph.New("example")
	g.Opsets[""] = 17
	g.Inputs = []*graph.Value{{Name: "x", Type: graph.Type{DType: tensor.Float32, Ranked: true,
		Shape: []graph.Dim{graph.Sym("batch"), graph.Fixed(3)}}}}
	g.Initializers["w"] = tensor.From([]int{3}, []float32{1, -1, 2})
	g.Nodes = []*graph.Node{
		{Name: "mul", Op: "Mul", Inputs: []string{"x", "w"}, Outputs: []string{"xw"}},
		{Name: "relu", Op: "Relu", Inputs: []string{"xw"}, Outputs: []string{"y"}},
	}
	g.Outputs = []*graph.Value{{Name: "y"}}

	s, err := runtime.NewSession(g, runtime.WithThreads(1))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	x := tensor.From([]int{2, 3}, []float32{1, 2, 3, -1, -2, -3})
	out, err := s.Run(context.Background(), map[string]*tensor.Tensor{"x": x})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(out["y"])
	// Output: float32[2 3][1 0 6 0 2 0]
}
