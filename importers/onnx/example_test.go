package onnx_test

import (
	"fmt"

	"stride/importers/onnx"
)

// Load reads a model file into the op graph: its inputs, outputs and opset
// are there for a caller to inspect before running it.
func ExampleLoad() {
	m, err := onnx.Load("../../testdata/models/fashion_mnist.onnx")
	if err != nil {
		fmt.Println(err)
		return
	}
	g := m.Graph
	fmt.Println(g.Inputs[0].Name, g.Inputs[0].Type)
	fmt.Println(g.Outputs[0].Name, g.Outputs[0].Type)
	fmt.Println("opset", g.Opset(), "nodes", len(g.Nodes))
	// Output:
	// data float32[N,1,28,28]
	// prob float32[N,10]
	// opset 13 nodes 9
}
