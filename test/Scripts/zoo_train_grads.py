#!/usr/bin/env python3
"""Gradients of a torchvision classifier compiled with `cnnc --train`
against PyTorch's in float64: one backward pass (train mode, BatchNorm with
batch statistics, no stochastic depth or dropout) on random images, every parameter's
gradient compared relative to its largest value, or to 1e-4 of the model's
largest gradient where its true gradient is zero (docs/zoo.md).

Usage: zoo_train_grads.py WORK_DIR MODEL [SIZE [BATCH]]
  e.g. zoo_train_grads.py /tmp/z convnext_tiny 32 4
"""
import copy
import os
import subprocess
import sys

import numpy as np
import torch
import torchvision

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "python"))
import cnnc  # noqa: E402


def main():
    work, name = sys.argv[1], sys.argv[2]
    size = int(sys.argv[3]) if len(sys.argv) > 3 else 32
    batch = int(sys.argv[4]) if len(sys.argv) > 4 else 4
    os.makedirs(work, exist_ok=True)
    make = getattr(torchvision.models, name)
    torch.manual_seed(0)
    try:  # no stochastic depth (ConvNeXt, EfficientNet): a random mask
        net = make(num_classes=10, stochastic_depth_prob=0.0).eval()
    except TypeError:
        torch.manual_seed(0)
        net = make(num_classes=10).eval()
    # Nor dropout: its masks are random, PyTorch's and cnnc's differ.
    for m in net.modules():
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0
    src = os.path.join(work, name + ".onnx")
    torch.onnx.export(net, torch.randn(2, 3, size, size), src,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
                      opset_version=13,
                      training=torch.onnx.TrainingMode.PRESERVE,
                      do_constant_folding=False)
    so = os.path.join(work, name + ".so")
    subprocess.run(["cnnc", src, "--train", "-o", so], check=True)
    rs = np.random.RandomState(0)
    x = rs.randn(batch, 3, size, size).astype(np.float32)
    y = rs.randint(0, 10, batch).astype(np.int64)
    model = cnnc.load(so)
    model.configure("sgd", lr=0.0)
    loss = model.backward(x, y)
    grads = {n: g.copy() for n, kind, g in model.gradients()
             if kind == "gradient"}
    # PyTorch in float32 against float64, for the conditioning of the
    # case: small batches of small images make some gradients sensitive.
    net32 = copy.deepcopy(net).train()
    torch.nn.functional.cross_entropy(net32(torch.from_numpy(x)),
                                      torch.from_numpy(y)).backward()
    grads32 = {n: p.grad.double().numpy() for n, p in net32.named_parameters()}
    net = net.double().train()
    ref = torch.nn.functional.cross_entropy(net(torch.from_numpy(x).double()),
                                            torch.from_numpy(y))
    ref.backward()
    # Relative to the tensor's largest gradient, or to 1e-4 of the model's
    # largest where a tensor's true gradient is zero (a BatchNorm's shift
    # just before a convolution and another BatchNorm in train mode:
    # float32 leaves rounding noise where float64 leaves 1e-18).
    largest = max(float(np.max(np.abs(p.grad.numpy())))
                  for p in net.parameters())
    worst, worst32, missing = (0.0, ""), 0.0, []
    for n, p in net.named_parameters():
        r = p.grad.numpy()
        scale = max(float(np.max(np.abs(r))), 1e-4 * largest)
        worst32 = max(worst32, float(np.max(np.abs(grads32[n] - r))) / scale)
        if n not in grads:
            missing.append(n)
            continue
        err = float(np.max(np.abs(grads[n] - r))) / scale
        worst = max(worst, (err, n))
    total = len(list(net.named_parameters()))
    print("%s %dx%d batch %d: loss %.6f (PyTorch %.6f); %d of %d parameters "
          "have gradients, worst relative error %.2e (%s); PyTorch's own "
          "float32 gradients: %.2e%s" % (
              name, size, size, batch, loss, ref.item(), total - len(missing),
              total, worst[0], worst[1], worst32,
              "; without: " + ", ".join(missing[:5]) if missing else ""))
    return 0 if not missing and worst[0] <= 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
