#!/usr/bin/env python3
"""Interrupts a compile once its build directory exists, then checks that
nothing is left behind.

Usage: interrupt.py SIGNAL TMPDIR COMMAND ARGS...
Starts COMMAND with TMPDIR, waits (up to 60 s) until a cnnc-build-* directory
appears there, sends SIGNAL (INT or TERM), waits for the process and prints
how it ended and what is left in TMPDIR.
"""
import os
import signal
import subprocess
import sys
import time

sig = getattr(signal, "SIG" + sys.argv[1])
tmp = sys.argv[2]
env = dict(os.environ, TMPDIR=tmp, CNNC_CACHE_DIR="off")
p = subprocess.Popen(sys.argv[3:], env=env, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL)
deadline = time.time() + 60
while time.time() < deadline and p.poll() is None:
    if any(n.startswith("cnnc-build") for n in os.listdir(tmp)):
        break
    time.sleep(0.01)
time.sleep(0.2)
if p.poll() is None:
    p.send_signal(sig)
rc = p.wait(timeout=60)
print("ended by signal %s" % signal.Signals(-rc).name if rc < 0 else "exit %d" % rc)
print("left in TMPDIR:", sorted(os.listdir(tmp)))
