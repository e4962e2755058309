#!/usr/bin/env bash
# Memory against held-out loss on a long-tailed stream, where most keys are
# seen once: the generator's rows, each with a session id of its own
# (|session sN). Unbounded training against --admit-after 2 and against a
# --max-keys of half the unique keys with --evict-when-full. Prints peak
# RSS (/usr/bin/time), the store's keys and bytes, test log loss (on rows
# with sessions never seen), and the false admissions: session keys, each
# seen once, that the filter let in anyway.
#   bench/bounded_memory.sh [ROWS]
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
source bench/common.sh
train_data=/tmp/adaline_longtail_${rows}.vw
test_data=/tmp/adaline_longtail_test.vw
awk '{ print $0 " |session s" NR }' "$(generated_data "$rows" 1)" > "$train_data"
awk '{ print $0 " |session t" NR }' "$(generated_data 100000 2)" > "$test_data"
model=$(mktemp)
trap 'rm -f "$model" "$model.log" "$model.time"' EXIT

run() {  # run NAME FLAGS...: one row of the table
  local name=$1
  shift
  /usr/bin/time -v -o "$model.time" "$adaline" train --data "$train_data" "$@" \
    --model-out "$model" > "$model.log" 2>&1
  local keys bytes rss loss
  keys=$(awk '/^unique features/ { print $3 }' "$model.log")
  bytes=$(awk '/^store bytes/ { print $3 }' "$model.log")
  rss=$(awk '/Maximum resident/ { print $6 }' "$model.time")
  loss=$("$adaline" predict --model "$model" --data "$test_data" --out /dev/null 2>&1 |
    awk '/^log loss/ { print $NF }')
  printf '%-34s %10s %12s %10.1f %10s\n' "$name" "$keys" "$bytes" "$(echo "$rss / 1024" | bc -l)" "$loss"
  echo "$keys" > "$model.keys"
}

printf '%-34s %10s %12s %10s %10s\n' run keys "store bytes" "RSS MiB" "test loss"
run unbounded
unique=$(cat "$model.keys")
run "--admit-after 2" --admit-after 2
run "--max-keys $((unique / 2)) --evict-when-full" --max-keys $((unique / 2)) --evict-when-full
grep -E "evicted keys" "$model.log" || true
# False admissions: with names kept, session keys in the admitted model.
"$adaline" train --data "$train_data" --admit-after 2 --keep-names --model-out "$model" --quiet
sessions=$("$adaline" inspect --model "$model" --all | grep -c '^session^' || true)
echo "false admissions with --admit-after 2 (16 MiB filter): $sessions of $rows session keys seen once"
