#!/bin/sh
# Transfer learning with cnnc, end to end (about a minute on 2 cores):
#
#   examples/transfer-learning/run.sh [BUILD_BIN_DIR] [WORK_DIR]
#
# 1. Pretrain LeNet-5 on Fashion-MNIST classes 0-4 (task A, 30,000 images).
# 2. Adapt it to classes 5-9 (task B) from 500 labelled images, with the
#    three strategies of frozen.cnn, finetune.cnn and gradual.cnn (each a
#    DSL model whose backbone is the pretrained ONNX file, cut before its
#    old head, with a new 5-class head), and from scratch for comparison.
#    A control runs fine-tuning's recipe on the backbone before pretraining:
#    the difference to fine-tuning is what the pretraining itself brings.
# 3. Print a table: test accuracy on task B's 5,000 test images and the
#    training time of each.
#
# Every random choice comes from SEED (default 0): the backbone's initial
# weights (PyTorch), the new heads' and the scratch model's (cnnc --seed),
# and the shuffles (cnnc-train --seed). The same SEED gives the same table
# on the same machine; another CPU rounds differently (vector width) and
# may move the accuracies by a little.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${1:-$HERE/../../build/bin}
WORK=${2:-${TMPDIR:-/tmp}/cnnc-transfer-learning}
DATA=${FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
PY=${PYTHON:-/usr/bin/python3}
EPOCHS=${EPOCHS:-10}
PRETRAIN_EPOCHS=${PRETRAIN_EPOCHS:-2}
SEED=${SEED:-0}
mkdir -p "$WORK"
export PATH="$BIN:$PATH"

"$PY" "$HERE/make_data.py" "$DATA" "$WORK" --few "${FEW:-500}"
"$PY" "$HERE/export_backbone.py" "$WORK/backbone.onnx" "$SEED"

echo "== pretraining on task A (classes 0-4)"
cnnc "$WORK/backbone.onnx" --train -o "$WORK/pretrain.so"
cnnc-train "$WORK/pretrain.so" --progress lines \
  --train-images "$WORK/a_train_x.npy" --train-labels "$WORK/a_train_y.npy" \
  --test-images "$WORK/a_test_x.npy" --test-labels "$WORK/a_test_y.npy" \
  --epochs "$PRETRAIN_EPOCHS" --optimizer adam --lr 1e-3 --batch 64 --seed "$SEED" \
  --normalize 0.2860,0.3530 --export "$WORK/pretrained.onnx"

sed 's/"pretrained.onnx"/"backbone.onnx"/; s/^model tl_finetune/model tl_control/' \
  "$HERE/finetune.cnn" > "$WORK/control.cnn"
for s in frozen finetune gradual scratch control; do
  [ "$s" = control ] || cp "$HERE/$s.cnn" "$WORK/$s.cnn"
  echo "== task B (classes 5-9, few images): $s"
  cnnc "$WORK/$s.cnn" --train --seed "$SEED" -o "$WORK/$s.so"
  cnnc-train "$WORK/$s.so" --progress lines --epochs "$EPOCHS" --seed "$SEED" \
    --train-images "$WORK/b_train_x.npy" --train-labels "$WORK/b_train_y.npy" \
    --test-images "$WORK/b_test_x.npy" --test-labels "$WORK/b_test_y.npy" \
    --normalize 0.2860,0.3530 --metrics-json "$WORK/$s.jsonl"
done

"$PY" - "$WORK" "${FEW:-500}" <<'PY'
import json, sys
work, few = sys.argv[1], sys.argv[2]
names = {"frozen": "feature extractor (frozen backbone, new head)",
         "finetune": "fine-tuning (per-group learning rates)",
         "gradual": "gradual unfreezing (head, +dense, +all)",
         "scratch": "from scratch (no pretraining)",
         "control": "fine-tuning the untrained backbone (control)"}
print()
print("%-48s %10s %12s" % ("strategy (task B: %s images)" % few, "test acc", "train time"))
for s, title in names.items():
    rows = [json.loads(l) for l in open("%s/%s.jsonl" % (work, s))]
    print("%-48s %9.2f%% %10.2f s" % (title, 100 * rows[-1]["test_accuracy"],
                                      sum(r["seconds"] for r in rows)))
PY
