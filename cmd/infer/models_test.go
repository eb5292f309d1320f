package main

import (
	"path/filepath"
	"testing"

	"stride/graph"
	"stride/importers/onnx"
	"stride/tensor"
)

// Variants of the built-in model, written to t's temporary folder, for
// checking that classify reads layouts, fixed batches and distributions.

func loadDefault(t *testing.T) *graph.Graph {
	t.Helper()
	m, err := onnx.Load(filepath.Join(repoRoot, "testdata/models/fashion_mnist.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	return m.Graph
}

func save(t *testing.T, g *graph.Graph, name string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := onnx.Save(g, p); err != nil {
		t.Fatal(err)
	}
	return p
}

func imageType(dims ...graph.Dim) graph.Type {
	return graph.Type{DType: tensor.Float32, Shape: dims, Ranked: true}
}

// nhwcModel takes N x 28 x 28 x 1 images and transposes them for the net.
func nhwcModel(t *testing.T) string {
	g := loadDefault(t)
	orig := g.Inputs[0].Name
	g.Inputs = []*graph.Value{{Name: "image_nhwc", Type: imageType(graph.Sym("N"), graph.Fixed(28), graph.Fixed(28), graph.Fixed(1))}}
	tr := &graph.Node{Name: "to_nchw", Op: "Transpose", Inputs: []string{"image_nhwc"}, Outputs: []string{orig}}
	tr.SetAttr("perm", graph.IntsAttr(0, 3, 1, 2))
	g.Nodes = append([]*graph.Node{tr}, g.Nodes...)
	return save(t, g, "nhwc.onnx")
}

// fixedBatchModel fixes the batch at 4 and drops the final Softmax, so it
// outputs logits (classify must apply the softmax the built-in model has).
func fixedBatchModel(t *testing.T) string {
	g := loadDefault(t)
	g.Inputs[0].Type = imageType(graph.Fixed(4), graph.Fixed(1), graph.Fixed(28), graph.Fixed(28))
	last := g.Nodes[len(g.Nodes)-1]
	if last.Op != "Softmax" {
		t.Fatalf("the built-in model ends in %s, not Softmax", last.Op)
	}
	g.Nodes = g.Nodes[:len(g.Nodes)-1]
	g.Outputs = []*graph.Value{{Name: last.Inputs[0], Type: graph.TensorType(tensor.Float32, 4, 10)}}
	return save(t, g, "batch4.onnx")
}

// flatModel takes 784-vectors: it has no image input.
func flatModel(t *testing.T) string {
	g := graph.New("flat")
	g.Opsets[""] = 13
	g.Inputs = []*graph.Value{{Name: "x", Type: graph.Type{DType: tensor.Float32, Ranked: true, Shape: []graph.Dim{graph.Sym("N"), graph.Fixed(784)}}}}
	g.Nodes = []*graph.Node{{Name: "relu", Op: "Relu", Inputs: []string{"x"}, Outputs: []string{"y"}}}
	g.Outputs = []*graph.Value{{Name: "y", Type: graph.Type{DType: tensor.Float32, Ranked: true, Shape: []graph.Dim{graph.Sym("N"), graph.Fixed(784)}}}}
	return save(t, g, "flat.onnx")
}
