#!/usr/bin/env bash
# Training throughput on Fashion-MNIST, cnnc vs PyTorch in the same run:
# LeNet-5, Adam lr 1e-3, batch 64, normalize 0.2860,0.3530, E epochs, T threads.
#   bench/train_benchmark.sh [BUILD_DIR] [EPOCHS] [THREADS]
set -euo pipefail
BUILD=${1:-build}; EPOCHS=${2:-3}; THREADS=${3:-1}
D=/usr/share/datasets/fashion-mnist
W=$(mktemp -d)
"$BUILD/bin/cnnc" examples/lenet5.cnn --train -o "$W/lenet5.so"
echo "== cnnc ($THREADS thread(s))"
"$BUILD/bin/cnnc-train" "$W/lenet5.so" --train-images $D/train-images-idx3-ubyte.gz \
  --train-labels $D/train-labels-idx1-ubyte.gz --test-images $D/t10k-images-idx3-ubyte.gz \
  --test-labels $D/t10k-labels-idx1-ubyte.gz --epochs "$EPOCHS" --batch 64 \
  --optimizer adam --lr 1e-3 --normalize 0.2860,0.3530 --threads "$THREADS" --progress lines
echo "== PyTorch ($THREADS thread(s))"
/usr/bin/python3 bench/pytorch_lenet_fashion.py "$EPOCHS" "$THREADS"
