#!/usr/bin/env python3
"""A step whose loss is finite but whose gradients are not is refused.

One NaN pixel: the first convolution's outputs around it are NaN, the ReLU
drops them (max(NaN, 0) is 0 in the generated code), so the loss is finite,
but the weight gradient of that convolution sums NaN * 0. The step must
report CNNC_ERROR_NUMERIC and leave every parameter (and the optimizer
state) as it was; the next good step trains as if the bad one never ran.

Usage: nonfinite_check.py WORK_DIR
"""
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
sys.path.insert(0, HERE)
import cnnc  # noqa: E402
from train_parity_onnx import export_lenet  # noqa: E402


def main():
    work = sys.argv[1]
    os.makedirs(work, exist_ok=True)
    _, src = export_lenet(work)
    so = os.path.join(work, "lenet.so")
    subprocess.run(["cnnc", src, "--train", "-o", so], check=True)
    rs = np.random.RandomState(0)
    x = rs.randn(4, 1, 28, 28).astype(np.float32)
    y = rs.randint(0, 10, 4).astype(np.int64)
    bad = x.copy()
    bad[1, 0, 10, 10] = np.nan

    a, b = cnnc.load(so), cnnc.load(so)
    for m in (a, b):
        m.configure("sgd", 0.05, momentum=0.9)
    before = a.parameters()
    try:
        a.train_step(bad, y)
        print("bad step: accepted")
    except cnnc.Error as e:
        print("bad step: status %d: %s" % (e.status, e))
    after = a.parameters()
    same = all(np.array_equal(before[k], after[k]) for k in before)
    print("parameters unchanged: %s" % same)
    a.train_step(x, y)
    b.train_step(x, y)
    pa, pb = a.parameters(), b.parameters()
    equal = all(np.array_equal(pa[k], pb[k]) for k in pa)
    print("next step as if the bad one never ran: %s" % equal)
    return 0 if same and equal else 1


if __name__ == "__main__":
    sys.exit(main())
