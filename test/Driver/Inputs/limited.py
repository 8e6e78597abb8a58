#!/usr/bin/env python3
"""Runs a command under a file-size limit, as a full disk would fail it.

Usage: limited.py BYTES COMMAND ARGS...
SIGXFSZ is left at its default action (killing the process), so a tool
that does not expect a failing write dies of it; the tools ignore it and
report the write error. Prints "exit N" or "signal NAME" after the
command's own output and exits 0, so FileCheck sees what happened.
"""
import resource
import signal
import subprocess
import sys


def limit():
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), int(sys.argv[1])))
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)


r = subprocess.run(sys.argv[2:], preexec_fn=limit, stdout=subprocess.PIPE,
                   stderr=subprocess.STDOUT, text=True)
sys.stdout.write(r.stdout)
print("exit %d" % r.returncode if r.returncode >= 0
      else "signal %s" % signal.Signals(-r.returncode).name)
