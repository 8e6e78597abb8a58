#!/usr/bin/env python3
"""Checks that every case listed in onnx-unsupported.txt is refused for the
listed reason: the case exists in ONNX's conformance data (Debian's
libonnx-testdata), `cnnc model.onnx` exits with status 1 (an error, not a
crash), and one of its error lines contains the listed reason as is.

Exit status 1 when any listed case is not refused that way: a case that
does not exist ("cannot open"), a crash, or a refusal for another reason.

Usage: onnx_unsupported.py --bin BUILD/bin --work DIR [--list FILE]
"""
import argparse
import os
import subprocess
import sys

DATA = "/usr/share/libonnx-testdata/data"
HERE = os.path.dirname(os.path.abspath(__file__))


def read_list(path):
    """(case, reason) pairs; the reason is the rest of the line."""
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 1)
            rows.append((parts[0], parts[1] if len(parts) > 1 else ""))
    return rows


def check(case, reason, bindir, work):
    """None when the case is refused as listed, else what went wrong."""
    if not reason:
        return "no reason listed"
    model = os.path.join(DATA, case, "model.onnx")
    if not os.path.isfile(model):
        return "no such test case (%s)" % model
    r = subprocess.run([os.path.join(bindir, "cnnc"), model, "-o",
                        os.path.join(work, "refused.so")],
                       capture_output=True, text=True)
    errors = [line.split("error: ", 1)[1] for line in r.stderr.splitlines()
              if "error: " in line]
    if r.returncode != 1 or not errors:
        return "expected a refusal (exit 1 and an error), got exit %d: %s" % (
            r.returncode, r.stderr.strip()[:500])
    if not any(reason in e for e in errors):
        return "refused for another reason: %s" % " | ".join(errors)[:500]
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--list", default=os.path.join(HERE, "onnx-unsupported.txt"))
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    rows = read_list(args.list)
    problems = []
    seen = set()
    for case, reason in rows:
        if case in seen:
            problems.append("%s: listed twice" % case)
            continue
        seen.add(case)
        error = check(case, reason, args.bin, args.work)
        if error:
            problems.append("%s: %s" % (case, error))
        else:
            print("REFUSED %s" % case)
    for p in problems:
        print("PROBLEM " + p)
    print("%d refused as listed, %d problems" % (len(rows) - len(problems),
                                                 len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
