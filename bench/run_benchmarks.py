#!/usr/bin/env python3
"""Inference benchmarks: cnnc vs ONNX Runtime vs PyTorch, measured in one run.

    cd bench && npm install --ignore-scripts     # ONNX Runtime, once
    /usr/bin/python3 bench/run_benchmarks.py --bin build/bin [--quick]
        [--models lenet5,resnet18,resnet18-bn] [--threads 1,2] [--rounds 5]
        [--batches 1,8] [--runs N]
    /usr/bin/python3 bench/run_benchmarks.py --bin build/bin --zoo
        [--zoo-models resnet18,convnext_tiny,...] [--size 224]

--zoo: torchvision's classifiers (one per family by default), exported by
PyTorch at opset 13 with a dynamic batch and compiled with default options;
per model and batch/thread count the median latency of cnnc, ONNX Runtime and
PyTorch, the ratios, each engine's GFLOP/s (the convolutions' and Linear
layers' multiply-adds, counted by PyTorch hooks), and the geometric mean of
ORT / cnnc. A probe first measures the machine's FMA peak per core (a C loop
of independent vector FMAs compiled by gcc for the host).

Exports LeNet-5 and torchvision's ResNet-18 (224x224) with PyTorch (ResNet-18
twice: with BatchNorm folded by PyTorch's exporter, and with BatchNorm kept as
the ONNX model zoo ships it), compiles them with cnnc (default optimizations,
and -O0 for the graph-pass comparison, the two measured alternately), and
prints the median latency of each engine for batch sizes and thread counts,
plus the ratios, as a Markdown table. Latencies come from the engines' own
timers: `cnnc-run --bench`, ONNX Runtime via node, PyTorch with
torch.no_grad(). Nothing here asserts on time.
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


def export(model, shape, path, keep_bn=False):
    """keep_bn: BatchNormalization stays a node of its own, as in the ONNX
    model zoo's ResNets (PyTorch's exporter otherwise folds it into the
    convolutions, leaving cnnc's BatchNorm folding nothing to do)."""
    model.eval()
    x = torch.randn(*shape)
    kw = {}
    if keep_bn:
        kw = dict(training=torch.onnx.TrainingMode.PRESERVE,
                  do_constant_folding=False)
    torch.onnx.export(model, x, path, input_names=["input"],
                      output_names=["output"], opset_version=13,
                      dynamic_axes={"input": {0: "N"}, "output": {0: "N"}},
                      **kw)


def cnnc_latency(bindir, so, shape, batch, threads, runs, work):
    x = np.random.RandomState(0).rand(batch, *shape[1:]).astype(np.float32)
    inp = os.path.join(work, "in_%d.npy" % batch)
    np.save(inp, x)
    out = os.path.join(work, "out.npy")
    r = subprocess.run([os.path.join(bindir, "cnnc-run"), so, "-i", inp, "-o",
                        out, "--threads", str(threads), "--bench", str(runs)],
                       capture_output=True, text=True, check=True)
    text = r.stdout + r.stderr
    return (float(re.search(r"median\s+([0-9.]+)", text).group(1)),
            float(re.search(r"min\s+([0-9.]+)", text).group(1)))


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


