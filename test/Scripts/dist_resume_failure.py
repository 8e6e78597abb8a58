#!/usr/bin/env python3
"""Checkpoints, resume and failures of `mpirun -np 2 cnnc-train`.

  - A run of 3 epochs on 2 ranks, and the same run stopped after epoch 1
    and resumed (--resume) on 2 ranks: the same weights (1e-6). Resumed on
    one process instead: the same weights within 1e-5 (the state does not
    depend on the number of ranks).
  - Rank 1 killed (SIGKILL, as a machine that fails) in epoch 3: mpirun
    exits with an error naming the rank within seconds instead of hanging;
    the checkpoint of epoch 2 is intact and resuming it on 2 ranks ends with
    the uninterrupted run's weights.
  - Ranks whose weights differ (a test hook changes one weight on rank 1)
    are caught after the epoch, and its checkpoint is not written.
  - A NaN loss stops every rank at the same step (no abort), and rank 0
    exports the last good step's weights, those of one process.
  - An error of the ranks (a missing data file): every rank says why and
    ends at once, without an abort.
  - Only rank 0 writes the checkpoint, the metrics and the exports, and
    prints.

Usage: dist_resume_failure.py WORK_DIR
"""
import json
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.normpath(os.path.join(HERE, "..", ".."))
HANG = 120  # seconds: a run that takes longer is a hang


def run(cmd, env=None, expect=0):
    full = dict(os.environ)
    full.update(env or {})
    start = time.time()
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, env=full,
                           timeout=HANG)
    except subprocess.TimeoutExpired:
        print("HANG: %s did not end within %d s MISMATCH" % (" ".join(cmd), HANG))
        sys.exit(1)
    if (expect == 0) != (r.returncode == 0):
        print("FAILED (%d): %s\n%s MISMATCH" % (r.returncode, " ".join(cmd),
                                                r.stdout))
        sys.exit(1)
    return r.stdout, time.time() - start


def mpi(n):
    return ["mpirun", "--oversubscribe", "-np", str(n)]


def worst(a, b):
    a, b = np.load(a), np.load(b)
    return max(float(np.max(np.abs(a[k] - b[k])) /
                     max(float(np.max(np.abs(a[k]))), 1e-12)) for k in a)


def check(what, ok, detail=""):
    print("%s: %s%s" % (what, detail, "OK" if ok else "MISMATCH"))
    return ok


