#!/usr/bin/env python3
"""Transfer-learning checks through cnnc and cnnc-train against PyTorch.

A LeNet-5 exported by PyTorch (ONNX; parameters 0. conv1, 3. conv2, 7. 9. 11.
the dense layers) is compiled with `cnnc --train` and trained by `cnnc-train
--no-shuffle --export`; the exported weights are compared with PyTorch's
after the same steps from the same initial weights.

  frozen   conv1 frozen at compile time (--freeze 0.), two groups at other
           learning rates (--lr-group), SGD with momentum, 5 steps: PyTorch's
           weights within 1e-4, conv1 bit-identical to its initial values;
           with and without the feature cache (the frozen conv1 is cached).
  unfreeze gradual unfreezing compiled into the library (--unfreeze-at
           2:3. --unfreeze-at 3:0.), 3 epochs: PyTorch's weights (requires_grad
           toggled per epoch) within 1e-4, and each group unchanged until its
           epoch.
  resume   a run killed while it writes its second checkpoint leaves the
           first; resumed from it, it ends with the weights of a run that
           was never interrupted, bit for bit. Corrupt, truncated and foreign
           checkpoints are refused.

Usage: transfer_check.py WORK_DIR frozen|unfreeze|resume
"""
import os
import signal
import subprocess
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_parity_onnx import export_lenet  # noqa: E402

BATCH = 32


def lenet(work):
    return export_lenet(work)


def data(work, samples):
    rs = np.random.RandomState(0)
    x = rs.randn(samples, 1, 28, 28).astype(np.float32)
    y = rs.randint(0, 10, samples).astype(np.int64)
    np.save(os.path.join(work, "x.npy"), x)
    np.save(os.path.join(work, "y.npy"), y)
    return x, y


def cnnc(*args):
    subprocess.run(["cnnc"] + list(args), check=True)


def train(work, so, out, *flags, env=None, check=True):
    cmd = ["cnnc-train", so, "--train-images", os.path.join(work, "x.npy"),
           "--train-labels", os.path.join(work, "y.npy"),
           "--batch", str(BATCH), "--export", out] + list(flags)
    r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if check and r.returncode != 0:
        sys.stderr.write(r.stdout + r.stderr)
        raise SystemExit("cnnc-train failed: %s" % " ".join(cmd))
    return r


def weights(path):
    return {t.name: numpy_helper.to_array(t)
            for t in onnx.load(path).graph.initializer}


def compare(tag, got, net):
    worst = 0.0
    for name, ref in net.state_dict().items():
        ref = ref.detach().numpy()
        err = float(np.max(np.abs(got[name] - ref)) /
                    max(np.max(np.abs(ref)), 1e-12))
        worst = max(worst, err)
    ok = worst <= 1e-4
    print("%s: worst relative error %.2e %s" % (tag, worst,
                                                "OK" if ok else "MISMATCH"))
    return ok


def torch_steps(net, opt, x, y, steps, first=0):
    for s in range(first, first + steps):
        opt.zero_grad()
        sl = slice(BATCH * s, BATCH * (s + 1))
        nn.functional.cross_entropy(net(torch.from_numpy(x[sl])),
                                    torch.from_numpy(y[sl])).backward()
        opt.step()


def check_frozen(work):
    net, src = lenet(work)
    x, y = data(work, 5 * BATCH)
    initial = {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}
    so = os.path.join(work, "frozen.so")
    cnnc(src, "--train", "--freeze", "0.", "-o", so)
    flags = ["--steps", "5", "--no-shuffle", "--optimizer", "sgd", "--lr",
             "0.05", "--momentum", "0.9", "--lr-group", "3.=0.01",
             "--lr-group", "7.=0.02"]
    cached = train(work, so, os.path.join(work, "cached.onnx"), *flags)
    print("cache used: %s" % ("feature cache:" in cached.stdout))
    train(work, so, os.path.join(work, "uncached.onnx"), *flags,
          "--feature-cache", "off")
    filed = train(work, so, os.path.join(work, "filecache.onnx"), *flags,
                  "--feature-cache", "file")
    print("file cache used: %s" % ("in a temporary file" in filed.stdout))
    for p in net[0].parameters():
        p.requires_grad_(False)
    groups = [{"params": net[3].parameters(), "lr": 0.01},
              {"params": net[7].parameters(), "lr": 0.02},
              {"params": list(net[9].parameters()) +
               list(net[11].parameters())}]
    opt = torch.optim.SGD(groups, lr=0.05, momentum=0.9)
    torch_steps(net, opt, x, y, 5)
    ok = True
    for tag in ("cached", "uncached", "filecache"):
        got = weights(os.path.join(work, tag + ".onnx"))
        ok &= compare("frozen+groups " + tag, got, net)
        same = all(np.array_equal(got[k], initial[k])
                   for k in ("0.weight", "0.bias"))
        print("frozen+groups %s: frozen conv1 bit-identical: %s" % (tag, same))
        ok &= same
    return ok


