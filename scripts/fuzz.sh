#!/usr/bin/env bash
# Builds cnnc's libFuzzer targets (test/Fuzz) and runs each for SECONDS.
#
#   scripts/fuzz.sh [SECONDS]          # every fuzzer, SECONDS each (default 10)
#   FUZZERS="onnx-proto dsl" scripts/fuzz.sh 300   # some of them
#   scripts/fuzz.sh --list             # the fuzzers' names
#
# The fuzz build is its own build tree (BUILD_DIR, default build-fuzz),
# configured with clang-14, -DCNNC_ENABLE_FUZZERS=ON (ASan + UBSan +
# libFuzzer coverage on all of cnnc's code). Each fuzzer starts from its
# corpus, <build>/fuzz/corpus/<name>, seeded from the repository's test
# inputs and grown by every run. A crash, timeout, leak or out-of-memory
# input is saved as <build>/fuzz/findings/<name>/<kind>-<sha1>; its log is
# <build>/fuzz/logs/<name>.log. Reproduce one with
#   <build>/fuzz/<name>-fuzzer FILE
# Other settings (environment):
#   JOBS=N         build parallelism (default 2)
#   FUZZ_TIMEOUT=S one input running longer than S seconds is a finding
#                  (default 10)
#   FUZZ_ARGS=...  more libFuzzer flags, e.g. "-jobs=2 -workers=2"
# Exit status: 0 when no fuzzer found anything, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

ALL_FUZZERS=(onnx onnx-proto dsl mlir npy idx checkpoint state)
if [[ "${1:-}" == --list ]]; then
  printf '%s\n' "${ALL_FUZZERS[@]}"
  exit 0
fi
SECONDS_EACH=${1:-10}
BUILD=${BUILD_DIR:-build-fuzz}
JOBS=${JOBS:-2}
TIMEOUT=${FUZZ_TIMEOUT:-10}
read -r -a FUZZERS <<<"${FUZZERS:-${ALL_FUZZERS[*]}}"

for tool in clang-14 clang++-14; do
  if ! command -v "$tool" >/dev/null; then
    echo "fuzz.sh: $tool not found: apt-get install -y clang-14 libclang-rt-14-dev" >&2
    exit 2
  fi
done
if ! compgen -G "/usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a" >/dev/null; then
  echo "fuzz.sh: libFuzzer not found: apt-get install -y libclang-rt-14-dev" >&2
  exit 2
fi

if [[ ! -f "$BUILD/build.ninja" ]]; then
  # -O1 -g: libFuzzer's usual trade-off between speed and readable stacks.
  cmake -G Ninja -B "$BUILD" \
    -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g -DNDEBUG" \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g -DNDEBUG" \
    -DPython3_EXECUTABLE=/usr/bin/python3 \
    -DCNNC_ENABLE_FUZZERS=ON >/dev/null
fi
targets=()
for f in "${FUZZERS[@]}"; do targets+=("$f-fuzzer"); done
cmake --build "$BUILD" -j"$JOBS" --target "${targets[@]}" cnnc-fuzz-state-seeds
cmake --build "$BUILD" --target cnnc-fuzz-corpus >/dev/null

FUZZ="$BUILD/fuzz"
mkdir -p "$FUZZ/logs" "$FUZZ/findings"
# A sanitizer report ends the run with the input saved; leaks are findings.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

found=0
printf '%-11s %6s %10s %8s %7s %7s %6s  %s\n' fuzzer seconds execs exec/s cov ft corpus result
for f in "${FUZZERS[@]}"; do
  log="$FUZZ/logs/$f.log"
  mkdir -p "$FUZZ/corpus/$f" "$FUZZ/findings/$f"
  args=(-max_total_time="$SECONDS_EACH" -timeout="$TIMEOUT" -rss_limit_mb=2048
        -print_final_stats=1 -artifact_prefix="$FUZZ/findings/$f/")
  [[ "$f" == dsl ]] && args+=(-dict=test/Fuzz/dsl.dict)
  t0=$(date +%s)
  # shellcheck disable=SC2086
  if "$FUZZ/$f-fuzzer" "${args[@]}" ${FUZZ_ARGS:-} "$FUZZ/corpus/$f" >"$log" 2>&1; then
    result=ok
  else
    result="FOUND: $(grep -o "Test unit written to .*" "$log" | tail -1 | sed 's/Test unit written to //')"
    reason=$(grep -m1 -E "ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|==ERROR|ALARM|out-of-memory" "$log" || true)
    [[ -n "$reason" ]] && result+=" ($reason)"
    found=1
  fi
  elapsed=$(($(date +%s) - t0))
  stats=$(grep -E "^#[0-9]+" "$log" | grep -E "cov:" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$stats")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$stats")
  corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$stats")
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  printf '%-11s %6s %10s %8s %7s %7s %6s  %s\n' "$f" "$elapsed" \
    "${execs:--}" "${rate:--}" "${cov:--}" "${ft:--}" "${corp:--}" "$result"
done
if ((found)); then
  echo "fuzz.sh: findings under $FUZZ/findings (logs: $FUZZ/logs)" >&2
fi
exit "$found"
