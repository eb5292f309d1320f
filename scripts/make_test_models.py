#!/usr/bin/python3
"""Regenerates the small ONNX models that `infer inspect` and `infer visualize` are tested on.

  testdata/models/seed_conv.onnx         the lecture's example layer: input 32x32x3, 10 filters
                                         5x5, stride 1, pad 2 -> 32x32x10, 760 parameters
  testdata/models/convnetjs_cifar10.onnx ConvNetJS's CIFAR-10 demo net (conv 16 - pool - conv 20 -
                                         pool - conv 20 - pool - fc 10 - softmax), seeded random
                                         weights: for shapes and pictures, not for predictions

Run from the repository root:  /usr/bin/python3 scripts/make_test_models.py
"""
import torch
import torch.nn as nn


class Seed(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 10, 5, stride=1, padding=2)

    def forward(self, x):
        return self.conv(x)


class ConvNetJS(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 5, padding=2)
        self.conv2 = nn.Conv2d(16, 20, 5, padding=2)
        self.conv3 = nn.Conv2d(20, 20, 5, padding=2)
        self.fc = nn.Linear(20 * 4 * 4, 10)
        self.pool = nn.MaxPool2d(2, 2)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv1(x)))
        x = self.pool(torch.relu(self.conv2(x)))
        x = self.pool(torch.relu(self.conv3(x)))
        return torch.softmax(self.fc(torch.flatten(x, 1)), 1)


def export(net, path, out):
    net.eval()
    torch.onnx.export(net, torch.zeros(1, 3, 32, 32), path, opset_version=13,
                      input_names=["data"], output_names=[out],
                      dynamic_axes={"data": {0: "N"}, out: {0: "N"}})
    print("wrote", path)


def main():
    torch.manual_seed(1)
    export(Seed(), "testdata/models/seed_conv.onnx", "conv")
    export(ConvNetJS(), "testdata/models/convnetjs_cifar10.onnx", "prob")


if __name__ == "__main__":
    main()
