#!/usr/bin/env python3
"""Convolutions on narrow images read their weights in a packed layout kept
next to the originals. The packed copies must follow the weights: after
set_parameter, and after train steps, `run` gives PyTorch's output for the
weights the library holds.

Usage: packed_conv_check.py WORK_DIR
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


def main():
    work = sys.argv[1]
    os.makedirs(work, exist_ok=True)
    torch.manual_seed(0)
    # 7x7 images, 32 output channels: narrower than a vector of floats.
    net = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(),
                        nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
                        nn.Flatten(), nn.Linear(32 * 49, 5))
    src = os.path.join(work, "narrow.onnx")
    torch.onnx.export(net, torch.zeros(1, 3, 7, 7), src, input_names=["x"],
                      output_names=["y"],
                      dynamic_axes={"x": {0: "N"}, "y": {0: "N"}},
                      opset_version=13, do_constant_folding=False)
    rs = np.random.RandomState(0)
    x = rs.randn(4, 3, 7, 7).astype(np.float32)
    labels = rs.randint(0, 5, 4).astype(np.int64)
    ok = True

    def compare(tag, m):
        nonlocal ok
        with torch.no_grad():
            for name, value in m.parameters().items():
                dict(net.named_parameters())[name].copy_(
                    torch.from_numpy(value))
            ref = net(torch.from_numpy(x)).numpy()
        got = m.run(x)[0]
        err = float(np.max(np.abs(got - ref)) / np.max(np.abs(ref)))
        print("%s: max relative error %.1e %s" % (tag, err,
                                                  "OK" if err < 1e-5 else "BAD"))
        ok = ok and err < 1e-5

    for flags, tag in (([], "inference"), (["--train"], "training")):
        so = os.path.join(work, "narrow_%s.so" % tag)
        subprocess.run(["cnnc", src, "-o", so, "--name", "narrow"] + flags,
                       check=True)
        m = cnnc.load(so)
        compare("%s library, compiled weights" % tag, m)
        shape = m.parameter("2.weight").shape
        value = rs.randn(*shape).astype(np.float32) * 0.1
        m.set_parameter("2.weight", value)
        # Stored only packed in the inference library: get_param unpacks.
        same = np.array_equal(m.parameter("2.weight"), value)
        print("%s library, get_param after set_param: %s" %
              (tag, "same values" if same else "OTHER VALUES"))
        ok = ok and same
        compare("%s library, after set_param" % tag, m)
        if flags:
            m.configure("sgd", 0.1, momentum=0.9)
            for _ in range(3):
                m.train_step(x, labels)
            compare("%s library, after 3 train steps" % tag, m)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
