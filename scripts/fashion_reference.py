#!/usr/bin/python3
"""Reference probabilities of infer's built-in model on the example images.

Evaluates the ONNX model (Conv/Relu/MaxPool/Flatten/Gemm/Softmax only) with
PyTorch, independently of Stride, on testdata/images/fashion-mnist/*.png read
as grayscale pixels / 255, and prints `path<TAB>p0 ... p9` lines.
"""
import glob
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper
from PIL import Image


def run(model, x):
    w = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in model.graph.initializer}
    v = {model.graph.input[0].name: x}
    for n in model.graph.node:
        a = {at.name: onnx.helper.get_attribute_value(at) for at in n.attribute}
        i = [v[name] if name in v else w[name] for name in n.input]
        if n.op_type == "Conv":
            p = a.get("pads", [0, 0, 0, 0])
            y = F.conv2d(i[0], i[1], i[2] if len(i) > 2 else None, stride=a.get("strides", [1, 1]), padding=(p[0], p[1]))
        elif n.op_type == "Relu":
            y = F.relu(i[0])
        elif n.op_type == "MaxPool":
            y = F.max_pool2d(i[0], a["kernel_shape"], a.get("strides", a["kernel_shape"]))
        elif n.op_type == "Flatten":
            y = torch.flatten(i[0], a.get("axis", 1))
        elif n.op_type == "Gemm":
            y = i[0] @ (i[1].T if a.get("transB", 0) else i[1]) + i[2]
        elif n.op_type == "Softmax":
            y = F.softmax(i[0], a.get("axis", -1))
        else:
            raise SystemExit(f"unsupported op {n.op_type}")
        v[n.output[0]] = y
    return v[model.graph.output[0].name]


def main():
    model = onnx.load(sys.argv[1])
    for path in sorted(glob.glob("testdata/images/fashion-mnist/*.png")):
        x = np.asarray(Image.open(path).convert("L"), dtype=np.float32) / 255.0
        with torch.no_grad():
            p = run(model, torch.from_numpy(x)[None, None])[0].numpy()
        print(path + "\t" + " ".join(f"{q:.6f}" for q in p))


if __name__ == "__main__":
    main()
