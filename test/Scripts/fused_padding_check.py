#!/usr/bin/env python3
"""Padding fused into the producer: by default the kernel whose result a
padded convolution reads writes it inside that convolution's zero border,
and the convolution reads it without a padding pass. The value's other
readers (a residual add, a 1x1 downsample, a convolution with other pads)
read the interior. The border is written once, when the instance allocates
its intermediates, so it must stay zero across runs and batch sizes.
Also prints which parameters are stored packed, and how many weights the
library packs when an instance is created (parameters and BatchNorm-folded
constants).

Checks the default and -O0 libraries against PyTorch and each other, for
batches 2, 5 and 2 again (the intermediates are reallocated per batch).

Usage: fused_padding_check.py WORK_DIR
"""
import os
import re
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
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(16), nn.ReLU())
        self.a = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1, bias=False),
                               nn.BatchNorm2d(16), nn.ReLU(),
                               nn.Conv2d(16, 16, 3, padding=1, bias=False),
                               nn.BatchNorm2d(16))
        # Depthwise, weights unpacked: its rows (64) are whole vectors, so it
        # too reads the stem's bordered buffer.
        self.dw = nn.Conv2d(16, 16, 3, padding=1, groups=16)
        self.down = nn.Conv2d(16, 32, 3, stride=2, padding=1)
        self.skip = nn.Conv2d(16, 32, 1, stride=2)
        self.wide = nn.Conv2d(16, 32, 5, stride=2, padding=2)
        self.fc = nn.Linear(32, 5)

    def forward(self, x):
        s = self.stem(x)                      # read by a's conv, dw, the add
        y = torch.relu(self.a(s) + s + self.dw(s))  # read by 3 convolutions
        z = torch.relu(self.down(y) + self.skip(y)) + self.wide(y)
        return self.fc(z.mean(dim=(2, 3)))


def main():
    work = sys.argv[1]
    os.makedirs(work, exist_ok=True)
    torch.manual_seed(0)
    net = Net()
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
    net.eval()
    src = os.path.join(work, "fp.onnx")
    torch.onnx.export(net, torch.zeros(1, 3, 64, 64), src, input_names=["x"],
                      output_names=["y"],
                      dynamic_axes={"x": {0: "N"}, "y": {0: "N"}},
                      opset_version=13, do_constant_folding=False,
                      training=torch.onnx.TrainingMode.PRESERVE)
    libs = {}
    # The 3x3 convolutions at 32x32 would run as Winograd F(4x4, 3x3),
    # which pads its input itself (test/Codegen/winograd.test): this test
    # is about the direct convolutions' fused padding.
    for opt in ("-O2", "-O0"):
        so = os.path.join(work, "fp%s.so" % opt)
        subprocess.run(["cnnc", src, "-o", so, opt, "--no-winograd",
                        "--name", "fp"],
                       check=True, capture_output=True, text=True)
        libs[opt] = cnnc.load(so)
        if opt == "-O2":
            # The parameters' packed layouts, from the library's plan
            # (inference only: each stored only packed); the
            # BatchNorm-folded weights are constants, packed too but not
            # parameters.
            plan = subprocess.run(["cnnc", src, "--emit=plan", opt,
                                   "--no-winograd", "--name", "fp"],
                                  check=True, capture_output=True,
                                  text=True).stdout
            rows = re.findall(r"^param \d+ '[^']*' (?:group \S+ )?"
                              r"\[(\d+), (\d+), (\d+), (\d+)\] .*"
                              r"stored only in its reader's layout$", plan,
                              re.M)
            print("packed parameters:", " ".join(sorted(
                "%sx%sx%sx%s" % row for row in rows)))
            layouts = plan.split("graph layouts (at create):")[-1]
            print("packed at create:", len(re.findall(
                r"^  call cnnc_pack_weights_", layouts.split("\ngraph ")[0],
                re.M)))
    rs = np.random.RandomState(1)
    ok = True
    for batch in (2, 5, 2):
        x = rs.randn(batch, 3, 64, 64).astype(np.float32)
        with torch.no_grad():
            ref = net(torch.from_numpy(x)).numpy()
        got = {opt: m.run(x)[0] for opt, m in libs.items()}
        for opt, out in got.items():
            err = float(np.max(np.abs(out - ref)) / np.max(np.abs(ref)))
            good = err < 1e-5
            ok = ok and good
            print("batch %d %s vs PyTorch: max relative error %.1e %s" %
                  (batch, opt, err, "OK" if good else "BAD"))
        err = float(np.max(np.abs(got["-O2"] - got["-O0"])) /
                    np.max(np.abs(ref)))
        ok = ok and err < 1e-5
        print("batch %d default vs -O0: max relative error %.1e %s" %
              (batch, err, "OK" if err < 1e-5 else "BAD"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
