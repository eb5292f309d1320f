#!/usr/bin/python3
"""Regenerates `infer classify`'s default model and its example images.

Trains a small CNN on Fashion-MNIST (Debian package dataset-fashion-mnist,
/usr/share/datasets/fashion-mnist) for two epochs with a fixed seed and writes:

  testdata/models/fashion_mnist.onnx           the model (ONNX opset 13, batch dim "N";
                                               input "image" float32[N,1,28,28] with
                                               pixels/255, output "logits" [N,10])
  cmd/infer/defaultmodel/fashion_mnist.onnx    the same bytes, embedded in the infer binary
  testdata/labels/fashion_mnist.txt            the 10 class names, one per line
  cmd/infer/defaultmodel/fashion_mnist.txt     the same
  testdata/images/fashion-mnist/*.png          the first test image of each class
  cmd/infer/testdata/fashion_expected.tsv      PyTorch's probabilities for those images

Run from the repository root:  /usr/bin/python3 scripts/make_fashion_model.py
Needs torch (python3-torch), onnx (python3-onnx) and Pillow.
"""
import gzip
import os
import shutil
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

DATA = "/usr/share/datasets/fashion-mnist"
LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
          "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def idx(name):
    with gzip.open(os.path.join(DATA, name), "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


class Net(nn.Module):
    """conv 5x5x16 pad 2 - relu - pool 2 - conv 5x5x32 pad 2 - relu - pool 2 - fc 10."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 5, padding=2)
        self.conv2 = nn.Conv2d(16, 32, 5, padding=2)
        self.fc = nn.Linear(32 * 7 * 7, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(torch.flatten(x, 1))


def main():
    torch.manual_seed(0)
    np.random.seed(0)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    xtr = torch.from_numpy(idx("train-images-idx3-ubyte.gz").astype(np.float32) / 255).unsqueeze(1)
    ytr = torch.from_numpy(idx("train-labels-idx1-ubyte.gz").astype(np.int64))
    xte_u8 = idx("t10k-images-idx3-ubyte.gz")
    xte = torch.from_numpy(xte_u8.astype(np.float32) / 255).unsqueeze(1)
    yte = idx("t10k-labels-idx1-ubyte.gz").astype(np.int64)

    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    for epoch in range(2):
        perm = torch.randperm(len(xtr))
        net.train()
        for i in range(0, len(xtr), 128):
            b = perm[i:i + 128]
            opt.zero_grad()
            loss = F.cross_entropy(net(xtr[b]), ytr[b])
            loss.backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            pred = torch.cat([net(xte[i:i + 1000]).argmax(1) for i in range(0, len(xte), 1000)])
        acc = (pred.numpy() == yte).mean()
        print(f"epoch {epoch + 1}: loss {loss.item():.3f}, test accuracy {acc:.4f}")

    os.makedirs("testdata/models", exist_ok=True)
    os.makedirs("testdata/labels", exist_ok=True)
    os.makedirs("cmd/infer/defaultmodel", exist_ok=True)
    model = "testdata/models/fashion_mnist.onnx"
    torch.onnx.export(net, torch.zeros(1, 1, 28, 28), model, opset_version=13,
                      input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "N"}, "logits": {0: "N"}})
    with open("testdata/labels/fashion_mnist.txt", "w") as f:
        f.write("\n".join(LABELS) + "\n")
    shutil.copyfile(model, "cmd/infer/defaultmodel/fashion_mnist.onnx")
    shutil.copyfile("testdata/labels/fashion_mnist.txt", "cmd/infer/defaultmodel/fashion_mnist.txt")

    # The first test image of each class, and what PyTorch says about it.
    out = "testdata/images/fashion-mnist"
    os.makedirs(out, exist_ok=True)
    rows = []
    for c, name in enumerate(LABELS):
        i = int(np.argmax(yte == c))
        slug = name.lower().replace("/", "-").replace(" ", "-")
        path = os.path.join(out, f"t10k-{i:04d}-{slug}.png")
        Image.fromarray(xte_u8[i], mode="L").save(path)
        with torch.no_grad():
            p = F.softmax(net(xte[i:i + 1]), 1)[0].numpy()
        rows.append(path + "\t" + " ".join(f"{v:.6f}" for v in p))
    os.makedirs("cmd/infer/testdata", exist_ok=True)
    with open("cmd/infer/testdata/fashion_expected.tsv", "w") as f:
        f.write("\n".join(rows) + "\n")
    print("wrote", model, os.path.getsize(model), "bytes")


if __name__ == "__main__":
    main()
