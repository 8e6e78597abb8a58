#!/usr/bin/env python3
"""Training steps of torchvision classifiers with every layer trainable,
cnnc against PyTorch in the same run.

Each model (10 classes) is exported to ONNX as it would be fine-tuned
(BatchNorm nodes kept, train-mode statistics), compiled with `cnnc --train`,
and both run the same steps: SGD with momentum 0.9, lr 0.01, random images
and labels, BatchNorm in training mode. Printed per model and thread count:
the median step time of each, images/s, and cnnc's speed relative to
PyTorch's. With CNNC_PROFILE=1 cnnc also prints its per-kernel times.

Usage:
  bench/train_zoo_benchmark.py [--models resnet18,mobilenet_v2] [--size 112]
      [--batch 16] [--threads 1,2] [--steps 5] [--cnnc build/bin/cnnc]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))
import cnnc  # noqa: E402


def export(name, size, work):
    torch.manual_seed(0)
    try:  # no stochastic depth: a random mask per step
        net = getattr(torchvision.models, name)(num_classes=10,
                                                stochastic_depth_prob=0.0)
    except TypeError:
        torch.manual_seed(0)
        net = getattr(torchvision.models, name)(num_classes=10)
    for m in net.modules():
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0
    src = os.path.join(work, name + ".onnx")
    torch.onnx.export(net.eval(), torch.randn(2, 3, size, size), src,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
                      opset_version=13,
                      training=torch.onnx.TrainingMode.PRESERVE,
                      do_constant_folding=False)
    return net, src


def time_steps(step, steps):
    step()  # warm-up: allocations, first-touch, thread pool
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="resnet18,mobilenet_v2")
    ap.add_argument("--size", type=int, default=112)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--cnnc", default=os.path.join(HERE, "..", "build", "bin",
                                                   "cnnc"))
    args = ap.parse_args()
    rs = np.random.RandomState(0)
    x = rs.randn(args.batch, 3, args.size, args.size).astype(np.float32)
    y = rs.randint(0, 10, args.batch).astype(np.int64)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    print("batch %d, %dx%d, SGD momentum 0.9, median of %d steps"
          % (args.batch, args.size, args.size, args.steps))
    print("| model | threads | cnnc ms/step | cnnc img/s | PyTorch ms/step "
          "| PyTorch img/s | cnnc / PyTorch |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as work:
        for name in args.models.split(","):
            net, src = export(name, args.size, work)
            so = os.path.join(work, name + ".so")
            t0 = time.perf_counter()
            subprocess.run([args.cnnc, src, "--train", "-o", so], check=True)
            compile_s = time.perf_counter() - t0
            model = cnnc.load(so)
            model.configure("sgd", lr=0.01, momentum=0.9)
            net.train()
            opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)

            def torch_step():
                opt.zero_grad()
                loss = torch.nn.functional.cross_entropy(net(xt), yt)
                loss.backward()
                opt.step()

            for threads in [int(t) for t in args.threads.split(",")]:
                model.threads = threads
                torch.set_num_threads(threads)
                c = time_steps(lambda: model.train_step(x, y), args.steps)
                p = time_steps(torch_step, args.steps)
                print("| %s | %d | %.0f | %.1f | %.0f | %.1f | %.2fx |" % (
                    name, threads, c * 1e3, args.batch / c, p * 1e3,
                    args.batch / p, p / c))
            print("(%s: compiled in %.0f s)" % (name, compile_s))
            model.close()


if __name__ == "__main__":
    main()
