#!/usr/bin/python3
"""Writes the example images and labels of `infer classify`'s built-in model.

From Fashion-MNIST (Debian package dataset-fashion-mnist) it saves the first
test image of each class as testdata/images/fashion-mnist/t10k-NNNN-<class>.png
and the class names as testdata/labels/fashion_mnist.txt. The model itself is
trained by Stride: scripts/make_default_model.sh.

Run from the repository root:  /usr/bin/python3 scripts/extract_fashion_images.py
"""
import gzip
import os
import struct

import numpy as np
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


def main():
    images, labels = idx("t10k-images-idx3-ubyte.gz"), idx("t10k-labels-idx1-ubyte.gz")
    out = "testdata/images/fashion-mnist"
    os.makedirs(out, exist_ok=True)
    for c, name in enumerate(LABELS):
        i = int(np.argmax(labels == c))
        slug = name.lower().replace("/", "-").replace(" ", "-")
        Image.fromarray(images[i], mode="L").save(os.path.join(out, f"t10k-{i:04d}-{slug}.png"))
    with open("testdata/labels/fashion_mnist.txt", "w") as f:
        f.write("\n".join(LABELS) + "\n")


if __name__ == "__main__":
    main()
