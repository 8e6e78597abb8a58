#!/usr/bin/env python3
"""Data-parallel training (`mpirun -np 2 cnnc-train`) against one process
and against PyTorch.

LeNet-5 (examples/lenet5.cnn), trained for a few steps with and without
`mpirun -np 2`, must end with the same weights within 1e-5 (relative to each
tensor's largest value), for
  - SGD with Nesterov momentum and weight decay,
  - Adam with per-group learning rates,
  - a batch the ranks do not divide (7: shards of 3 and 4), with the epoch's
    last batch smaller still, and one of a single sample (a rank without a
    sample weighs it 0),
  - layers frozen at compile time (the feature cache, computed in shares by
    the ranks) and gradual unfreezing between epochs.
A conv + BatchNorm network (test/Scripts/bn_train_parity.py's):
  - with the statistics of the global batch (--batchnorm-stats global, the
    default: SyncBatchNorm), 2 and 3 ranks train as PyTorch on one process
    (within 1e-5), and 2 ranks with a last batch of one sample as one
    cnnc-train process;
  - with per-rank statistics, 2 ranks train as PyTorch computing the same
    (per-shard forward passes, gradients and running statistics weighted by
    the shard sizes), and differ from one process (the ranks did split the
    batch).

Usage: dist_parity.py WORK_DIR
"""
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.normpath(os.path.join(HERE, "..", ".."))
TOL = 1e-5


