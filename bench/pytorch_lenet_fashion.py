#!/usr/bin/env python3
"""PyTorch reference for the README's main job: LeNet-5 on Fashion-MNIST,
Adam lr 1e-3, batch 64, normalize 0.2860/0.3530, E epochs. Prints test
accuracy and images/s per epoch (for docs/performance.md)."""
import gzip, sys, time
import numpy as np
import torch
import torch.nn as nn

D = "/usr/share/datasets/fashion-mnist/"
def idx(path, offset):
    with gzip.open(D + path) as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)
xtr = ((idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28) / 255.0 - 0.2860) / 0.3530).astype(np.float32)
ytr = idx("train-labels-idx1-ubyte.gz", 8).astype(np.int64)
xte = ((idx("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28) / 255.0 - 0.2860) / 0.3530).astype(np.float32)
yte = idx("t10k-labels-idx1-ubyte.gz", 8).astype(np.int64)
epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
threads = int(sys.argv[2]) if len(sys.argv) > 2 else 1
seed = int(sys.argv[3]) if len(sys.argv) > 3 else 0
torch.manual_seed(seed); torch.set_num_threads(threads)
net = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                    nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                    nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
X, Y = torch.from_numpy(xtr), torch.from_numpy(ytr)
for e in range(epochs):
    perm = torch.randperm(len(X)); t0 = time.time(); net.train()
    for i in range(0, len(X), 64):
        b = perm[i:i + 64]
        opt.zero_grad(); loss = nn.functional.cross_entropy(net(X[b]), Y[b]); loss.backward(); opt.step()
    dt = time.time() - t0
    net.eval()
    with torch.no_grad():
        acc = (net(torch.from_numpy(xte)).argmax(1).numpy() == yte).mean()
    print("epoch %d  test acc %.2f%%  %.0f images/s  %.1f s" % (e + 1, 100 * acc, len(X) / dt, dt), flush=True)
