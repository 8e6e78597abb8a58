#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: install the packages, build
# cnnc, compile the bundled LeNet-5 with its training step, and train it on
# Fashion-MNIST (Debian's dataset-fashion-mnist) for 3 epochs with Adam
# (lr 1e-3, batch 64), printing the test accuracy after each epoch.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
BUILD=${BUILD_DIR:-build}
cmake -G Ninja -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DPython3_EXECUTABLE=/usr/bin/python3
cmake --build "$BUILD" -j2 --target cnnc cnnc-train cnnc-run
DATA=/usr/share/datasets/fashion-mnist
OUT=${OUT_DIR:-$BUILD/main-job}
mkdir -p "$OUT"
"$BUILD/bin/cnnc" examples/lenet5.cnn --summary
"$BUILD/bin/cnnc" examples/lenet5.cnn --train -o "$OUT/lenet5.so"
"$BUILD/bin/cnnc-train" "$OUT/lenet5.so" \
  --train-images $DATA/train-images-idx3-ubyte.gz \
  --train-labels $DATA/train-labels-idx1-ubyte.gz \
  --test-images $DATA/t10k-images-idx3-ubyte.gz \
  --test-labels $DATA/t10k-labels-idx1-ubyte.gz \
  --epochs 3 --batch 64 --optimizer adam --lr 1e-3 \
  --normalize 0.2860,0.3530 --metrics-json "$OUT/metrics.jsonl"
