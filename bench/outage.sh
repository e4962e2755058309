#!/usr/bin/env bash
# How fast a worker gets back to speed after its shard is down for a while:
# a shard (checkpointing every second) and a worker on ROWS rows; the shard
# is killed with -9 mid-run and restarted on its checkpoints OUTAGE seconds
# later (the worker takes the reset: --allow-shard-reset). The worker's
# examples are scraped from its metrics every 0.25 s; prints the time from
# the restart to the worker's next progress and to 80% of its rate of
# before the outage.
#   bench/outage.sh [ROWS] [OUTAGE_SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-3000000}
outage=${2:-3}
source bench/common.sh
data=$(generated_data "$rows" 1)
dir=$(mktemp -d)
trap 'kill -9 $(jobs -p) 2>/dev/null; rm -rf "$dir"' EXIT
port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
address="127.0.0.1:$(port)"
metrics=$(port)
serve() { "$adaline" serve --listen "$address" --checkpoint-dir "$dir/ck" --checkpoint-every 1 >> "$dir/serve.log" 2>&1 & }
examples() {
  python3 -c "import urllib.request
for line in urllib.request.urlopen('http://127.0.0.1:$metrics/metrics', timeout=2).read().decode().splitlines():
    if line.startswith('adaline_worker_examples_total '): print(int(float(line.split()[1])))" 2>/dev/null || echo 0
}
now() { date +%s.%N; }
serve
sleep 0.5
"$adaline" work --servers "$address" --data "$data" --retry-timeout 60 --allow-shard-reset \
  --metrics-listen "127.0.0.1:$metrics" > "$dir/work.log" 2>&1 &
worker=$!
sleep 2
before_start=$(now); before=$(examples); sleep 1; rate=$(echo "($(examples) - $before) / ($(now) - $before_start)" | bc -l)
pkill -9 -f -- "--listen $address"
down=$(examples)
sleep "$outage"
serve
restarted=$(now)
first="" full=""
last=$(examples); last_time=$(now)
while kill -0 "$worker" 2>/dev/null; do
  sleep 0.25
  current=$(examples); t=$(now)
  if [[ -z $first && $current -gt $down ]]; then first=$(echo "$t - $restarted" | bc -l); fi
  if [[ -n $first && -z $full ]]; then
    speed=$(echo "($current - $last) / ($t - $last_time)" | bc -l)
    if (( $(echo "$speed >= 0.8 * $rate" | bc -l) )); then full=$(echo "$t - $restarted" | bc -l); break; fi
  fi
  last=$current; last_time=$t
done
printf 'rate before the outage: %.0f examples/s\n' "$rate"
printf 'shard down %s s; after its restart the worker learned again after %.2f s, at 80%% of its rate after %.2f s\n' \
  "$outage" "${first:-nan}" "${full:-nan}"
