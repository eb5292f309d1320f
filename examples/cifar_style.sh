#!/bin/sh
# The CIFAR-style net of ConvNetJS's recipe, [(conv-relu)*2-pool]*2-fc, on
# Fashion-MNIST with random flips and shifts of up to 2 pixels.
# Usage: sh examples/cifar_style.sh [OUT_DIR]   (needs Debian's dataset-fashion-mnist)
set -e
out=${1:-runs/cifar_style}
mkdir -p "$out"
exec go run ./cmd/train \
  --arch '[(conv3x3x32same-relu)*2-pool2]*2-fc256-relu-dropout-fc10' \
  --data /usr/share/datasets/fashion-mnist \
  --epochs 15 --batch 64 --lr 0.01 --lr-policy poly --power 1 \
  --momentum 0.9 --weight-decay 5e-4 --mean auto --mirror --shift 2 \
  --prefix "$out/cifar_style" --export "$out/cifar_style.onnx"
