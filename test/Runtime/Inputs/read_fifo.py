#!/usr/bin/env python3
"""Runs a command that writes into a FIFO while reading the FIFO to a file.

Usage: read_fifo.py FIFO OUT COMMAND ARGS...
Exits with the command's status (a tool that replaced the FIFO with a
regular file would block no reader and the FIFO would be gone).
"""
import subprocess
import sys
import threading

fifo, out = sys.argv[1], sys.argv[2]


def drain():
    with open(fifo, "rb") as f, open(out, "wb") as o:
        o.write(f.read())


t = threading.Thread(target=drain, daemon=True)
t.start()
r = subprocess.run(sys.argv[3:])
t.join(timeout=30)
sys.exit(r.returncode)
