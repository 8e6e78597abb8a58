#!/usr/bin/env python3
"""Splits Fashion-MNIST for the transfer-learning example.

    make_data.py FASHION_MNIST_DIR OUT_DIR [--few N]

Task A (the pretraining task): classes 0-4 (T-shirt, trouser, pullover,
dress, coat), all 30,000 training images, and their 5,000 test images.
Task B (the new task): classes 5-9 (sandal, shirt, sneaker, bag, ankle
boot), only N labelled training images (default 500, the first ones of
each class in file order, balanced), and all 5,000 test images. Labels are
renumbered 0-4 in both tasks. Writes .npy files (uint8 images, int64
labels), which cnnc-train reads directly.
"""
import gzip
import os
import sys

import numpy as np


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big")
             for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    src, out = argv[1], argv[2]
    few = int(argv[argv.index("--few") + 1]) if "--few" in argv else 500
    os.makedirs(out, exist_ok=True)
    for split, prefix in (("train", "train"), ("test", "t10k")):
        x = idx(os.path.join(src, prefix + "-images-idx3-ubyte.gz"))
        y = idx(os.path.join(src, prefix + "-labels-idx1-ubyte.gz"))
        a = y < 5
        np.save(os.path.join(out, "a_%s_x.npy" % split), x[a])
        np.save(os.path.join(out, "a_%s_y.npy" % split), y[a].astype(np.int64))
        b = np.nonzero(y >= 5)[0]
        if split == "train":
            per = few // 5
            b = np.sort(np.concatenate(
                [np.nonzero(y == c)[0][:per] for c in range(5, 10)]))
        np.save(os.path.join(out, "b_%s_x.npy" % split), x[b])
        np.save(os.path.join(out, "b_%s_y.npy" % split),
                (y[b] - 5).astype(np.int64))
        print("%s: task A %d images, task B %d images" %
              (split, int(a.sum()), len(b)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
