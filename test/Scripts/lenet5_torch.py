#!/usr/bin/env python3
"""LeNet-5 from the DSL (examples/lenet5.cnn) against PyTorch.

    lenet5_torch.py infer LIB.so    # outputs for batch 1 and 7, within 1e-4
    lenet5_torch.py train LIB.so    # 5 steps of SGD, SGD+momentum (with
                                    # weight decay and Nesterov), Adam

PyTorch's weights are loaded into the compiled library by parameter name, so
both start from the same point; the reference is PyTorch's own forward,
autograd and optimizers.
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "python"))
import cnnc  # noqa: E402

LAYERS = {"C1": 0, "C3": 3, "C5": 7, "F6": 9, "output": 11}


def lenet5():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10))


def load(model, net):
    for p in model.parameter_info:
        layer, kind = p.name.split(".")
        model.set_parameter(p.name,
                            getattr(net[LAYERS[layer]], kind).detach().numpy())


def rel_err(got, ref):
    return float(np.max(np.abs(got - ref)) / max(np.max(np.abs(ref)), 1e-12))


def infer(path):
    torch.manual_seed(0)
    net = lenet5().eval()
    model = cnnc.load(path)
    load(model, net)
    worst = 0.0
    for batch in (1, 7):
        x = np.random.RandomState(batch).randn(batch, 1, 28, 28).astype(np.float32)
        (got,) = model.run(x)
        with torch.no_grad():
            ref = net(torch.from_numpy(x)).numpy()
        worst = max(worst, rel_err(got, ref))
        print("batch %d: max relative error %.2e" % (batch, rel_err(got, ref)))
    return worst <= 1e-4


def train(path):
    ok = True
    for opt, kw in [("sgd", dict(lr=0.05)),
                    ("sgd", dict(lr=0.05, momentum=0.9, weight_decay=1e-3)),
                    ("sgd", dict(lr=0.05, momentum=0.9, nesterov=True)),
                    ("adam", dict(lr=1e-3, weight_decay=1e-2))]:
        torch.manual_seed(0)
        net = lenet5()
        model = cnnc.load(path)
        load(model, net)
        model.configure(opt, **kw)
        if opt == "sgd":
            ref_opt = torch.optim.SGD(net.parameters(), **kw)
        else:
            ref_opt = torch.optim.Adam(net.parameters(), **kw)
        rs = np.random.RandomState(1)
        for step in range(5):
            x = rs.randn(8, 1, 28, 28).astype(np.float32)
            y = rs.randint(0, 10, 8).astype(np.int64)
            loss = model.train_step(x, y)
            ref_opt.zero_grad()
            ref_loss = nn.functional.cross_entropy(
                net(torch.from_numpy(x)), torch.from_numpy(y))
            ref_loss.backward()
            ref_opt.step()
            if abs(loss - ref_loss.item()) > 1e-4 * max(1.0, abs(ref_loss.item())):
                print("%s %s step %d: loss %g vs PyTorch %g" % (
                    opt, kw, step, loss, ref_loss.item()))
                ok = False
        worst = 0.0
        for name, value in model.parameters().items():
            layer, kind = name.split(".")
            ref = getattr(net[LAYERS[layer]], kind).detach().numpy()
            worst = max(worst, rel_err(value, ref))
        print("%s %s: weights after 5 steps, max relative error %.2e" % (
            opt, kw, worst))
        ok = ok and worst <= 1e-4
    return ok


if __name__ == "__main__":
    mode, path = sys.argv[1], sys.argv[2]
    ok = infer(path) if mode == "infer" else train(path)
    print("OK" if ok else "MISMATCH")
    sys.exit(0 if ok else 1)
