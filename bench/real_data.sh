#!/usr/bin/env bash
# Held-out log loss of adaline and VW at their defaults on the real datasets
# bench/real_data.R writes: each trained on NAME.train.vw with nothing but
# the data and the loss, scored on NAME.test.vw. Extra adaline flags (to try
# other settings) follow the VW binary.
#   Rscript bench/real_data.R /tmp/adaline_real_data
#   bench/real_data.sh VW_BINARY [DATA_DIR] [ADALINE_FLAGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
vw=${1:?usage: bench/real_data.sh VW_BINARY [DATA_DIR] [ADALINE_FLAGS...]}
dir=${2:-/tmp/adaline_real_data}
shift $(( $# < 2 ? $# : 2 ))
flags=("$@")
[[ -n ${ADALINE:-} ]] || bazel build //:adaline >&2
adaline=${ADALINE:-bazel-bin/cli/adaline}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Mean log loss of probabilities in $1 against the labels of the VW file $2.
log_loss() {
  paste -d' ' "$1" <(cut -d' ' -f1 "$2") | awk '{
    p = $1; y = ($2 > 0); if (p < 1e-15) p = 1e-15; if (p > 1 - 1e-15) p = 1 - 1e-15
    s += y ? -log(p) : -log(1 - p) } END { printf "%.4f", s / NR }'
}

printf '%-11s %9s %9s %7s\n' dataset adaline vw ratio
wins=0; sets=0
for train in "$dir"/*.train.vw; do
  name=$(basename "$train" .train.vw)
  test="$dir/$name.test.vw"
  "$adaline" train --data "$train" --loss logistic "${flags[@]}" --model-out "$work/a.model" --quiet
  "$adaline" predict --model "$work/a.model" --data "$test" --out "$work/a.pred" --quiet
  "$vw" --quiet -d "$train" --loss_function logistic -f "$work/v.model"
  "$vw" --quiet -t -i "$work/v.model" -d "$test" --link logistic -p "$work/v.pred"
  ours=$(log_loss "$work/a.pred" "$test")
  theirs=$(log_loss "$work/v.pred" "$test")
  printf '%-11s %9s %9s %7.3f\n' "$name" "$ours" "$theirs" "$(echo "$ours / $theirs" | bc -l)"
  sets=$((sets + 1))
  if awk -v a="$ours" -v b="$theirs" 'BEGIN { exit !(a < b) }'; then wins=$((wins + 1)); fi
done
echo "adaline lower on $wins of $sets sets"
