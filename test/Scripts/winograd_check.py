#!/usr/bin/env python3
"""3x3 stride-1 convolutions on images of at least 13x13 run as Winograd
F(4x4, 3x3), reading a transformed filter ((4+2)^2 x M/L x C*L) that the library
keeps next to the plain weight. Checks, against PyTorch in float64:
 - the inference library's output (images 22x21: partial tiles on both
   axes; a residual, a bias and ReLU in the output stage; a convolution
   followed by ReLU and a max pooling, which runs as Winograd and a
   pooling pass), and the same model built with --no-winograd;
 - after set_parameter (the transformed copy must follow), and that
   get_parameter returns the values set, exactly;
 - a training library, whose inference graph reads the transformed copy,
   after train steps change the weights.

Usage: winograd_check.py WORK_DIR
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
        self.c1 = nn.Conv2d(16, 32, 3, padding=1)
        self.c2 = nn.Conv2d(32, 32, 3, padding=1)
        self.c3 = nn.Conv2d(32, 32, 3, padding=1)
        self.fc = nn.Linear(32 * 11 * 10, 5)

    def forward(self, x):
        y = torch.relu(self.c1(x))
        y = torch.relu(self.c2(y) + y)
        # Fused with its pooling by cnn-fuse-ops, split again for Winograd.
        y = torch.max_pool2d(torch.relu(self.c3(y)), 2)
        return self.fc(torch.flatten(y, 1))


def main():
    work = sys.argv[1]
    os.makedirs(work, exist_ok=True)
    torch.manual_seed(0)
    net = Net()
    src = os.path.join(work, "wino.onnx")
    torch.onnx.export(net, torch.zeros(1, 16, 22, 21), src, input_names=["x"],
                      output_names=["y"],
                      dynamic_axes={"x": {0: "N"}, "y": {0: "N"}},
                      opset_version=13, do_constant_folding=False)
    net = net.double()
    rs = np.random.RandomState(0)
    x = rs.randn(3, 16, 22, 21).astype(np.float32)
    labels = rs.randint(0, 5, 3).astype(np.int64)
    ok = True

    def compare(tag, m):
        nonlocal ok
        with torch.no_grad():
            for name, value in m.parameters().items():
                dict(net.named_parameters())[name].copy_(
                    torch.from_numpy(value.astype(np.float64)))
            ref = net(torch.from_numpy(x).double()).numpy()
        got = m.run(x)[0]
        err = float(np.max(np.abs(got - ref)) / np.max(np.abs(ref)))
        print("%s: max relative error %.1e %s" % (tag, err,
                                                  "OK" if err < 1e-5 else "BAD"))
        ok = ok and err < 1e-5

    for flags, tag in (([], "inference"), (["--no-winograd"], "direct"),
                       (["--train"], "training")):
        so = os.path.join(work, "wino_%s.so" % tag)
        subprocess.run(["cnnc", src, "-o", so, "--name", "wino"] + flags,
                       check=True)
        m = cnnc.load(so)
        compare("%s library, compiled weights" % tag, m)
        for name in ("c1.weight", "c2.weight", "c3.weight"):
            shape = m.parameter(name).shape
            value = rs.randn(*shape).astype(np.float32) * 0.1
            m.set_parameter(name, value)
            same = np.array_equal(m.parameter(name), value)
            print("%s library, get_param %s after set_param: %s" %
                  (tag, name, "same values" if same else "OTHER VALUES"))
            ok = ok and same
        compare("%s library, after set_param" % tag, m)
        if tag == "training":
            m.configure("sgd", 0.05, momentum=0.9)
            for _ in range(3):
                m.train_step(x, labels)
            compare("%s library, after 3 train steps" % tag, m)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
