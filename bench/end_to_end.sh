#!/usr/bin/env bash
# End to end: generate a click log (default 1M rows, about 22 features a
# row), then time `adaline train` on it per optimizer. Prints examples/s,
# features/s, peak RSS, bytes per feature and holdout log loss.
#   bench/end_to_end.sh [ROWS] [OPTIMIZERS...]
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
shift || true
optimizers=("${@:-adagrad adam ftrl}")
source bench/common.sh
data=$(generated_data "$rows" 1)
printf '%-9s %12s %12s %10s %10s %12s %10s\n' optimizer examples/s features/s "rss MiB" bytes/feat "holdout ll" features
for optimizer in ${optimizers[@]}; do
  report=$( { /usr/bin/time -v "$adaline" train --data "$data" --optimizer "$optimizer" \
      --holdout-every 10 --model-out /tmp/adaline_bench.model ; } 2>&1 )
  field() { awk -v k="$1" 'index($0, k) == 1 { print $NF }' <<< "$report" | tail -1; }
  rss=$(awk '/Maximum resident set size/ { print $NF }' <<< "$report")
  printf '%-9s %12s %12s %10.1f %10s %12s %10s\n' "$optimizer" "$(field 'examples/s')" \
    "$(field 'features/s')" "$(echo "$rss / 1024" | bc -l)" "$(field 'bytes per feature')" \
    "$(field 'holdout log loss')" "$(field 'unique features')"
done
