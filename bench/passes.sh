#!/usr/bin/env bash
# Passes against VW on the same file and machine: wall time of 1 and of
# PASSES passes for adaline (whose later passes read its example cache) and
# for VW with -c (its cache), median of RUNS runs, the tools alternating.
# Each VW run starts without a cache file, as adaline's temporary one does.
#   bench/passes.sh VW_BINARY [ROWS] [PASSES] [RUNS]
# e.g. bench/passes.sh /path/to/vw 1000000 5 5
set -euo pipefail
cd "$(dirname "$0")/.."
vw=${1:?usage: bench/passes.sh VW_BINARY [ROWS] [PASSES] [RUNS]}
rows=${2:-1000000}
passes=${3:-5}
runs=${4:-5}
source bench/common.sh
data=$(generated_data "$rows" 1)
cache=$(mktemp -u /tmp/adaline_bench_vw_cache.XXXXXX)
trap 'rm -f "$cache"' EXIT

seconds() { local start end; start=$(date +%s.%N); "$@" > /dev/null 2>&1; end=$(date +%s.%N); echo "$end - $start" | bc -l; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
vw_run() { rm -f "$cache"; "$vw" -d "$data" --loss_function logistic --quiet -c --cache_file "$cache" --passes "$1" --holdout_off; }

declare -A times
for _ in $(seq "$runs"); do
  for p in 1 "$passes"; do
    times[adaline_$p]+="$(seconds "$adaline" train --data "$data" --passes "$p") "
    times[vw_$p]+="$(seconds vw_run "$p") "
  done
done
med() { tr ' ' '\n' <<< "${times[$1]}" | grep . | median; }
printf '%-8s %10s %10s %10s\n' tool "1 pass s" "$passes passes s" ratio
for tool in adaline vw; do
  one=$(med "${tool}_1"); many=$(med "${tool}_$passes")
  printf '%-8s %10.2f %10.2f %10.2f\n' "$tool" "$one" "$many" "$(echo "$many / $one" | bc -l)"
done
printf 'adaline %s passes take %.2f of VW'"'"'s time\n' "$passes" \
  "$(echo "$(med "adaline_$passes") / $(med "vw_$passes")" | bc -l)"
