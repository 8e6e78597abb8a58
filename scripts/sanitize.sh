#!/usr/bin/env bash
# Builds cnnc with AddressSanitizer and UndefinedBehaviorSanitizer and runs
# every default test suite (lit + GoogleTest units) on that build.
#
#   scripts/sanitize.sh                 # build-asan, address,undefined
#   SANITIZE=address scripts/sanitize.sh
#   scripts/sanitize.sh -R lit          # more arguments go to ctest
#
# What runs instrumented: cnnc's compiler (frontends, passes, codegen
# driver), cnnc-opt, the frontend test drivers, cnnc-run, cnnc-train, the
# runtime's tool code (NPY, IDX, loader, ONNX export) and the unit tests.
# Not instrumented: LLVM, MLIR, Halide, libonnx, protobuf (Debian's builds)
# and cnnc_rt, the executor linked into each model library, which processes
# without a sanitizer runtime (Python, the C harnesses) load; the executor
# is covered by test/Fuzz's state and checkpoint fuzzers instead
# (docs/reliability.md). Any report fails the test that triggered it (the
# build uses -fno-sanitize-recover=all; leaks are reported at exit).
# Same compiler as the default build (GCC), a separate build tree
# (BUILD_DIR, default build-asan). Time on 2 cores: docs/reliability.md.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD_DIR:-build-asan}
SANITIZE=${SANITIZE:-address,undefined}
JOBS=${JOBS:-2}
start=$(date +%s)
cmake -G Ninja -B "$BUILD" -DCMAKE_BUILD_TYPE=Release \
  -DPython3_EXECUTABLE=/usr/bin/python3 -DCNNC_SANITIZE="$SANITIZE" \
  -DCNNC_ENABLE_FUZZ_TESTS=OFF >/dev/null
cmake --build "$BUILD" -j"$JOBS"
built=$(date +%s)
echo "sanitize.sh: build took $((built - start)) s"
# Sanitizer reports go to stderr, which the failing test's output shows.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
ctest --test-dir "$BUILD" --output-on-failure -j1 "$@" || status=$?
echo "sanitize.sh: tests took $(($(date +%s) - built)) s (status $status)"
exit "$status"
