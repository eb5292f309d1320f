#!/usr/bin/python3
"""Export torchvision classifiers to ONNX with PyTorch's outputs as test data.

Each model gets random weights (seeded), is exported at the requested opsets,
and is written in the ONNX test-data layout:

    OUT/<model>_opset<N>/model.onnx
    OUT/<model>_opset<N>/test_data_set_0/input_0.pb, output_0.pb

so `infer test OUT` compares Stride with PyTorch. Run with Debian's python3
(python3-torch, python3-torchvision, python3-onnx):

    /usr/bin/python3 scripts/export_torchvision.py --out /tmp/tv [--models resnet18,...] [--opsets 13,17]
"""
import argparse
import os

import numpy as np
import onnx
import torch
import torchvision
from onnx import numpy_helper

MODELS = [
    "resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_small", "squeezenet1_0", "squeezenet1_1",
    "googlenet", "densenet121", "shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "alexnet", "vgg11", "vgg16",
    "efficientnet_b0", "mnasnet0_5", "regnet_y_400mf", "inception_v3", "resnext50_32x4d",
]


def build(name, size):
    kwargs = {}
    if name in ("googlenet", "inception_v3"):
        kwargs = {"aux_logits": False, "init_weights": True}
    m = getattr(torchvision.models, name)(weights=None, **kwargs)
    # Random init leaves activations vanishing or exploding through deep
    # nets, which would make an absolute tolerance meaningless. Calibrate
    # the BatchNorm statistics on random batches (as if trained) and jitter
    # their affine parameters, so outputs are of order one.
    bns = [mod for mod in m.modules() if isinstance(mod, torch.nn.modules.batchnorm._BatchNorm)]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative average
        with torch.no_grad():
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.2, 0.2)
    if bns:
        m.train()
        with torch.no_grad():
            for i in range(4):
                m(torch.randn(4, 3, size, size))
    m.eval()
    return m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--opsets", default="13,17")
    ap.add_argument("--batch", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(2)
    for name in args.models.split(","):
        torch.manual_seed(0)
        size = 299 if name == "inception_v3" else 224
        model = build(name, size)
        x = torch.from_numpy(np.random.RandomState(1).uniform(-1, 1, (args.batch, 3, size, size)).astype(np.float32))
        with torch.no_grad():
            y = model(x)
            # Some inits (inception_v3's) give logits in the hundreds, where
            # float32 rounding alone exceeds 1e-4: scale the classifier down.
            linears = [mod for mod in model.modules() if isinstance(mod, torch.nn.Linear)]
            if linears and y.std().item() > 4:
                scale = y.std().item()
                linears[-1].weight /= scale
                if linears[-1].bias is not None:
                    linears[-1].bias /= scale
                y = model(x)
        print(f"{name}: output std {y.std().item():.3g}, max |y| {y.abs().max().item():.3g}")
        for opset in [int(o) for o in args.opsets.split(",")]:
            d = os.path.join(args.out, f"{name}_opset{opset}")
            os.makedirs(os.path.join(d, "test_data_set_0"), exist_ok=True)
            path = os.path.join(d, "model.onnx")
            torch.onnx.export(model, x, path, opset_version=opset, input_names=["input"], output_names=["logits"],
                              dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
            onnx.checker.check_model(onnx.load(path))
            t = numpy_helper.from_array(x.numpy(), "input")
            open(os.path.join(d, "test_data_set_0", "input_0.pb"), "wb").write(t.SerializeToString())
            t = numpy_helper.from_array(y.numpy(), "logits")
            open(os.path.join(d, "test_data_set_0", "output_0.pb"), "wb").write(t.SerializeToString())
            print(f"{d}: {os.path.getsize(path) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