def main():
    work = sys.argv[1]
    os.makedirs(work, exist_ok=True)
    os.chdir(work)
    rs = np.random.RandomState(0)
    np.save("x.npy", rs.randint(0, 256, (320, 28, 28)).astype(np.uint8))
    np.save("y.npy", rs.randint(0, 10, 320).astype(np.int64))
    run(["cnnc", os.path.join(SRC, "examples", "lenet5.cnn"), "--train",
         "-o", "lenet5.so"])
    train = ["cnnc-train", "lenet5.so", "--train-images", "x.npy",
             "--train-labels", "y.npy", "--batch", "32", "--no-plan",
             "--optimizer", "sgd", "--lr", "0.05", "--momentum", "0.9",
             "--seed", "7"]
    ok = True

    # The uninterrupted run; only rank 0 prints and writes.
    out, _ = run(mpi(2) + train + ["--epochs", "3", "--checkpoint", "ref.ckpt",
                                   "--metrics-json", "ref.json",
                                   "--export-npz", "ref.npz"])
    lines = [l for l in out.splitlines()
             if l.startswith("epoch ") and "train loss" in l]
    ok &= check("one report per epoch", len(lines) == 3, "%d lines " % len(lines))
    ok &= check("the header names the ranks", "2 ranks" in out)
    metrics = [json.loads(l) for l in open("ref.json")]
    ok &= check("one metrics line per epoch", len(metrics) == 3)

    # Stopped after epoch 1, resumed on 2 ranks and on 1.
    run(mpi(2) + train + ["--epochs", "1", "--checkpoint", "c.ckpt"])
    out, _ = run(mpi(2) + train + ["--epochs", "3", "--resume", "c.ckpt",
                                   "--export-npz", "r2.npz"])
    ok &= check("resumed on 2 ranks", "resumed from c.ckpt after epoch 1" in out)
    err = worst("ref.npz", "r2.npz")
    ok &= check("resume on 2 ranks vs uninterrupted", err <= 1e-6,
                "worst %.2e " % err)
    run(train + ["--epochs", "3", "--resume", "c.ckpt", "--export-npz",
                 "r1.npz"])
    err = worst("ref.npz", "r1.npz")
    ok &= check("resume on 1 process vs uninterrupted on 2", err <= 1e-5,
                "worst %.2e " % err)

    # Rank 1 dies at the first step of epoch 3 (10 steps per epoch).
    out, seconds = run(mpi(2) + train + ["--epochs", "3", "--checkpoint",
                                         "f.ckpt"],
                       env={"CNNC_TRAIN_TEST_KILL_RANK_AT_STEP": "1:21"},
                       expect=1)
    ok &= check("a dead rank ends the job", "rank 1" in out and
                ("signal 9" in out or "Killed" in out),
                "%.1f s " % seconds)
    ok &= check("within seconds", seconds < 30, "%.1f s " % seconds)
    saved = os.path.getsize("f.ckpt") if os.path.exists("f.ckpt") else 0
    ok &= check("the checkpoint of epoch 2 is kept", saved > 0)
    out, _ = run(mpi(2) + train + ["--epochs", "3", "--resume", "f.ckpt",
                                   "--export-npz", "f.npz"])
    ok &= check("resumed after the failure",
                "resumed from f.ckpt after epoch 2" in out)
    err = worst("ref.npz", "f.npz")
    ok &= check("resumed after the failure vs uninterrupted", err <= 1e-6,
                "worst %.2e " % err)

    # Ranks whose weights differ (rank 1 starts with one weight changed)
    # are caught after the epoch, before its checkpoint.
    out, _ = run(mpi(2) + train + ["--epochs", "2", "--checkpoint", "d.ckpt"],
                 env={"CNNC_TRAIN_TEST_PERTURB_RANK": "1"}, expect=1)
    ok &= check("ranks that differ are caught",
                "after epoch 1 the ranks' weights differ" in out and
                not os.path.exists("d.ckpt"))

    # A loss that turns NaN (a learning rate of 1e25 overflows step 2) stops
    # every rank at the same step, without aborting the job; rank 0 exports
    # the weights of step 1, those of one process.
    nan = train[:train.index("--lr")] + ["--lr", "1e25", "--momentum", "0",
                                         "--epochs", "1"]
    out, _ = run(mpi(2) + nan + ["--export", "nan2.onnx"], expect=1)
    run(nan + ["--export", "nan1.onnx"], expect=1)
    import onnx
    from onnx import numpy_helper

    def weights(path):
        return {t.name: numpy_helper.to_array(t)
                for t in onnx.load(path).graph.initializer}
    one, two = weights("nan1.onnx"), weights("nan2.onnx")
    err = max(float(np.max(np.abs(one[k] - two[k])) /
                    max(float(np.max(np.abs(one[k]))), 1e-12)) for k in one)
    ok &= check("a NaN loss stops every rank",
                "step 2: the loss is not finite on 2 of 2 ranks" in out and
                "MPI_ABORT" not in out and err <= 1e-5,
                "weights of step 1 vs one process %.2e " % err)

    # An error on the ranks ends them all, promptly, with the message.
    out, seconds = run(mpi(2) + ["cnnc-train", "lenet5.so", "--train-images",
                                 "missing.npy", "--train-labels", "y.npy"],
                       expect=1)
    # Every rank says why and none is aborted (an abort could end a rank
    # before it printed its message).
    ok &= check("an error ends every rank",
                all("rank %d: missing.npy: cannot open" % r in out
                    for r in range(2)) and "MPI_ABORT" not in out
                and seconds < 30, "%.1f s " % seconds)
    print("ALL OK" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
