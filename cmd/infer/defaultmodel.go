package main

import (
	_ "embed"
	"fmt"

	"stride/graph"
	"stride/importers/onnx"
)

// The model classify uses when given none: a small CNN trained on
// Fashion-MNIST by Stride's own trainer (scripts/make_default_model.sh writes it, with the same
// bytes in testdata/models).
var (
	//go:embed defaultmodel/fashion_mnist.onnx
	defaultModelBytes []byte
	//go:embed defaultmodel/fashion_mnist.txt
	defaultLabelsText string
)

const defaultModelName = "built-in Fashion-MNIST classifier (28x28 grayscale, 10 classes)"

func defaultModel() (*graph.Graph, []string, error) {
	m, err := onnx.Decode(defaultModelBytes)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", defaultModelName, err)
	}
	return m.Graph, parseLabels(defaultLabelsText), nil
}