def run(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    if r.returncode != 0:
        print("FAILED (%d): %s\n%s" % (r.returncode, " ".join(cmd), r.stdout))
        sys.exit(1)
    return r.stdout


def mpirun(n, cmd):
    return run(["mpirun", "--oversubscribe", "-np", str(n)] + cmd)


def worst(got, expected):
    err = 0.0
    for name, ref in expected.items():
        scale = max(float(np.max(np.abs(ref))), 1e-12)
        err = max(err, float(np.max(np.abs(got[name] - ref))) / scale)
    return err


def report(what, err, ok):
    print("%s: worst %.2e %s" % (what, err, "OK" if ok else "MISMATCH"))
    return ok


def lenet(work):
    rs = np.random.RandomState(0)
    x = rs.randint(0, 256, (96, 28, 28)).astype(np.uint8)
    y = rs.randint(0, 10, 96).astype(np.int64)
    np.save(os.path.join(work, "x.npy"), x)
    np.save(os.path.join(work, "y.npy"), y)
    # 33 and 29 samples at batch 7: epochs of 7,7,7,7,5 and 7,7,7,7,1.
    for n in (33, 29):
        np.save(os.path.join(work, "x%d.npy" % n), x[:n])
        np.save(os.path.join(work, "y%d.npy" % n), y[:n])
    so = os.path.join(work, "lenet5.so")
    frozen = os.path.join(work, "lenet5-frozen.so")
    run(["cnnc", os.path.join(SRC, "examples", "lenet5.cnn"), "--train",
         "-o", so])
    run(["cnnc", os.path.join(SRC, "examples", "lenet5.cnn"), "--train",
         "--freeze", "C1", "-o", frozen])

    def data(n=None):
        s = "" if n is None else str(n)
        return ["--train-images", os.path.join(work, "x%s.npy" % s),
                "--train-labels", os.path.join(work, "y%s.npy" % s)]

    cases = [
        ("sgd-nesterov", so, data() + [
            "--steps", "5", "--batch", "32", "--optimizer", "sgd", "--lr",
            "0.05", "--momentum", "0.9", "--nesterov", "--weight-decay",
            "5e-4", "--seed", "1"]),
        # (eps 1e-6: with the default 1e-8, Adam turns the rounding of a
        # gradient near 0 into an update up to lr / 10 apart. Both runs sum
        # the same gradient in a different order; with raw 0-255 pixels
        # one element of C3.weight does so at step 4, 1.3e-3 after 5
        # steps; docs/distributed.md, Limits.)
        ("adam-lr-groups", so, data() + [
            "--steps", "5", "--batch", "32", "--optimizer", "adam", "--lr",
            "0.002", "--lr-group", "C5=0.0005", "--lr-group", "output=0.004",
            "--eps", "1e-6", "--seed", "2"]),
        ("uneven-7", so, data(33) + [
            "--epochs", "1", "--batch", "7", "--optimizer", "sgd", "--lr",
            "0.05", "--momentum", "0.9", "--seed", "3"]),
        # (SGD: Adam's update of a gradient near its eps turns rounding
        # differences into 1e-4 changes at batches this small;
        # docs/distributed.md.)
        ("last-batch-of-1", so, data(29) + [
            "--epochs", "1", "--batch", "7", "--optimizer", "sgd", "--lr",
            "0.05", "--momentum", "0.9", "--weight-decay", "1e-3", "--seed",
            "4"]),
        ("frozen-cached-unfreeze", frozen, data(33) + [
            "--epochs", "2", "--batch", "8", "--optimizer", "sgd", "--lr",
            "0.05", "--momentum", "0.9", "--unfreeze-at", "2:C3", "--seed",
            "5"]),
    ]
    ok = True
    for name, lib, args in cases:
        one = os.path.join(work, name + "-1.npz")
        two = os.path.join(work, name + "-2.npz")
        run(["cnnc-train", lib, "--no-plan", "--export-npz", one] + args)
        out = mpirun(2, ["cnnc-train", lib, "--no-plan", "--export-npz", two]
                     + args)
        if name.startswith("frozen") and "shared by the ranks" not in out:
            print("%s: the feature cache was not shared MISMATCH\n%s"
                  % (name, out))
            ok = False
        a, b = np.load(one), np.load(two)
        err = worst(dict(b), dict(a))
        ok &= report("lenet5 %s: 2 ranks vs 1" % name, err, err <= TOL)
    return ok


def batchnorm(work):
    import torch
    import torch.nn as nn
    sys.path.insert(0, HERE)
    from bn_train_parity import export, make_net

    steps, batch, lr, momentum = 5, 16, 0.05, 0.9
    net = make_net()
    src = os.path.join(work, "bnnet.onnx")
    export(net, src)
    rs = np.random.RandomState(0)
    x = (rs.randn(steps * batch, 3, 12, 12) * 2 + 0.5).astype(np.float32)
    y = rs.randint(0, 5, steps * batch).astype(np.int64)
    np.save(os.path.join(work, "bx.npy"), x)
    np.save(os.path.join(work, "by.npy"), y)
    # 33 samples at batch 16: a last batch of 1, no sample for rank 0.
    np.save(os.path.join(work, "bx33.npy"), x[:33])
    np.save(os.path.join(work, "by33.npy"), y[:33])
    so = os.path.join(work, "bnnet.so")
    run(["cnnc", src, "--train", "-o", so, "--name", "bnnet"])
    initial = {k: v.clone() for k, v in net.state_dict().items()}

    def state(model):
        return {k: v.detach().numpy().copy()
                for k, v in model.state_dict().items()
                if not k.endswith("num_batches_tracked")}

    def pytorch(shards):
        """PyTorch with `shards` ranks of per-rank BatchNorm: each shard's
        forward pass from the same running statistics, the loss of shard r
        weighted by its share of the batch, the new running statistics
        averaged likewise. One shard: ordinary training."""
        net.load_state_dict(initial)
        bns = [m for m in net.modules()
               if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d))]
        net.train()
        opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum)
        for s in range(steps):
            opt.zero_grad()
            start = [(b.running_mean.clone(), b.running_var.clone())
                     for b in bns]
            new = [[torch.zeros_like(m), torch.zeros_like(v)]
                   for m, v in start]
            for r in range(shards):
                lo = s * batch + batch * r // shards
                hi = s * batch + batch * (r + 1) // shards
                with torch.no_grad():
                    for b, (m, v) in zip(bns, start):
                        b.running_mean.copy_(m)
                        b.running_var.copy_(v)
                w = (hi - lo) / batch
                loss = nn.functional.cross_entropy(
                    net(torch.from_numpy(x[lo:hi])),
                    torch.from_numpy(y[lo:hi]))
                (loss * w).backward()
                for acc, b in zip(new, bns):
                    acc[0] += w * b.running_mean.detach()
                    acc[1] += w * b.running_var.detach()
            with torch.no_grad():
                for b, (m, v) in zip(bns, new):
                    b.running_mean.copy_(m)
                    b.running_var.copy_(v)
            opt.step()
        return state(net)

    def train(ranks, out, extra, data=("bx.npy", "by.npy")):
        cmd = ["cnnc-train", so, "--export-npz", os.path.join(work, out),
               "--train-images", os.path.join(work, data[0]),
               "--train-labels", os.path.join(work, data[1]),
               "--batch", str(batch), "--no-shuffle", "--optimizer", "sgd",
               "--lr", str(lr), "--momentum", str(momentum),
               "--quiet"] + extra
        if ranks > 1:
            mpirun(ranks, cmd)
        else:
            run(cmd)
        return dict(np.load(os.path.join(work, out)))

    steps_arg = ["--steps", str(steps)]
    ok = True
    one_process = pytorch(1)
    # SyncBatchNorm (the default): the same training as one process, on 2
    # ranks and on 3 (shards of 5, 5 and 6).
    for ranks in (2, 3):
        got = train(ranks, "bn-global-%d.npz" % ranks, steps_arg)
        err = worst(got, one_process)
        ok &= report("batchnorm global statistics: %d ranks vs PyTorch on "
                     "one process" % ranks, err, err <= TOL)
    got = train(1, "bn-1.npz", steps_arg)
    err = worst(got, one_process)
    ok &= report("batchnorm: 1 process vs PyTorch", err, err <= TOL)
    # A last batch of 1 sample: rank 0 has none and adds nothing to the
    # statistics.
    two = train(2, "bn-empty-2.npz", ["--epochs", "1"], ("bx33.npy", "by33.npy"))
    one = train(1, "bn-empty-1.npz", ["--epochs", "1"], ("bx33.npy", "by33.npy"))
    err = worst(two, one)
    ok &= report("batchnorm global statistics, a rank without a sample: 2 "
                 "ranks vs 1", err, err <= TOL)
    # Per-rank statistics.
    got = train(2, "bn-per-rank-2.npz",
                steps_arg + ["--batchnorm-stats", "per-rank"])
    err = worst(got, pytorch(2))
    ok &= report("batchnorm per-rank statistics: 2 ranks vs PyTorch", err,
                 err <= TOL)
    diff = worst(got, one_process)
    ok &= report("batchnorm per-rank statistics differ from one process by",
                 diff, diff > 1e-3)
    return ok


def main():
    work = sys.argv[1]
    os.makedirs(work, exist_ok=True)
    ok = lenet(work)
    ok &= batchnorm(work)
    print("ALL OK" if ok else "PARITY MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
