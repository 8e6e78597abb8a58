#!/usr/bin/env bash
# The main job: set up, build, compile the bundled LeNet-5 and show it.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
BUILD=${BUILD_DIR:-build}
cmake -G Ninja -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DPython3_EXECUTABLE=/usr/bin/python3
cmake --build "$BUILD" -j2 --target cnnc
"$BUILD/bin/cnnc" examples/lenet5.cnn --summary
"$BUILD/bin/cnnc" examples/lenet5.cnn --emit=mlir
