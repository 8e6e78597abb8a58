#!/usr/bin/env bash
# Data-parallel scaling of cnnc-train on this machine (docs/distributed.md):
# LeNet-5 on Fashion-MNIST (60,000 images), Adam lr 1e-3, E epochs, at a
# global batch of 64 and 256, as one process with 1 and 2 threads and as
# `mpirun -np 2` ranks of 1 thread each. Prints images/s per run, the
# all-reduce time the backward pass did not hide, and the final accuracy;
# then ResNet-18 with BatchNorm (SyncBatchNorm against per-rank statistics).
#   bench/dist_benchmark.sh [BUILD_DIR] [EPOCHS]
set -euo pipefail
BUILD=${1:-build}; EPOCHS=${2:-1}
D=/usr/share/datasets/fashion-mnist
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
lscpu | grep -E '^Model name' || true
echo "ISA: $(grep -o -w -E 'avx512f|avx2|fma|sse4_1' /proc/cpuinfo | sort -u | tr '\n' ' ')"
"$BUILD/bin/cnnc" examples/lenet5.cnn --train -o "$W/lenet5.so"
DATA=(--train-images $D/train-images-idx3-ubyte.gz --train-labels $D/train-labels-idx1-ubyte.gz
      --test-images $D/t10k-images-idx3-ubyte.gz --test-labels $D/t10k-labels-idx1-ubyte.gz
      --optimizer adam --lr 1e-3 --normalize 0.2860,0.3530 --epochs "$EPOCHS" --no-plan --progress lines)
summary() { grep -E '^epoch [0-9]+/[0-9]+  train|^all-reduce|^final' | sed 's/^/    /'; }
for B in 64 256; do
  echo "== batch $B: 1 process, 1 thread"
  "$BUILD/bin/cnnc-train" "$W/lenet5.so" "${DATA[@]}" --batch $B --threads 1 2>&1 | summary
  echo "== batch $B: 1 process, 2 threads"
  "$BUILD/bin/cnnc-train" "$W/lenet5.so" "${DATA[@]}" --batch $B --threads 2 2>&1 | summary
  echo "== batch $B: mpirun -np 2, 1 thread per rank"
  mpirun --oversubscribe -np 2 "$BUILD/bin/cnnc-train" "$W/lenet5.so" "${DATA[@]}" --batch $B 2>&1 | summary
done

# ResNet-18 (torchvision, 10 classes, BatchNorm in training) at 32x32 on
# random images, batch 32, SGD with momentum, 24 steps: SyncBatchNorm
# (--batchnorm-stats global) against per-rank statistics.
/usr/bin/python3 - "$W" <<'PY'
import sys, numpy as np, torch, torchvision
w = sys.argv[1]
torch.manual_seed(0)
net = torchvision.models.resnet18(num_classes=10).eval()
torch.onnx.export(net, torch.randn(2, 3, 32, 32), w + "/r18.onnx",
                  input_names=["input"], output_names=["logits"],
                  dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
                  opset_version=13, training=torch.onnx.TrainingMode.PRESERVE,
                  do_constant_folding=False)
rs = np.random.RandomState(0)
np.save(w + "/x.npy", rs.randint(0, 256, (2048, 3, 32, 32)).astype(np.uint8))
np.save(w + "/y.npy", rs.randint(0, 10, 2048).astype(np.int64))
PY
"$BUILD/bin/cnnc" "$W/r18.onnx" --train -o "$W/r18.so"
R18=(--train-images "$W/x.npy" --train-labels "$W/y.npy" --batch 32 --steps 24
     --optimizer sgd --lr 0.01 --momentum 0.9 --no-plan --progress lines)
echo "== ResNet-18 32x32, batch 32: 1 process, 1 thread"
"$BUILD/bin/cnnc-train" "$W/r18.so" "${R18[@]}" --threads 1 2>&1 | summary
echo "== ResNet-18 32x32, batch 32: 1 process, 2 threads"
"$BUILD/bin/cnnc-train" "$W/r18.so" "${R18[@]}" --threads 2 2>&1 | summary
for BN in global per-rank; do
  echo "== ResNet-18 32x32, batch 32: mpirun -np 2, --batchnorm-stats $BN"
  mpirun --oversubscribe -np 2 "$BUILD/bin/cnnc-train" "$W/r18.so" "${R18[@]}" --batchnorm-stats $BN 2>&1 | summary
done