def fusion_pair(bindir, libs, shape, batch, threads, runs, rounds, work):
    """Default and -O0 measured alternately, `rounds` times: on a shared
    machine the speed drifts over seconds, and alternating puts both builds
    under the same drift. Returns the medians over the rounds of each build's
    median latency, of the per-round ratio -O0 / default (and its range),
    and of the per-round ratio of the fastest runs."""
    c, c0, ratios, best = [], [], [], []
    for _ in range(rounds):
        a, a_min = cnnc_latency(bindir, libs["-O2"], shape, batch, threads,
                                runs, work)
        b, b_min = cnnc_latency(bindir, libs["-O0"], shape, batch, threads,
                                runs, work)
        c.append(a)
        c0.append(b)
        ratios.append(b / a)
        best.append(b_min / a_min)
    med = lambda v: sorted(v)[len(v) // 2]
    return med(c), med(c0), med(ratios), min(ratios), max(ratios), med(best)


ZOO_DEFAULT = ("resnet18,resnet50,resnext50_32x4d,wide_resnet50_2,"
               "squeezenet1_1,densenet121,mobilenet_v2,mobilenet_v3_large,"
               "shufflenet_v2_x1_0,mnasnet1_0,efficientnet_b0,regnet_x_400mf,"
               "regnet_y_400mf,convnext_tiny,alexnet,vgg11_bn,googlenet,"
               "inception_v3")

FMA_PROBE = r"""
#include <immintrin.h>
#include <stdio.h>
#include <time.h>
#define FMA(a) a = _mm256_fmadd_ps(a, x, y)
int main(void) {
  __m256 x = _mm256_set1_ps(0.9999999f), y = _mm256_set1_ps(1e-7f);
  __m256 a0 = x, a1 = y, a2 = x, a3 = y, a4 = x, a5 = y, a6 = x, a7 = y,
         a8 = x, a9 = y;
  long iters = 200000000;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long n = 0; n < iters; ++n) {
    FMA(a0); FMA(a1); FMA(a2); FMA(a3); FMA(a4);
    FMA(a5); FMA(a6); FMA(a7); FMA(a8); FMA(a9);
    __asm__ volatile("" : "+x"(a0), "+x"(a1), "+x"(a2), "+x"(a3), "+x"(a4),
                     "+x"(a5), "+x"(a6), "+x"(a7), "+x"(a8), "+x"(a9));
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  __m256 s = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a8, a9));
  double sec = (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
  printf("%f %f\n", iters * 10.0 * 16 / sec / 1e9, s[0]);
  return 0;
}
"""


def fma_peak(work):
    """GFLOP/s of one core on 256-bit FMAs (10 independent chains, as many
    as two FMA units of latency 4-5 need; AVX-512 machines with two 512-bit
    units reach about twice this)."""
    src = os.path.join(work, "fma_probe.c")
    exe = os.path.join(work, "fma_probe")
    with open(src, "w") as f:
        f.write(FMA_PROBE)
    r = subprocess.run(["gcc", "-O2", "-mavx2", "-mfma", src, "-o", exe],
                       capture_output=True, text=True)
    if r.returncode != 0:
        return None
    best = 0.0
    for _ in range(3):
        out = subprocess.run([exe], capture_output=True, text=True).stdout
        best = max(best, float(out.split()[0]))
    return best


def model_flops(model, shape):
    """2 x the multiply-adds of the convolutions and Linear layers."""
    total = [0]

    def conv_hook(m, inp, out):
        k = m.weight.shape[1] * m.weight.shape[2] * m.weight.shape[3]
        total[0] += 2 * out.numel() * k

    def linear_hook(m, inp, out):
        total[0] += 2 * out.numel() * m.in_features

    hooks = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(linear_hook))
    with torch.no_grad():
        model(torch.randn(*shape))
    for h in hooks:
        h.remove()
    return total[0]


