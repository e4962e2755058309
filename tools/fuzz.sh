#!/usr/bin/env bash
# Runs every libFuzzer target for SECONDS (default 20) on a copy of its seed
# corpus, after `bazel build --config=fuzz //fuzz:all`. A crash fails the run
# and leaves its input in the printed directory: fix the bug, then add the
# input to fuzz/corpus/NAME/ so the corpus test keeps it fixed.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
out=$(mktemp -d /tmp/adaline_fuzz.XXXXXX)
status=0
for corpus in fuzz/corpus/*/; do
  name=$(basename "$corpus")
  binary="bazel-bin/fuzz/$name"
  if [[ ! -x $binary ]]; then
    echo "//fuzz:$name FAILED: $binary is missing; run bazel build --config=fuzz //fuzz:all"
    status=1
    continue
  fi
  mkdir -p "$out/$name/corpus" "$out/$name/crashes"
  cp "$corpus"/* "$out/$name/corpus/"
  start=$SECONDS
  "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$out/$name/crashes/" \
    "$out/$name/corpus" > "$out/$name/log" 2>&1
  code=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$name/log")
  if [[ $code -eq 0 ]]; then
    echo "//fuzz:$name fuzzing PASSED in $((SECONDS - start))s: ${runs:-?} inputs, no crash"
  else
    status=1
    echo "//fuzz:$name fuzzing FAILED: exit $code; inputs in $out/$name/crashes/"
    grep -E "ERROR|FUZZ_CHECK|SUMMARY|runtime error" "$out/$name/log" | head -5
  fi
done
exit $status
