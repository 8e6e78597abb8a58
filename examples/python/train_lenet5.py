#!/usr/bin/env python3
"""Train LeNet-5 on Fashion-MNIST from a Python loop with the cnnc package.

    PYTHONPATH=python python3 examples/python/train_lenet5.py [EPOCHS]

Compiles examples/lenet5.cnn with its training step, reads Debian's
dataset-fashion-mnist (IDX, gzip), and trains with Adam (lr 1e-3, batch 64,
inputs normalized with 0.2860/0.3530), printing the test accuracy after each
epoch: the main job of scripts/run-main.sh, written in Python.
"""
import gzip
import os
import sys
import time

import numpy as np

import cnnc

DATA = "/usr/share/datasets/fashion-mnist"
HERE = os.path.dirname(os.path.abspath(__file__))


def idx(name):
    with gzip.open(os.path.join(DATA, name)) as f:
        data = f.read()
    rank = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * rank).reshape(dims)


def images(name):
    x = idx(name).astype(np.float32) / 255.0
    return ((x - 0.2860) / 0.3530)[:, None, :, :]


def main():
    epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    x_train, y_train = images("train-images-idx3-ubyte.gz"), idx(
        "train-labels-idx1-ubyte.gz").astype(np.int64)
    x_test, y_test = images("t10k-images-idx3-ubyte.gz"), idx(
        "t10k-labels-idx1-ubyte.gz").astype(np.int64)
    model = cnnc.compile(os.path.join(HERE, "..", "lenet5.cnn"), "lenet5.so",
                         train=True)
    model.configure("adam", lr=1e-3)
    rng = np.random.default_rng(0)
    batch = 64
    for epoch in range(1, epochs + 1):
        start = time.time()
        order = rng.permutation(len(x_train))
        for i in range(0, len(order) - batch + 1, batch):
            take = order[i:i + batch]
            loss = model.train_step(x_train[take], y_train[take])
        seconds = time.time() - start
        predictions = np.concatenate([model(x_test[i:i + 1000]).argmax(1)
                                      for i in range(0, len(x_test), 1000)])
        accuracy = float(np.mean(predictions == y_test))
        print("epoch %d: loss %.4f, test accuracy %.2f%%, %.0f images/s" % (
            epoch, loss, 100 * accuracy, len(order) // batch * batch / seconds))


if __name__ == "__main__":
    main()