def zoo(args):
    import math
    import torchvision
    work = tempfile.mkdtemp(prefix="cnnc-zoo-bench-")
    peak = fma_peak(work)
    cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model_name = re.search(r"Model name:\s*(.*)", cpu)
    isa = [f for f in ("avx512f", "avx2", "fma")
           if re.search(r"\b%s\b" % f, cpu)]
    print("machine: %s, %s; FMA peak %s GFLOP/s per core (256-bit)" % (
        model_name.group(1) if model_name else "?", " ".join(isa),
        "%.1f" % peak if peak else "n/a"))
    batches = [int(b) for b in (args.batches or "1,8").split(",")]
    threads_list = [int(t) for t in args.threads.split(",")]
    rows, ratios = [], []
    for key in args.zoo_models.split(","):
        torch.manual_seed(0)
        kw = {"aux_logits": False, "init_weights": False} if key in (
            "googlenet", "inception_v3") else {}
        model = getattr(torchvision.models, key)(weights=None, **kw).eval()
        size = 299 if key == "inception_v3" else args.size
        shape = (1, 3, size, size)
        onnx = os.path.join(work, key + ".onnx")
        export(model, shape, onnx)
        so = os.path.join(work, key + ".so")
        t0 = time.time()
        r = subprocess.run([os.path.join(args.bin, "cnnc"), onnx, "-o", so,
                            "--no-cache"], capture_output=True, text=True)
        if r.returncode != 0:
            print("%s: cnnc failed: %s" % (key, r.stderr.strip()[:300]))
            continue
        compile_s = time.time() - t0
        gflop = model_flops(model, shape) / 1e9
        for batch in batches:
            for threads in threads_list:
                runs = args.runs or (10 if batch == 1 else 4)
                c, _ = cnnc_latency(args.bin, so, shape, batch, threads, runs,
                                    work)
                o = ort_latency(onnx, shape, batch, threads, runs * 2)
                t = torch_latency(model, shape, batch, threads, runs * 2)
                rows.append((key, size, compile_s, gflop, batch, threads, c,
                             o, t))
                if o:
                    ratios.append(o / c)
                print(rows[-1], file=sys.stderr)
    print("| model | input | compile s | batch | threads | cnnc ms "
          "| ORT ms | PyTorch ms | ORT / cnnc | PyTorch / cnnc "
          "| cnnc GFLOP/s | ORT GFLOP/s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for key, size, cs, gflop, batch, threads, c, o, t in rows:
        fmt = lambda v: "%.2f" % v if v else "n/a"
        ratio = lambda a, b: "%.2fx" % (a / b) if a and b else "n/a"
        rate = lambda ms: "%.1f" % (gflop * batch / ms * 1e3) if ms else "n/a"
        print("| %s | %d | %.1f | %d | %d | %s | %s | %s | %s | %s | %s | %s |"
              % (key, size, cs, batch, threads, fmt(c), fmt(o), fmt(t),
                 ratio(o, c), ratio(t, c), rate(c), rate(o)))
    if ratios:
        geo = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
        print("\ngeometric mean ORT / cnnc over %d rows: %.2fx (min %.2fx)"
              % (len(ratios), geo, min(ratios)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--quick", action="store_true",
                    help="fewer runs, LeNet-5 only")
    ap.add_argument("--models", default="lenet5,resnet18,resnet18-bn",
                    help="comma-separated: lenet5, resnet18 (BatchNorm folded "
                    "by PyTorch's exporter), resnet18-bn (BatchNorm kept)")
    ap.add_argument("--rounds", type=int, default=5,
                    help="alternations of default and -O0 per row")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--batches", default="",
                    help="comma-separated batch sizes (default: per model)")
    ap.add_argument("--runs", type=int, default=0,
                    help="timed runs per measurement (default: per model)")
    ap.add_argument("--zoo", action="store_true",
                    help="torchvision's classifiers instead of --models")
    ap.add_argument("--zoo-models", default=ZOO_DEFAULT,
                    help="torchvision model names for --zoo")
    ap.add_argument("--size", type=int, default=224,
                    help="--zoo input size (Inception v3 takes 299)")
    args = ap.parse_args()
    if args.zoo:
        return zoo(args)
    torch.manual_seed(0)
    work = tempfile.mkdtemp(prefix="cnnc-bench-")
    known = {
        "lenet5": ("LeNet-5", lenet5, (1, 1, 28, 28), [1, 64], False),
        "resnet18": ("ResNet-18 (224)", resnet18, (1, 3, 224, 224), [1, 8],
                     False),
        "resnet18-bn": ("ResNet-18 (224, BN in the ONNX)", resnet18,
                        (1, 3, 224, 224), [1, 8], True),
    }
    models = ["lenet5"] if args.quick else args.models.split(",")
    threads_list = [int(t) for t in args.threads.split(",")]
    rows = []
    for key in models:
        name, make, shape, batches, keep_bn = known[key]
        model = make()
        tag = key.replace("-", "_")
        onnx = os.path.join(work, tag + ".onnx")
        export(model, shape, onnx, keep_bn)
        libs = {}
        for opt in ["-O2", "-O0"]:
            so = os.path.join(work, "%s%s.so" % (tag, opt))
            t0 = time.time()
            subprocess.run([os.path.join(args.bin, "cnnc"), onnx, "-o", so,
                            opt, "--no-cache"], check=True)
            print("compiled %s %s in %.1f s" % (name, opt, time.time() - t0),
                  file=sys.stderr)
            libs[opt] = so
        if args.batches:
            batches = [int(b) for b in args.batches.split(",")]
        for batch in batches:
            for threads in threads_list:
                runs = 20 if args.quick else (
                    100 if "LeNet" in name else (10 if batch == 1 else 4))
                runs = args.runs or runs
                rounds = 1 if args.quick else args.rounds
                c, c0, r, rlo, rhi, rbest = fusion_pair(
                    args.bin, libs, shape, batch, threads, runs, rounds, work)
                o = ort_latency(onnx, shape, batch, threads, runs * 2)
                t = torch_latency(model, shape, batch, threads, runs * 2)
                rows.append((name, batch, threads, c, c0, r, rlo, rhi, rbest,
                             o, t))
                print(rows[-1], file=sys.stderr)
    print("| model | batch | threads | cnnc ms | cnnc -O0 ms "
          "| fusion: -O0 / default (median) [range over rounds] "
          "| fusion, fastest runs | ONNX Runtime ms | PyTorch ms "
          "| ORT / cnnc | PyTorch / cnnc |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, batch, threads, c, c0, r, rlo, rhi, rbest, o, t in rows:
        fmt = lambda v: "%.3f" % v if v is not None else "n/a"
        ratio = lambda a, b: "%.2fx" % (a / b) if a and b else "n/a"
        print("| %s | %d | %d | %s | %s | %.2fx [%.2f-%.2f] | %.2fx | %s "
              "| %s | %s | %s |" % (name, batch, threads, fmt(c), fmt(c0), r,
                                    rlo, rhi, rbest, fmt(o), fmt(t),
                                    ratio(o, c), ratio(t, c)))


if __name__ == "__main__":
    main()
