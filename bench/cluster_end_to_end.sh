#!/usr/bin/env bash
# 1 shard + 2 workers on loopback against `adaline train` on the same data:
# examples/s (wall clock of the whole run) and log loss on a separate test
# set, per batch size ("defaults": no tuning flag on either side).
# With REAL_DATA_DIR (the sets bench/real_data.R writes), also the test log
# loss of each real set, trained locally and by a cluster, per batch size:
# what a default batch would cost on data smaller and harder than the
# generator's (one pass each: see below). ROWS below about 80,000 make a
# file small enough for `train` to choose several passes.
#   [REAL_DATA_DIR=DIR] bench/cluster_end_to_end.sh [ROWS] [BATCH_SIZES...]
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
shift || true
batches=("${@:-defaults 64 256}")
source bench/common.sh
data=$(generated_data "$rows" 1)
test_data=$(generated_data 100000 2)
test_loss() { "$adaline" predict --model "$1" --data "$test_data" --out /dev/null 2>&1 | awk '/^log loss/ { print $NF }'; }
seconds() { date +%s.%N; }
printf '%-8s %-22s %12s %12s %10s\n' batch run examples/s "test loss" ratio
for batch in ${batches[@]}; do
  flags=(--batch-size "$batch")
  [[ $batch == defaults ]] && flags=()
  start=$(seconds)
  "$adaline" train --data "$data" "${flags[@]}" --model-out /tmp/adaline_local.model --quiet
  local_rate=$(echo "$rows / ($(seconds) - $start)" | bc -l)
  local_loss=$(test_loss /tmp/adaline_local.model)
  start=$(seconds)
  "$adaline" cluster --shards 1 --workers 2 --data "$data" "${flags[@]}" \
    --model-out /tmp/adaline_cluster.model --quiet
  cluster_rate=$(echo "$rows / ($(seconds) - $start)" | bc -l)
  cluster_loss=$(test_loss /tmp/adaline_cluster.model)
  printf '%-8s %-22s %12.0f %12s\n' "$batch" "train" "$local_rate" "$local_loss"
  printf '%-8s %-22s %12.0f %12s %10.3f\n' "$batch" "cluster 1x2" "$cluster_rate" "$cluster_loss" \
    "$(echo "$cluster_rate / $local_rate" | bc -l)"
done
[[ -n ${REAL_DATA_DIR:-} ]] || exit 0
echo
printf '%-11s %-8s %10s %12s\n' dataset batch train "cluster 1x2"
for train in "$REAL_DATA_DIR"/*.train.vw; do
  name=$(basename "$train" .train.vw)
  test_data="$REAL_DATA_DIR/$name.test.vw"
  for batch in ${batches[@]}; do
    # One pass on both sides: on data this small `train` would otherwise
    # choose many passes, and a cluster always makes one.
    flags=(--loss logistic --passes 1 --batch-size "$batch")
    [[ $batch == defaults ]] && flags=(--loss logistic --passes 1)
    "$adaline" train --data "$train" "${flags[@]}" --model-out /tmp/adaline_local.model --quiet
    "$adaline" cluster --shards 1 --workers 2 --data "$train" "${flags[@]}" \
      --model-out /tmp/adaline_cluster.model --quiet
    printf '%-11s %-8s %10s %12s\n' "$name" "$batch" "$(test_loss /tmp/adaline_local.model)" \
      "$(test_loss /tmp/adaline_cluster.model)"
  done
done
