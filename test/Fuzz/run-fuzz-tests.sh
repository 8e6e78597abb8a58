#!/usr/bin/env bash
# The fuzzers' part of the default test run (ctest: fuzz-regressions,
# fuzz-short-run; docs/reliability.md).
#
#   run-fuzz-tests.sh regressions FUZZ_BIN_DIR
#       every reproducer under test/Fuzz/crashes/<name>/ runs once through
#       <name>-fuzzer: each must now pass (no signal, no sanitizer report)
#   run-fuzz-tests.sh short-run FUZZ_BIN_DIR [SECONDS_EACH]
#       each fuzzer runs a fixed number of inputs from seed 1 (repeatable),
#       at most SECONDS_EACH (default 7: about a minute for the eight), from
#       its seed corpus, which it does not modify
#
# A finding is saved under FUZZ_BIN_DIR/ctest-findings/<name>/ and its log
# is printed; copy the file to test/Fuzz/crashes/<name>/ once understood,
# so that it stays a regression test.
set -uo pipefail
mode=$1
bin=$2
src=$(cd "$(dirname "$0")" && pwd)
FUZZERS=(onnx onnx-proto dsl mlir npy idx checkpoint state)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=0

case "$mode" in
regressions)
  count=0
  for f in "${FUZZERS[@]}"; do
    dir="$src/crashes/$f"
    [[ -d "$dir" ]] || continue
    for input in "$dir"/*; do
      [[ -f "$input" ]] || continue
      count=$((count + 1))
      if out=$("$bin/$f-fuzzer" -timeout=30 -rss_limit_mb=2048 "$input" 2>&1); then
        echo "ok    $f ${input#"$src"/}"
      else
        echo "FAIL  $f ${input#"$src"/}"
        tail -n 30 <<<"$out"
        failed=1
      fi
    done
  done
  echo "run-fuzz-tests.sh: $count reproducers"
  ;;
short-run)
  seconds=${3:-7}
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  for f in "${FUZZERS[@]}"; do
    mkdir -p "$work/$f" "$bin/ctest-findings/$f"
    # A fixed seed and a fixed number of runs per fuzzer (about the time
    # given, on this project's 2-core machines), so that a test run repeats
    # the same mutations and does not fail by chance on a faster machine; the
    # time stays the cap. Longer, open-ended campaigns: scripts/fuzz.sh.
    case "$f" in
      onnx|onnx-proto) runs=4000 ;;
      dsl) runs=1200 ;;
      mlir) runs=5000 ;;
      npy) runs=300000 ;;
      *) runs=60000 ;;
    esac
    args=(-seed=1 -runs="$runs" -max_total_time="$seconds" -timeout=10
          -rss_limit_mb=2048 -print_final_stats=1
          -artifact_prefix="$bin/ctest-findings/$f/")
    [[ "$f" == dsl ]] && args+=(-dict="$src/dsl.dict")
    # New inputs go to the first directory; the seeds stay as they are.
    if "$bin/$f-fuzzer" "${args[@]}" "$work/$f" "$bin/corpus/$f" >"$work/$f.log" 2>&1; then
      execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$f.log")
      cov=$(grep -E "^#[0-9]+.*cov:" "$work/$f.log" | tail -1 | sed -n 's/.* cov: \([0-9]*\) ft: \([0-9]*\).*/cov \1 ft \2/p')
      echo "ok    $f: $execs runs (seed 1, at most ${seconds} s), $cov"
    else
      echo "FAIL  $f: $(grep -o "Test unit written to .*" "$work/$f.log" | tail -1)"
      grep -v "^#[0-9]" "$work/$f.log" | tail -n 40
      failed=1
    fi
  done
  ;;
*)
  echo "usage: run-fuzz-tests.sh regressions|short-run FUZZ_BIN_DIR [SECONDS]" >&2
  exit 2
  ;;
esac
exit "$failed"
