#!/usr/bin/env python3
"""The torchvision zoo through cnnc: for each model, export it from PyTorch
(weights=None, seed 0, BatchNorm statistics randomized, opset 13, dynamic
batch), compile it with the kernel cache off, and compare with PyTorch at
batch 1 and 3. Prints a markdown table: compile seconds, library size,
largest error relative to the output's scale. Not a test (compile times
depend on the machine); docs/zoo.md records its output.

Usage: zoo_figures.py [--check TOL] WORK_DIR SIZE MODEL[@SIZE]...
  (e.g. 64 resnet18 mobilenet_v2, or 224 inception_v3@299)

A model's own @SIZE overrides SIZE. With --check, each row is followed by
OK or MISMATCH (an error above TOL, a refusal, or a failure while running),
and the last line is ALL OK or MISMATCH: the slow suite's zoo test
(test/Slow/zoo-full.test) runs every classifier so.
"""
import os
import subprocess
import sys
import time

import numpy as np
import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_models import randomize_bn, relative_error  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "python"))
import cnnc  # noqa: E402


def main():
    args = sys.argv[1:]
    tol = None
    if args[:1] == ["--check"]:
        tol, args = float(args[1]), args[2:]
    work, default_size, names = args[0], int(args[1]), args[2:]
    ok = True
    os.makedirs(work, exist_ok=True)
    env = dict(os.environ, CNNC_CACHE_DIR="off")
    print("| model | input | compile (s) | library (MB) | error, batch 1 | "
          "error, batch 3 |")
    print("|---|---|---|---|---|---|")
    worst = 0.0
    for entry in names:
        name, _, at = entry.partition("@")
        size = int(at) if at else default_size
        torch.manual_seed(0)
        kw = {"aux_logits": False, "init_weights": True} \
            if name in ("googlenet", "inception_v3") else {}
        model = randomize_bn(getattr(torchvision.models, name)(
            weights=None, **kw)).eval()
        src = os.path.join(work, name + ".onnx")
        torch.onnx.export(model, torch.randn(1, 3, size, size), src,
                          input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": {0: "N"},
                                        "output": {0: "N"}},
                          opset_version=13)
        so = os.path.join(work, name + ".so")
        start = time.monotonic()
        r = subprocess.run(["cnnc", src, "-o", so], env=env,
                           capture_output=True, text=True)
        seconds = time.monotonic() - start
        if r.returncode != 0:
            why = r.stderr.strip().splitlines()[0][:120] if r.stderr else "?"
            print("| %s | %d | refused: %s | | | |" % (name, size, why))
            if tol is not None:
                print("%s MISMATCH" % name, flush=True)
            ok = False
            continue
        lib = cnnc.load(so)
        errs = []
        for batch in (1, 3):
            x = np.random.RandomState(batch).randn(
                batch, 3, size, size).astype(np.float32)
            (got,) = lib.run(x)
            with torch.no_grad():
                ref = model(torch.from_numpy(x)).double().numpy()
            errs.append(relative_error(got, ref))
        worst = max(worst, *errs)
        print("| %s | %d | %.1f | %.1f | %.1e | %.1e |" % (
            name, size, seconds, os.path.getsize(so) / 1e6, errs[0],
            errs[1]), flush=True)
        if tol is not None:
            good = all(e <= tol for e in errs)
            ok &= good
            print("%s %s" % (name, "OK" if good else "MISMATCH"), flush=True)
            del lib  # the suite's libraries take gigabytes
            for f in (src, so):
                os.remove(f)
    print("\nworst error %.1e" % worst)
    if tol is not None:
        print("ALL OK" if ok else "MISMATCH")
        return 0 if ok else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
