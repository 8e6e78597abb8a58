#!/usr/bin/env python3
"""1x1 convolutions run as a matrix product per image on the image flattened
to one row (cnn-pack-conv-weights inserts the cnn.reshape views, and for a
strided one a 1x1 max pooling that subsamples the input). Checks against
PyTorch in float64:
 - a 1x1 convolution on 7x7 images (49 pixels: a partial last tile), 37 ->
   20 channels (no whole register tile of channels), bias and ReLU;
 - one with a residual and 24 -> 40 channels;
 - a strided one on 15x15 images (8x8 out);
 - a batch of 3 and of 1, the same model with -O0 (direct convolutions),
   after set_parameter, and a training library after train steps (its
   inference graph runs the products; its steps do not).

Usage: pointwise_check.py WORK_DIR
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


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(37, 20, 1)
        self.c2 = nn.Conv2d(20, 24, 3, padding=1)
        self.c3 = nn.Conv2d(24, 24, 1)
        self.c4 = nn.Conv2d(24, 40, 1, stride=2)
        self.fc = nn.Linear(40 * 4 * 4, 5)

    def forward(self, x):
        y = torch.relu(self.c1(x))
        y = torch.relu(self.c2(y))
        y = torch.relu(self.c3(y) + y)
        y = torch.relu(self.c4(y))
        return self.fc(torch.flatten(y, 1))


def main():
    work = sys.argv[1]
    os.makedirs(work, exist_ok=True)
    torch.manual_seed(0)
    net = Net()
    src = os.path.join(work, "pw.onnx")
    torch.onnx.export(net, torch.zeros(1, 37, 7, 7), src, input_names=["x"],
                      output_names=["y"],
                      dynamic_axes={"x": {0: "N"}, "y": {0: "N"}},
                      opset_version=13, do_constant_folding=False)
    net = net.double()
    rs = np.random.RandomState(0)
    x = rs.randn(3, 37, 7, 7).astype(np.float32)
    labels = rs.randint(0, 5, 3).astype(np.int64)
    ok = True

    def compare(tag, m, batch):
        nonlocal ok
        with torch.no_grad():
            for name, value in m.parameters().items():
                dict(net.named_parameters())[name].copy_(
                    torch.from_numpy(value.astype(np.float64)))
            ref = net(torch.from_numpy(batch).double()).numpy()
        got = m.run(batch)[0]
        err = float(np.max(np.abs(got - ref)) / np.max(np.abs(ref)))
        print("%s: max relative error %.1e %s" % (tag, err,
                                                  "OK" if err < 1e-5 else "BAD"))
        ok = ok and err < 1e-5

    for flags, tag in (([], "inference"), (["-O0"], "direct"),
                       (["--train"], "training")):
        so = os.path.join(work, "pw_%s.so" % tag)
        subprocess.run(["cnnc", src, "-o", so, "--name", "pw"] + flags,
                       check=True)
        m = cnnc.load(so)
        compare("%s library, batch 3" % tag, m, x)
        compare("%s library, batch 1" % tag, m, x[:1])
        for name in ("c1.weight", "c4.weight"):
            shape = m.parameter(name).shape
            m.set_parameter(name, rs.randn(*shape).astype(np.float32) * 0.1)
        compare("%s library, after set_param" % tag, m, x)
        if tag == "training":
            m.configure("sgd", 0.05, momentum=0.9)
            for _ in range(3):
                m.train_step(x, labels)
            compare("%s library, after 3 train steps" % tag, m, x)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