def unfreeze_setup(work):
    net, src = lenet(work)
    x, y = data(work, 2 * BATCH)
    so = os.path.join(work, "unfreeze.so")
    cnnc(src, "--train", "--unfreeze-at", "2:3.", "--unfreeze-at", "3:0.",
         "-o", so)
    return net, src, x, y, so


def check_unfreeze(work):
    net, src, x, y, so = unfreeze_setup(work)
    initial = {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}
    flags = ["--no-shuffle", "--optimizer", "sgd", "--lr", "0.05",
             "--momentum", "0.9", "--weight-decay", "0.001"]
    got = {}
    for epochs in (1, 2, 3):
        out = os.path.join(work, "epochs%d.onnx" % epochs)
        r = train(work, so, out, "--epochs", str(epochs), *flags)
        got[epochs] = weights(out)
    print("unfreezing lines: %s" % [l for l in r.stdout.splitlines()
                                   if "unfreezing" in l])
    ok = True
    # Each group keeps its initial values until its epoch.
    for group, epoch in (("0.", 3), ("3.", 2), ("7.", 1)):
        for e in (1, 2, 3):
            same = all(np.array_equal(got[e][k], initial[k])
                       for k in initial if k.startswith(group))
            expect_same = e < epoch
            print("group %s after epoch %d: %s" %
                  (group, e, "unchanged" if same else "changed"))
            ok &= same == expect_same
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9,
                          weight_decay=0.001)
    for epoch in (1, 2, 3):
        for p in net[0].parameters():
            p.requires_grad_(epoch >= 3)
        for p in net[3].parameters():
            p.requires_grad_(epoch >= 2)
        torch_steps(net, opt, x, y, 2)
    ok &= compare("gradual unfreezing", got[3], net)
    return ok


def check_resume(work):
    net, src, x, y, so = unfreeze_setup(work)
    flags = ["--epochs", "3", "--optimizer", "adam", "--lr", "0.001",
             "--seed", "7"]
    full = os.path.join(work, "full.onnx")
    train(work, so, full, *flags, "--checkpoint", os.path.join(work, "a.ckpt"))
    ckpt = os.path.join(work, "b.ckpt")
    env = dict(os.environ, CNNC_TRAIN_TEST_KILL_IN_CHECKPOINT="2")
    r = train(work, so, os.path.join(work, "never.onnx"), *flags,
              "--checkpoint", ckpt, env=env, check=False)
    print("killed while saving checkpoint 2: %s" %
          (r.returncode == -signal.SIGKILL))
    resumed = os.path.join(work, "resumed.onnx")
    r = train(work, so, resumed, *flags, "--resume", ckpt)
    print([l for l in r.stdout.splitlines() if l.startswith("resumed")][0]
          .replace(work, "WORK"))
    a, b = weights(full), weights(resumed)
    same = all(np.array_equal(a[k], b[k]) for k in a)
    print("resumed run equals the uninterrupted one bit for bit: %s" % same)
    ok = same and r.returncode == 0
    # Bad checkpoints: a flipped byte, a truncated file, another model.
    blob = open(ckpt, "rb").read()
    bad = bytearray(blob)
    bad[len(bad) // 2] ^= 0x40
    cases = {"flipped": bytes(bad), "truncated": blob[:len(blob) // 3],
             "empty": b""}
    for name, content in cases.items():
        path = os.path.join(work, name + ".ckpt")
        open(path, "wb").write(content)
        r = train(work, so, os.path.join(work, "x.onnx"), *flags,
                  "--resume", path, check=False)
        line = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ""
        print("%s: exit %d: %s" % (name, r.returncode, line.replace(work, "WORK")))
        ok &= r.returncode == 1
    other = os.path.join(work, "other.so")
    cnnc(src, "--train", "--name", "other", "-o", other)
    r = train(work, other, os.path.join(work, "x.onnx"), *flags, "--resume",
              ckpt, check=False)
    print("other model: exit %d: %s" % (r.returncode, r.stderr.strip()
                                         .splitlines()[-1].replace(work, "WORK")))
    ok &= r.returncode == 1
    return ok


def main():
    work, what = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    ok = {"frozen": check_frozen, "unfreeze": check_unfreeze,
          "resume": check_resume}[what](work)
    print("%s: %s" % (what, "PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
