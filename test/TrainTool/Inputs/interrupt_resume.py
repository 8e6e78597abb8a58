#!/usr/bin/env python3
"""SIGINT or SIGTERM in the middle of training, then --resume.

Usage: interrupt_resume.py WORK LIB SIGNAL
Trains LIB on synthetic data (2 epochs, one thread, --checkpoint), sends
SIGNAL once the first epoch is under way, checks the exit status and the
message, resumes from the checkpoint, and compares the final checkpoint with
an uninterrupted run's: the same bytes (same steps, same order).
"""
import os
import signal
import subprocess
import sys
import time

import numpy as np

work, lib, signame = sys.argv[1], sys.argv[2], sys.argv[3]
sig = getattr(signal, "SIG" + signame)
os.makedirs(work, exist_ok=True)
rs = np.random.RandomState(0)
x = rs.rand(6000, 1, 28, 28).astype(np.float32)
y = rs.randint(0, 10, 6000).astype(np.int64)
np.save(os.path.join(work, "x.npy"), x)
np.save(os.path.join(work, "y.npy"), y)


def args(ckpt, metrics):
    return ["cnnc-train", lib, "--train-images", os.path.join(work, "x.npy"),
            "--train-labels", os.path.join(work, "y.npy"), "--epochs", "2",
            "--batch", "16", "--threads", "1", "--optimizer", "adam",
            "--lr", "0.001", "--checkpoint", os.path.join(work, ckpt),
            "--metrics-json", os.path.join(work, metrics), "--progress", "lines"]


full = subprocess.run(args("full.ckpt", "full.jsonl"), capture_output=True, text=True)
print("uninterrupted: exit %d" % full.returncode)

p = subprocess.Popen(args("cut.ckpt", "cut.jsonl"), stdout=subprocess.PIPE,
                     stderr=subprocess.STDOUT, text=True)
# The header line comes once the handlers are installed and just before the
# first step; the first epoch takes about a second on one thread.
header = ""
while not header.startswith("training "):
    header = p.stdout.readline()
time.sleep(0.1)
p.send_signal(sig)
out, _ = p.communicate(timeout=120)
out = header + out
print("interrupted: exit %d" % p.returncode)
print([l for l in out.splitlines() if l.startswith("interrupted")])

r = subprocess.run(args("cut.ckpt", "cut.jsonl") + ["--resume", os.path.join(work, "cut.ckpt")],
                   capture_output=True, text=True)
print("resumed: exit %d" % r.returncode)
print([l for l in r.stdout.splitlines() if l.startswith("resumed")])
a = open(os.path.join(work, "full.ckpt"), "rb").read()
b = open(os.path.join(work, "cut.ckpt"), "rb").read()
print("final checkpoints identical: %s" % (a == b))
lines = open(os.path.join(work, "cut.jsonl")).read().splitlines()
print("metrics lines after resume: %d" % len(lines))
