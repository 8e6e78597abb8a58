#!/usr/bin/env python3
"""Runs a command once per target of a comma-separated list.

Usage: each_target.py T1,T2,... -- COMMAND ARGS...
In COMMAND and ARGS, {target} becomes the target string and {label} a short
name of it (sse41, avx2, avx512, or the target itself). Each run's output is
prefixed with "[label]"; the exit status is the first failing run's.
"""
import subprocess
import sys


def label(target):
    for level in ("avx512", "avx2", "sse41"):
        if level in target.split("-"):
            return level
    return target.replace(",", "_")


def main():
    sep = sys.argv.index("--")
    targets = sys.argv[1].split(",")
    command = sys.argv[sep + 1:]
    status = 0
    for target in targets:
        args = [a.replace("{target}", target).replace("{label}", label(target))
                for a in command]
        r = subprocess.run(args, stdout=subprocess.PIPE, text=True)
        for line in r.stdout.splitlines():
            print("[%s] %s" % (label(target), line), flush=True)
        if r.returncode and not status:
            status = r.returncode
    return status


if __name__ == "__main__":
    sys.exit(main())
