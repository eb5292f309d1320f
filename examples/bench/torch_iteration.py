"""Time one training iteration (forward, backward, SGD step with momentum
and weight decay) of the same nets in PyTorch, for side-by-side comparison
with `go test ./train -bench Iteration`.

    OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=1 /usr/bin/python3 torch_iteration.py lenet 64
    OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=1 /usr/bin/python3 torch_iteration.py cifar 64

Prints the median milliseconds of one iteration over the timed runs.
"""
import os
import sys
import time

import torch
import torch.nn as nn

torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))


def lenet():
    # BVLC LeNet (examples/mnist/lenet_train_test.prototxt).
    return nn.Sequential(
        nn.Conv2d(1, 20, 5), nn.MaxPool2d(2, 2),
        nn.Conv2d(20, 50, 5), nn.MaxPool2d(2, 2),
        nn.Flatten(), nn.Linear(800, 500), nn.ReLU(), nn.Linear(500, 10))


def cifar():
    # [(conv3x3-relu)*2-pool]*2-fc: the net of examples/cifar_style.sh.
    def block(cin, cout):
        return [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(),
                nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2)]
    return nn.Sequential(*block(1, 32), *block(32, 64), nn.Flatten(),
                         nn.Linear(64 * 7 * 7, 256), nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, 10))


def main():
    name = sys.argv[1] if len(sys.argv) > 1 else "lenet"
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 64
    iters = int(sys.argv[3]) if len(sys.argv) > 3 else 50
    torch.manual_seed(1701)
    net = {"lenet": lenet, "cifar": cifar}[name]()
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.rand(batch, 1, 28, 28)
    y = torch.randint(0, 10, (batch,))

    def step():
        opt.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()

    for _ in range(10):
        step()
    times = []
    for _ in range(iters):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    times.sort()
    print("torch %s batch=%d threads=%d median_ms=%.3f min_ms=%.3f" % (
        name, batch, torch.get_num_threads(), 1000 * times[len(times) // 2], 1000 * times[0]))


if __name__ == "__main__":
    main()
