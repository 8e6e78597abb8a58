#!/usr/bin/env bash
# Installs the dependencies, builds cnnc and runs every default test suite.
#   scripts/test.sh            # default suites (~minutes on 2 cores)
#   CNNC_SLOW=1 scripts/test.sh  # also the slow suites (ResNet-18 at 224, fuzzing)
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
BUILD=${BUILD_DIR:-build}
SLOW=OFF
[[ "${CNNC_SLOW:-0}" == 1 ]] && SLOW=ON
cmake -G Ninja -B "$BUILD" -DCMAKE_BUILD_TYPE=Release \
  -DPython3_EXECUTABLE=/usr/bin/python3 -DCNNC_ENABLE_SLOW_TESTS=$SLOW
cmake --build "$BUILD" -j2
ctest --test-dir "$BUILD" --output-on-failure -j1
