#!/usr/bin/env bash
# Feature cache: training LeNet-5's head only (the convolutions frozen) vs
# training everything, on Fashion-MNIST (Adam lr 1e-3, batch 64), T threads.
# Images/s of the second epoch (the first also fills the cache), from
# --metrics-json; the head is also trained with --feature-cache off, to
# separate the cache from the backward pass that freezing saves.
#   bench/transfer_benchmark.sh [BUILD_DIR] [THREADS]
set -euo pipefail
BUILD=${1:-build}; THREADS=${2:-1}
D=/usr/share/datasets/fashion-mnist
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
"$BUILD/bin/cnnc" examples/lenet5.cnn --train -o "$W/all.so"
"$BUILD/bin/cnnc" examples/lenet5.cnn --train --freeze features -o "$W/head.so"
run() { # NAME SO [FLAGS...]
  local name=$1 so=$2; shift 2
  "$BUILD/bin/cnnc-train" "$so" --train-images $D/train-images-idx3-ubyte.gz \
    --train-labels $D/train-labels-idx1-ubyte.gz --epochs 2 --batch 64 \
    --optimizer adam --lr 1e-3 --normalize 0.2860,0.3530 --threads "$THREADS" \
    --quiet --metrics-json "$W/$name.jsonl" "$@" >/dev/null
  tail -1 "$W/$name.jsonl" | /usr/bin/python3 -c \
    'import json,sys; print(json.load(sys.stdin)["images_per_second"])'
}
all=$(run all "$W/all.so")
nocache=$(run nocache "$W/head.so" --feature-cache off)
cache=$(run cache "$W/head.so")
/usr/bin/python3 - "$all" "$nocache" "$cache" "$THREADS" <<'PY'
import sys
a, n, c, t = map(float, sys.argv[1:5])
print("LeNet-5 training on Fashion-MNIST, %d thread(s), epoch 2, images/s:" % t)
print("  everything trains                       %9.0f   1.00x" % a)
print("  head only, convolutions frozen, no cache %8.0f   %.2fx" % (n, n / a))
print("  head only, feature cache                %9.0f   %.2fx" % (c, c / a))
PY
