"""Runs a DSL parser on damaged copies of a .cnn file: every prefix at a
stride (a file cut short), and seeded random byte edits. Each run must end
with exit status 0 and a module, or 1 and an error diagnostic; a crash, a
signal or a hang is a failure.

    mangle.py TOOL FILE.cnn WORKDIR [STRIDE] [EDITS]
"""
import os
import random
import subprocess
import sys


def run(tool, path):
    try:
        r = subprocess.run([tool, path], capture_output=True, timeout=30)
    except subprocess.TimeoutExpired:
        return "hang"
    if r.returncode == 1 and b": error: " in r.stderr:
        return None
    if r.returncode == 0 and b"module" in r.stdout:
        return None
    return "exit status %d: %s" % (r.returncode, r.stderr[-500:].decode(errors="replace"))


def main(argv):
    tool, source, workdir = argv[1], argv[2], argv[3]
    stride = int(argv[4]) if len(argv) > 4 else 7
    edits = int(argv[5]) if len(argv) > 5 else 100
    os.makedirs(workdir, exist_ok=True)
    text = open(source, "rb").read()
    cases = [text[:n] for n in range(0, len(text) + 1, stride)]
    rng = random.Random(0)
    alphabet = b"()[]{},=:.-?\"#\n\\ xN0123456789e"
    for _ in range(edits):
        data = bytearray(text)
        for _ in range(rng.randint(1, 4)):
            pos = rng.randrange(len(data))
            if rng.random() < 0.5:
                data[pos] = rng.choice(alphabet + bytes([rng.randrange(256)]))
            else:
                del data[pos:pos + rng.randint(1, 12)]
        cases.append(bytes(data))
    failures = 0
    for i, data in enumerate(cases):
        path = os.path.join(workdir, "case%d.cnn" % i)
        with open(path, "wb") as f:
            f.write(data)
        problem = run(tool, path)
        if problem:
            failures += 1
            print("FAILED on %s: %s" % (path, problem))
    print("mangled: %d, failures: %d" % (len(cases), failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
