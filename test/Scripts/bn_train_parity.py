#!/usr/bin/env python3
"""Train-mode BatchNorm against PyTorch.

A small conv + BatchNorm2d + ReLU network with a Linear + BatchNorm1d head
is exported from PyTorch to ONNX (BatchNorm kept, non-trivial affine and
running statistics, one layer with a non-default momentum), compiled with
`cnnc --train`, and trained for 5 steps of SGD with momentum on fixed
batches, in PyTorch's train mode and
  - through the C ABI (the cnnc Python package), and
  - through `cnnc-train --no-shuffle --export`.
Every weight and every running mean and variance must equal PyTorch's within
1e-4 (relative to the tensor's largest value); the trained model's inference
output must equal PyTorch's eval-mode output; and a step whose loss is NaN
must leave the parameters and the running statistics unchanged.

Usage: bn_train_parity.py WORK_DIR
"""
import os
import subprocess
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "python"))
import cnnc  # noqa: E402

TOL = 1e-4
STEPS, BATCH = 5, 16
LR, MOMENTUM = 0.05, 0.9


def make_net():
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 6, 3, bias=False), nn.BatchNorm2d(6, momentum=0.3),
        nn.ReLU(), nn.Flatten(),
        nn.Linear(6 * 4 * 4, 12), nn.BatchNorm1d(12), nn.ReLU(),
        nn.Linear(12, 5))
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                c = m.num_features
                m.weight.copy_(torch.rand(c, generator=g) + 0.5)
                m.bias.copy_(torch.rand(c, generator=g) - 0.5)
                m.running_mean.copy_(torch.rand(c, generator=g) - 0.5)
                m.running_var.copy_(torch.rand(c, generator=g) + 0.5)
    return net


def export(net, path):
    """ONNX of `net`, exported in eval mode without constant folding: the
    BatchNormalization nodes stay (inference form, running statistics as
    initializers)."""
    net.eval()
    torch.onnx.export(net, torch.randn(2, 3, 12, 12), path,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
                      opset_version=13, training=torch.onnx.TrainingMode.PRESERVE,
                      do_constant_folding=False)


def compare(what, got, expected):
    """Worst relative error over the tensors of `expected` (by name)."""
    worst = 0.0
    for name, ref in expected.items():
        err = float(np.max(np.abs(got[name] - ref)) /
                    max(np.max(np.abs(ref)), 1e-12))
        worst = max(worst, err)
        print("%s %s: max relative error %.2e" % (what, name, err))
    print("%s: worst %.2e %s" % (what, worst, "OK" if worst <= TOL else "MISMATCH"))
    return worst <= TOL


def main():
    work = sys.argv[1]
    os.makedirs(work, exist_ok=True)
    net = make_net()
    src = os.path.join(work, "bnnet.onnx")
    export(net, src)
    rs = np.random.RandomState(0)
    x = (rs.randn(STEPS * BATCH, 3, 12, 12) * 2 + 0.5).astype(np.float32)
    y = rs.randint(0, 5, STEPS * BATCH).astype(np.int64)
    x_eval = rs.randn(7, 3, 12, 12).astype(np.float32)
    np.save(os.path.join(work, "x.npy"), x)
    np.save(os.path.join(work, "y.npy"), y)
    so = os.path.join(work, "bnnet.so")
    subprocess.run(["cnnc", src, "--train", "-o", so, "--name", "bnnet"],
                   check=True)

    # PyTorch: train mode, the same batches and optimizer.
    net.train()
    opt = torch.optim.SGD(net.parameters(), lr=LR, momentum=MOMENTUM)
    for s in range(STEPS):
        opt.zero_grad()
        batch = slice(BATCH * s, BATCH * (s + 1))
        loss = nn.functional.cross_entropy(net(torch.from_numpy(x[batch])),
                                           torch.from_numpy(y[batch]))
        loss.backward()
        opt.step()
    expected = {k: v.detach().numpy() for k, v in net.state_dict().items()
                if not k.endswith("num_batches_tracked")}
    net.eval()
    with torch.no_grad():
        expected_eval = net(torch.from_numpy(x_eval)).numpy()

    # Through the C ABI.
    model = cnnc.load(so)
    model.configure("sgd", lr=LR, momentum=MOMENTUM)
    for s in range(STEPS):
        batch = slice(BATCH * s, BATCH * (s + 1))
        model.train_step(x[batch], y[batch])
    got = {k: model.parameter(k) for k in expected}
    ok = compare("c-abi", got, expected)
    (out,) = model.run(x_eval)
    ok &= compare("eval", {"logits": out}, {"logits": expected_eval})

    # A NaN loss (from a NaN in the last bias): the step fails and nothing
    # changes, running statistics included, though the batch's statistics
    # are finite.
    got["11.bias"][0] = np.nan
    model.set_parameter("11.bias", got["11.bias"])
    try:
        model.train_step(x[:BATCH], y[:BATCH])
        print("nan: the step did not fail MISMATCH")
        ok = False
    except cnnc.Error as e:
        after = {k: model.parameter(k) for k in got}
        same = all(np.array_equal(after[k], got[k], equal_nan=True) for k in got)
        print("nan: %s; parameters %s" % (
            e, "unchanged" if same else "CHANGED MISMATCH"))
        ok &= same

    # Through cnnc-train, exported back into the ONNX file.
    out_onnx = os.path.join(work, "trained.onnx")
    subprocess.run(["cnnc-train", so, "--train-images", os.path.join(work, "x.npy"),
                    "--train-labels", os.path.join(work, "y.npy"),
                    "--steps", str(STEPS), "--batch", str(BATCH), "--no-shuffle",
                    "--optimizer", "sgd", "--lr", str(LR),
                    "--momentum", str(MOMENTUM), "--export", out_onnx,
                    "--quiet"], check=True)
    trained = {t.name: numpy_helper.to_array(t)
               for t in onnx.load(out_onnx).graph.initializer}
    ok &= compare("cnnc-train", trained, expected)
    print("ALL OK" if ok else "PARITY MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
