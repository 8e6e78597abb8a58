#!/usr/bin/env python3
"""Files exported with a fixed batch (torch.onnx.export's default): the
library compiled as is runs only at that batch; with --dynamic-batch, or
--input-shape NAME=?x..., it runs at any batch and matches PyTorch. Writes
bakes.onnx too, a model whose Reshape bakes the batch in (x.reshape(1, -1)),
for the error the lit test checks.

Usage: fixed_batch_check.py WORK_DIR
"""
import os
import subprocess
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "python"))
import cnnc  # noqa: E402


class Bakes(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)
        self.fc = nn.Linear(2 * 26 * 26, 3)

    def forward(self, x):
        return self.fc(self.conv(x).reshape(1, -1))


def main():
    work = sys.argv[1]
    os.makedirs(work, exist_ok=True)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(),
                        nn.MaxPool2d(2), nn.Flatten(),
                        nn.Linear(4 * 14 * 14, 5)).eval()
    src = os.path.join(work, "fixed.onnx")
    # PyTorch's default: no dynamic_axes, the batch of the example (1).
    torch.onnx.export(net, torch.zeros(1, 1, 28, 28), src,
                      input_names=["image"], output_names=["logits"],
                      opset_version=13)
    torch.onnx.export(Bakes().eval(), torch.zeros(1, 1, 28, 28),
                      os.path.join(work, "bakes.onnx"), input_names=["x"],
                      opset_version=13)
    rs = np.random.RandomState(0)
    ok = True
    for tag, flags in (("as exported", []),
                       ("--dynamic-batch", ["--dynamic-batch"]),
                       ("--input-shape", ["--input-shape",
                                          "image=?x1x28x28"])):
        so = os.path.join(work, "m%d.so" % len(flags))
        subprocess.run(["cnnc", src, "-o", so, "--name", "fixed"] + flags,
                       check=True)
        m = cnnc.load(so)
        print("%s: input shape %s" % (tag, m.inputs[0].shape))
        for batch in (1, 3):
            x = rs.randn(batch, 1, 28, 28).astype(np.float32)
            try:
                got = m.run(x)[0]
            except cnnc.Error as e:
                print("%s, batch %d: refused: %s" % (tag, batch, e))
                continue
            with torch.no_grad():
                ref = net(torch.from_numpy(x)).numpy()
            err = float(np.max(np.abs(got - ref)) / np.max(np.abs(ref)))
            good = err < 1e-5 and got.shape == ref.shape
            ok = ok and good
            print("%s, batch %d: max relative error %.1e %s" %
                  (tag, batch, err, "OK" if good else "BAD"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
