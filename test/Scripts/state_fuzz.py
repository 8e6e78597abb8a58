#!/usr/bin/env python3
"""load_state on hostile bytes: every truncation of a real training state
and a few thousand random corruptions of it are refused without a crash
(the state ends with a CRC-32, so a corrupted one is never accepted, a
single flipped bit included); truncations and the state with bytes appended
are refused; and a refused state changes nothing (the model trains on
exactly as before).

Usage: state_fuzz.py WORK_DIR
"""
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
sys.path.insert(0, HERE)
import cnnc  # noqa: E402
from train_parity_onnx import export_lenet  # noqa: E402


def accepts(m, data):
    try:
        m.load_state(data)
        return True
    except cnnc.Error:
        return False


def main():
    work = sys.argv[1]
    os.makedirs(work, exist_ok=True)
    _, src = export_lenet(work)
    so = os.path.join(work, "lenet.so")
    subprocess.run(["cnnc", src, "--train", "--unfreeze-at", "2:0.", "-o",
                    so], check=True)
    rs = np.random.RandomState(0)
    x = rs.randn(4, 1, 28, 28).astype(np.float32)
    y = rs.randint(0, 10, 4).astype(np.int64)
    m = cnnc.load(so)
    m.configure("adam", 1e-3)
    m.train_step(x, y)
    state = m.save_state()
    refused = accepted = 0
    cases = [state[:n] for n in range(0, len(state), max(1, len(state) // 4000))]
    for _ in range(3000):
        b = bytearray(state)
        for _ in range(rs.randint(1, 4)):
            b[rs.randint(0, len(b))] = rs.randint(0, 256)
        if bytes(b) != state:
            cases.append(bytes(b))
    # Single-bit flips spread over the whole state (weights included).
    flips = []
    for pos in np.linspace(0, len(state) - 1, 2000).astype(int):
        b = bytearray(state)
        b[pos] ^= 1 << int(rs.randint(0, 8))
        flips.append(bytes(b))
    cases.append(state + b"\0")
    for data in cases + flips:
        if accepts(m, data):
            accepted += 1
            m.load_state(state)
        else:
            refused += 1
    truncated_refused = all(not accepts(m, state[:n])
                            for n in range(0, len(state), 997))
    trailing_refused = all(not accepts(m, state + extra)
                           for extra in (b"\0", b"\0" * 8, state[:64], state))
    # The model is where it was: the same next step as a fresh copy.
    m2 = cnnc.load(so)
    m2.configure("adam", 1e-3)
    m2.train_step(x, y)
    m.train_step(x, y)
    m2.train_step(x, y)
    same = all(np.array_equal(m.parameter(k), m2.parameter(k))
               for k in m.parameters())
    print("%d damaged states (%d single-bit flips): %d refused, %d accepted, "
          "no crash" % (len(cases) + len(flips), len(flips), refused, accepted))
    print("truncated states refused: %s" % truncated_refused)
    print("states with trailing bytes refused: %s" % trailing_refused)
    print("model unchanged by refused states: %s" % same)
    return 0 if (same and truncated_refused and trailing_refused and
                 accepted == 0) else 1


if __name__ == "__main__":
    sys.exit(main())
