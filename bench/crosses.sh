#!/usr/bin/env bash
# Crosses against VW on the same file and machine: features/s counting the
# generated features, without crosses and with each cross given, for adaline
# and for VW with the same -q. Wall time per run, median of RUNS runs, runs
# of the two tools alternating so that machine noise hits both.
#   bench/crosses.sh VW_BINARY [ROWS] [RUNS] [CROSSES...]
# e.g. bench/crosses.sh /path/to/vw 1000000 5 cc um
set -euo pipefail
cd "$(dirname "$0")/.."
vw=${1:?usage: bench/crosses.sh VW_BINARY [ROWS] [RUNS] [CROSSES...]}
rows=${2:-1000000}
runs=${3:-5}
shift $(( $# < 3 ? $# : 3 ))
crosses=("${@:-cc um}")
source bench/common.sh
data=$(generated_data "$rows" 1)

seconds() { local start end; start=$(date +%s.%N); "$@" > /dev/null 2>&1; end=$(date +%s.%N); echo "$end - $start" | bc -l; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

printf '%-8s %14s %12s %12s %12s %10s\n' cross features adaline/s vw/s "adaline/vw" "vs plain"
plain_rate=""
for cross in "" ${crosses[@]}; do
  flags=()
  [[ -n $cross ]] && flags=(-q "$cross")
  features=$("$vw" -d "$data" "${flags[@]}" --quiet --loss_function logistic 2>&1 |
    awk '/total feature number/ { print $NF }')
  [[ -n $features ]] || features=$("$vw" -d "$data" "${flags[@]}" --loss_function logistic 2>&1 |
    awk '/total feature number/ { print $NF }')
  ours=(); theirs=()
  for _ in $(seq "$runs"); do
    ours+=("$(seconds "$adaline" train --data "$data" "${flags[@]}")")
    theirs+=("$(seconds "$vw" -d "$data" "${flags[@]}" --quiet --loss_function logistic)")
  done
  adaline_rate=$(printf '%s\n' "${ours[@]}" | median | awk -v f="$features" '{ printf "%.0f", f / $1 }')
  vw_rate=$(printf '%s\n' "${theirs[@]}" | median | awk -v f="$features" '{ printf "%.0f", f / $1 }')
  [[ -z $plain_rate ]] && plain_rate=$adaline_rate
  printf '%-8s %14s %12s %12s %12.2f %10.2f\n' "${cross:-none}" "$features" "$adaline_rate" "$vw_rate" \
    "$(echo "$adaline_rate / $vw_rate" | bc -l)" "$(echo "$adaline_rate / $plain_rate" | bc -l)"
done
