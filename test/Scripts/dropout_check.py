#!/usr/bin/env python3
"""Training-mode dropout: masks, scaling and gradient against PyTorch.

The mask of `cnn.dropout_train` is a documented hash (lib/Codegen/Backward.cpp,
dropoutScale) of [seed, step], the layer's salt and the element's row-major
index; this script reimplements it in numpy, runs PyTorch's forward and
autograd with that mask, and compares the parameter updates of one SGD step
(lr = 1, so the update is minus the gradient) for two steps (new masks each
step). Inference (`run`) must not drop anything.

Usage: dropout_check.py WORK_DIR
"""
import os
import subprocess
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "python"))
import cnnc  # noqa: E402

MLIR = """module @d {
  func @main(%x: tensor<?x16xf32>) -> tensor<?x3xf32> {
    %w1 = cnn.param "fc1.weight" {init = "zeros"} : tensor<8x16xf32>
    %h = cnn.gemm %x, %w1 {transB = true} : (tensor<?x16xf32>, tensor<8x16xf32>) -> tensor<?x8xf32>
    %r = cnn.relu %h : tensor<?x8xf32>
    %d = cnn.dropout %r {ratio = 0.3 : f32} : tensor<?x8xf32>
    %w2 = cnn.param "fc2.weight" {init = "zeros"} : tensor<3x8xf32>
    %y = cnn.gemm %d, %w2 {transB = true} : (tensor<?x8xf32>, tensor<3x8xf32>) -> tensor<?x3xf32>
    return %y : tensor<?x3xf32>
  }
}
"""

M32 = np.uint64(0xFFFFFFFF)


def mix32(h):
    h = h.astype(np.uint64)
    h ^= h >> np.uint64(16)
    h = (h * np.uint64(0x7feb352d)) & M32
    h ^= h >> np.uint64(15)
    h = (h * np.uint64(0x846ca68b)) & M32
    h ^= h >> np.uint64(16)
    return h


def mask(shape, seed, step, salt, ratio):
    key = mix32(np.array([(seed ^ ((salt * 0x9e3779b9) & 0xFFFFFFFF)) & 0xFFFFFFFF]))
    key = mix32((key + np.uint64((step * 0x85ebca6b) & 0xFFFFFFFF)) & M32)
    flat = np.arange(np.prod(shape), dtype=np.uint64)
    u = (mix32(flat ^ key) >> np.uint64(8)).astype(np.float64) / 16777216.0
    return np.where(u.astype(np.float32) >= np.float32(ratio),
                    np.float32(1.0) / np.float32(1.0 - ratio), 0.0).reshape(shape)


def main():
    work = sys.argv[1]
    os.makedirs(work, exist_ok=True)
    src = os.path.join(work, "d.mlir")
    with open(src, "w") as f:
        f.write(MLIR)
    so = os.path.join(work, "d.so")
    subprocess.run(["cnnc", src, "--train", "-o", so], check=True)
    model = cnnc.load(so)
    print("exposed parameters:", sorted(p.name for p in model.parameter_info))
    rs = np.random.RandomState(0)
    P = {"fc1.weight": rs.randn(8, 16).astype(np.float32) * 0.5,
         "fc2.weight": rs.randn(3, 8).astype(np.float32) * 0.5}
    for k, v in P.items():
        model.set_parameter(k, v)
    cfg_seed = 7
    model.configure("sgd", lr=1.0, seed=cfg_seed)
    ok = True
    x = rs.randn(5, 16).astype(np.float32)
    # Inference drops nothing: the same bits as the same model compiled
    # without the dropout layer (same kernels, same schedules: like with
    # like), and within float32 rounding of numpy's products (whose
    # summation order differs from the kernels' on every target).
    (y,) = model.run(x)
    plain_src = os.path.join(work, "plain.mlir")
    with open(plain_src, "w") as f:
        f.write(MLIR.replace(
            "    %d = cnn.dropout %r {ratio = 0.3 : f32} : tensor<?x8xf32>\n", "")
            .replace("cnn.gemm %d,", "cnn.gemm %r,"))
    plain_so = os.path.join(work, "plain.so")
    subprocess.run(["cnnc", plain_src, "--train", "-o", plain_so], check=True)
    plain = cnnc.load(plain_so)
    for k, v in P.items():
        plain.set_parameter(k, v)
    (y_plain,) = plain.run(x)
    diff = np.count_nonzero(y.view(np.uint32) != y_plain.view(np.uint32))
    print("inference without dropout: %d of %d outputs differ from the "
          "model without the layer" % (diff, y.size))
    ok = ok and diff == 0
    ref = np.maximum(x @ P["fc1.weight"].T, 0) @ P["fc2.weight"].T
    err = np.max(np.abs(y - ref)) / np.max(np.abs(ref))
    print("inference vs numpy: max relative error %.2e" % err)
    ok = ok and err < 1e-6
    kept = []
    for step in (1, 2):
        labels = rs.randint(0, 3, 5).astype(np.int64)
        m = mask((5, 8), cfg_seed, step, 0, 0.3)
        kept.append(float(np.mean(m > 0)))
        tp = {k: torch.from_numpy(v).double().requires_grad_() for k, v in P.items()}
        h = torch.relu(torch.from_numpy(x).double() @ tp["fc1.weight"].T)
        out = (h * torch.from_numpy(m).double()) @ tp["fc2.weight"].T
        F.cross_entropy(out, torch.from_numpy(labels)).backward()
        model.train_step(x, labels)
        for k in P:
            new = model.parameter(k)
            grad = P[k] - new
            ref = tp[k].grad.numpy()
            e = np.max(np.abs(grad - ref)) / max(np.max(np.abs(ref)), 1e-12)
            print("step %d %s: gradient vs PyTorch with the same mask %.2e" % (step, k, e))
            ok = ok and e < 1e-4
            P[k] = new
    print("kept fraction per step: %s (ratio 0.3)" % kept)
    ok = ok and not np.array_equal(mask((5, 8), cfg_seed, 1, 0, 0.3),
                                   mask((5, 8), cfg_seed, 2, 0, 0.3))
    big = mask((1000, 100), cfg_seed, 3, 0, 0.3)
    frac = float(np.mean(big > 0))
    print("kept fraction over 100000 elements: %.3f" % frac)
    ok = ok and abs(frac - 0.7) < 0.01
    print("OK" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
