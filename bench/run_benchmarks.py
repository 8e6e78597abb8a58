#!/usr/bin/env python3
"""Inference benchmarks: cnnc vs ONNX Runtime vs PyTorch, measured in one run.

    cd bench && npm install --ignore-scripts     # ONNX Runtime, once
    /usr/bin/python3 bench/run_benchmarks.py --bin build/bin [--quick]

Exports LeNet-5 and torchvision's ResNet-18 (224x224) with PyTorch, compiles
them with cnnc (default optimizations, and -O0 for the graph-pass
comparison), and prints the median latency of each engine for batch sizes
and thread counts, plus the ratios, as a Markdown table. Latencies come from
the engines' own timers: `cnnc-run --bench`, ONNX Runtime via node, PyTorch
with torch.no_grad(). Nothing here asserts on time.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))


def lenet5():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10))


def resnet18():
    import torchvision
    return torchvision.models.resnet18(weights=None)


def export(model, shape, path):
    model.eval()
    x = torch.randn(*shape)
    torch.onnx.export(model, x, path, input_names=["input"],
                      output_names=["output"], opset_version=13,
                      dynamic_axes={"input": {0: "N"}, "output": {0: "N"}})


def cnnc_latency(bindir, so, shape, batch, threads, runs, work):
    x = np.random.RandomState(0).rand(batch, *shape[1:]).astype(np.float32)
    inp = os.path.join(work, "in_%d.npy" % batch)
    np.save(inp, x)
    out = os.path.join(work, "out.npy")
    r = subprocess.run([os.path.join(bindir, "cnnc-run"), so, "-i", inp, "-o",
                        out, "--threads", str(threads), "--bench", str(runs)],
                       capture_output=True, text=True, check=True)
    m = re.search(r"median\s+([0-9.]+)", r.stdout + r.stderr)
    return float(m.group(1))


def ort_latency(onnx, shape, batch, threads, runs):
    env = dict(os.environ, CNNC_BENCH_SHAPE=json.dumps(list(shape)))
    r = subprocess.run(["node", os.path.join(HERE, "ort_bench.js"), onnx,
                        str(batch), str(threads), str(runs)],
                       capture_output=True, text=True, env=env)
    if r.returncode != 0:
        return None
    return float(re.search(r"median_ms ([0-9.]+)", r.stdout).group(1))


def torch_latency(model, shape, batch, threads, runs):
    torch.set_num_threads(threads)
    x = torch.from_numpy(np.random.RandomState(0).rand(
        batch, *shape[1:]).astype(np.float32))
    model.eval()
    with torch.no_grad():
        for _ in range(5):
            model(x)
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            model(x)
            times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    return times[len(times) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--quick", action="store_true",
                    help="fewer runs, LeNet-5 only")
    args = ap.parse_args()
    torch.manual_seed(0)
    work = tempfile.mkdtemp(prefix="cnnc-bench-")
    cases = [("LeNet-5", lenet5(), (1, 1, 28, 28), [1, 64])]
    if not args.quick:
        cases.append(("ResNet-18 (224)", resnet18(), (1, 3, 224, 224), [1, 8]))
    rows = []
    for name, model, shape, batches in cases:
        onnx = os.path.join(work, re.sub(r"\W", "", name) + ".onnx")
        export(model, shape, onnx)
        libs = {}
        for opt in ["-O2", "-O0"]:
            so = os.path.join(work, "%s%s.so" % (re.sub(r"\W", "", name), opt))
            t0 = time.time()
            subprocess.run([os.path.join(args.bin, "cnnc"), onnx, "-o", so,
                            opt, "--no-cache"], check=True)
            print("compiled %s %s in %.1f s" % (name, opt, time.time() - t0),
                  file=sys.stderr)
            libs[opt] = so
        for batch in batches:
            for threads in [1, 2]:
                runs = 20 if args.quick else (
                    200 if "LeNet" in name else (20 if batch == 1 else 8))
                c = cnnc_latency(args.bin, libs["-O2"], shape, batch, threads,
                                 runs, work)
                c0 = cnnc_latency(args.bin, libs["-O0"], shape, batch, threads,
                                  runs, work)
                o = ort_latency(onnx, shape, batch, threads, runs)
                t = torch_latency(model, shape, batch, threads, runs)
                rows.append((name, batch, threads, c, c0, o, t))
                print(rows[-1], file=sys.stderr)
    print("| model | batch | threads | cnnc ms | cnnc -O0 ms | ONNX Runtime ms "
          "| PyTorch ms | fusion speed-up (-O0 / -O2) | ORT / cnnc | PyTorch / cnnc |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, batch, threads, c, c0, o, t in rows:
        fmt = lambda v: "%.4f" % v if v is not None else "n/a"
        ratio = lambda a, b: "%.2fx" % (a / b) if a and b else "n/a"
        print("| %s | %d | %d | %s | %s | %s | %s | %s | %s | %s |" % (
            name, batch, threads, fmt(c), fmt(c0), fmt(o), fmt(t),
            ratio(c0, c), ratio(o, c), ratio(t, c)))


if __name__ == "__main__":
    main()
