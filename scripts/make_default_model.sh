#!/usr/bin/env bash
# Trains infer's built-in Fashion-MNIST classifier with Stride's own trainer
# and refreshes everything that depends on it: testdata/models/fashion_mnist.onnx,
# the embedded copy in cmd/infer/defaultmodel/, and the reference probabilities
# the classify tests compare with (computed independently with PyTorch).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
go run ./cmd/train --arch 'conv5x5x16same-relu-pool2-conv5x5x32same-relu-pool2-fc10' \
  --data /usr/share/datasets/fashion-mnist --epochs 6 --scale 0.00392156862745098 \
  --type Adam --lr 0.001 --lr-policy fixed --seed 1701 --progress lines \
  --prefix "$out/fashion" --export "$out/fashion_mnist.onnx"
cp "$out/fashion_mnist.onnx" testdata/models/fashion_mnist.onnx
cp "$out/fashion_mnist.onnx" cmd/infer/defaultmodel/fashion_mnist.onnx
cp testdata/labels/fashion_mnist.txt cmd/infer/defaultmodel/fashion_mnist.txt
/usr/bin/python3 scripts/fashion_reference.py testdata/models/fashion_mnist.onnx > cmd/infer/testdata/fashion_expected.tsv
rm -rf "$out"
