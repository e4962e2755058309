#!/usr/bin/env bash
# Prometheus metrics scraped over HTTP from a live shard and a live worker:
# counters move as work is done, and bad metrics addresses fail at once.
set -u
source "$PWD/tests/cli/test_lib.sh"
adaline="$PWD/cli/adaline"
work="${TEST_TMPDIR:-$(mktemp -d)}"
scrape() {  # scrape PORT: the metrics text, empty if nothing answers
  /usr/bin/python3 -c "import sys, urllib.request
try: print(urllib.request.urlopen('http://127.0.0.1:$1/metrics', timeout=5).read().decode())
except Exception as e: sys.exit(str(e))"
}
value() {  # value PORT METRIC: the sample's value (labels included in METRIC)
  scrape "$1" | awk -v m="$2" '$1 == m { print $2 }'
}

"$adaline" generate --rows 5000 --seed 3 --out "$work/data.vw" 2>/dev/null
address="127.0.0.1:$(free_port)"
metrics_port=$(free_port)
"$adaline" serve --listen "$address" --metrics-listen "127.0.0.1:$metrics_port" \
  --checkpoint-dir "$work/ck" > "$work/serve.log" 2>&1 & server=$!
wait_up "$address" && ok || bad "server did not start"
[[ $(value "$metrics_port" adaline_shard_step) == 0 ]] && ok || bad "a fresh shard's step is not 0"

"$adaline" work --servers "$address" --data "$work/data.vw" > "$work/work.log" 2>&1 || bad "worker failed"
"$adaline" query --servers "$address" --checkpoint > /dev/null || bad "checkpoint failed"
[[ $(value "$metrics_port" adaline_shard_step) == 5000 ]] && ok || bad "the shard's step after 5000 examples"
[[ $(value "$metrics_port" adaline_key_updates_total) -gt 50000 ]] && ok || bad "key updates did not move"
[[ $(value "$metrics_port" 'adaline_rpc_total{code="OK",method="Exchange"}') -ge 1 ]] && ok ||
  bad "the worker's exchange stream was not counted"
[[ $(value "$metrics_port" adaline_checkpoints_written_total) == 1 ]] && ok || bad "the checkpoint was not counted"
scrape "$metrics_port" | grep -qE '^adaline_rpc_duration_seconds_bucket\{.*method="Stats".*\} [1-9]' && ok ||
  bad "no latency histogram of Stats"
scrape "$metrics_port" | grep -q '^adaline_last_checkpoint_age_seconds [0-9]' && ok || bad "no age of the last checkpoint"

# A worker reading a pipe that stays open: its metrics are scraped mid-run.
worker_port=$(free_port)
mkfifo "$work/pipe"
"$adaline" work --servers "$address" --data "$work/pipe" --metrics-listen "127.0.0.1:$worker_port" \
  > "$work/pipe.log" 2>&1 & worker=$!
exec 3> "$work/pipe"
# More than one read chunk (1 MiB), so that a block reaches the learner.
cat "$work/data.vw" "$work/data.vw" >&3
seen=0
for _ in $(seq 100); do
  examples=$(value "$worker_port" adaline_worker_examples_total 2>/dev/null)
  if [[ -n $examples && $examples -ge 1000 ]]; then seen=1; break; fi
  sleep 0.1
done
[[ $seen == 1 ]] && ok || bad "a running worker's examples were not scraped (last: ${examples:-none})"
loss=$(value "$worker_port" adaline_worker_progressive_loss)
awk -v l="$loss" 'BEGIN { exit !(l > 0.3 && l < 0.8) }' && ok || bad "progressive loss $loss"
exec 3>&-
wait "$worker" && ok || bad "the piped worker failed"

# Metrics addresses that cannot be served fail before any work.
"$adaline" serve --listen "127.0.0.1:$(free_port)" --metrics-listen "127.0.0.1:$metrics_port" > "$work/taken.log" 2>&1
[[ $? -eq 1 ]] && grep -q "cannot serve metrics on 127.0.0.1:$metrics_port" "$work/taken.log" && ok ||
  { bad "a metrics port in use was not refused:"; cat "$work/taken.log"; }
"$adaline" work --servers "$address" --data "$work/data.vw" --metrics-listen 9100 > "$work/bad.log" 2>&1
[[ $? -eq 1 ]] && grep -q "is not HOST:PORT" "$work/bad.log" && ok || { bad "--metrics-listen 9100:"; cat "$work/bad.log"; }

kill -TERM "$server"; wait "$server"

# A shard that bounds its memory: admission and eviction show in its
# metrics, and it holds no more keys than its limit.
bounded="127.0.0.1:$(free_port)"
bounded_metrics=$(free_port)
"$adaline" serve --listen "$bounded" --metrics-listen "127.0.0.1:$bounded_metrics" \
  --admit-after 2 --max-keys 1000 --evict-when-full > "$work/bounded.log" 2>&1 & server=$!
wait_up "$bounded" || bad "the bounded server did not start"
"$adaline" work --servers "$bounded" --data "$work/data.vw" > "$work/bounded_work.log" 2>&1 ||
  { bad "worker on a bounded shard failed"; tail -3 "$work/bounded_work.log"; }
[[ $(value "$bounded_metrics" adaline_admitted_keys_total) -gt 0 ]] && ok || bad "no key was admitted"
[[ $(value "$bounded_metrics" adaline_not_admitted_updates_total) -gt 0 ]] && ok || bad "no update waited for admission"
[[ $(value "$bounded_metrics" adaline_evicted_keys_total) -gt 0 ]] && ok || bad "no key was evicted"
[[ $(value "$bounded_metrics" adaline_shard_keys) -le 1000 ]] && ok || bad "the shard holds more than --max-keys"
grep -q "evicted keys" "$work/bounded_work.log" && ok || bad "the worker's report says nothing of evictions"
kill -TERM "$server"; wait "$server"
finish
