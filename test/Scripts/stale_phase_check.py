#!/usr/bin/env python3
"""A phase that folded frozen parameters into constants is not used once
those parameters change (set_param): the training step then runs a phase
that reads them, so its loss is the loss of the model's current weights.

The model: conv (frozen until epoch 2) -> BatchNorm (frozen for good) ->
ReLU -> linear, exported by PyTorch. The training step of epoch 1 folds the
BatchNorm into the frozen convolution.

Usage: stale_phase_check.py WORK_DIR export
       stale_phase_check.py MODEL.so
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "python"))
import cnnc  # noqa: E402


def export(work):
    import torch
    import torch.nn as nn
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4),
                        nn.ReLU(), nn.Flatten(), nn.Linear(256, 3))
    with torch.no_grad():
        net[1].running_mean.uniform_(-0.5, 0.5)
        net[1].running_var.uniform_(0.5, 2.0)
    net.eval()
    os.makedirs(work, exist_ok=True)
    torch.onnx.export(net, torch.zeros(1, 1, 8, 8),
                      os.path.join(work, "bnphases.onnx"),
                      input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "N"}, "y": {0: "N"}},
                      opset_version=13, do_constant_folding=False,
                      training=torch.onnx.TrainingMode.PRESERVE)
    return 0


def cross_entropy(logits, labels):
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(labels)), labels].mean())


def main():
    if sys.argv[2:] == ["export"]:
        return export(sys.argv[1])
    m = cnnc.load(sys.argv[1])
    rs = np.random.RandomState(0)
    x = rs.randn(6, 1, 8, 8).astype(np.float32)
    y = rs.randint(0, 3, 6).astype(np.int64)
    m.configure("sgd", 0.0)  # lr 0: the steps change nothing
    m.set_trainable("0.", False)
    original = m.parameter("0.weight")
    shape = original.shape

    def report(tag):
        loss = m.train_step(x, y)
        ref = cross_entropy(m.run(x)[0], y)
        try:
            m.feature_info()
            cache = "cache"
        except cnnc.Error:
            cache = "no cache"
        ok = abs(loss - ref) <= 1e-5 * max(1.0, abs(ref))
        print("%s: train_step loss %s the model's loss (%s)" %
              (tag, "matches" if ok else "DIFFERS FROM", cache))
        return ok

    ok = report("compiled weights, features frozen")
    m.set_parameter("0.weight", original + rs.randn(*shape).astype(np.float32))
    ok &= report("new conv weights, features frozen")
    m.set_parameter("0.weight", original)
    ok &= report("compiled weights again")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
