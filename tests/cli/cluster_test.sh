#!/usr/bin/env bash
# Multi-process parameter servers on loopback: quality against local
# training, query against inspect, and a shard killed with -9 mid-training.
set -u
source "$PWD/tests/cli/test_lib.sh"
adaline="$PWD/cli/adaline"
work="${TEST_TMPDIR:-$(mktemp -d)}"

log_loss() { awk '/^log loss/ { print $NF }' "$1"; }
within() {  # within A B RELATIVE: |A - B| <= RELATIVE * B
  awk -v a="$1" -v b="$2" -v r="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= r * b) }'
}

"$adaline" generate --rows 60000 --seed 11 --out "$work/train.vw" 2>/dev/null
"$adaline" generate --rows 10000 --seed 12 --out "$work/test.vw" 2>/dev/null

# 1. A 2 x 2 cluster learns as well as local training with the same settings.
settings=(--optimizer adagrad --lr 0.1 --batch-size 16 --passes 2)
if "$adaline" cluster --shards 2 --workers 2 --data "$work/train.vw" "${settings[@]}" \
    --model-out "$work/cluster.model" --checkpoint-dir "$work/cluster" > "$work/cluster.log" 2>&1; then
  ok
else
  bad "cluster failed:"; tail -20 "$work/cluster.log"
fi
"$adaline" train --data "$work/train.vw" "${settings[@]}" --model-out "$work/local.model" >/dev/null
"$adaline" predict --model "$work/cluster.model" --data "$work/test.vw" --out /dev/null > "$work/cluster.eval" 2>&1
"$adaline" predict --model "$work/local.model" --data "$work/test.vw" --out /dev/null > "$work/local.eval" 2>&1
cluster_loss=$(log_loss "$work/cluster.eval")
local_loss=$(log_loss "$work/local.eval")
echo "test log loss: cluster $cluster_loss, local $local_loss"
if [[ -n $cluster_loss ]] && within "$cluster_loss" "$local_loss" 0.01; then ok; else
  bad "cluster test log loss $cluster_loss is not within 1% of local $local_loss"; fi
grep -q "worker 1\] holdout\|worker 1\] examples  " "$work/cluster.log" && ok || bad "no worker report in the cluster's output"

# At their defaults too: workers take rounds of steps on their own copies,
# and the model is as good as local training's at its defaults.
"$adaline" cluster --shards 1 --workers 2 --data "$work/train.vw" \
  --model-out "$work/defaults.model" > "$work/defaults.log" 2>&1 || bad "cluster at defaults failed"
"$adaline" train --data "$work/train.vw" --model-out "$work/local_defaults.model" >/dev/null
cluster_loss=$("$adaline" predict --model "$work/defaults.model" --data "$work/test.vw" --out /dev/null 2>&1 | awk '/^log loss/ { print $NF }')
local_loss=$("$adaline" predict --model "$work/local_defaults.model" --data "$work/test.vw" --out /dev/null 2>&1 | awk '/^log loss/ { print $NF }')
echo "test log loss at defaults: cluster $cluster_loss, local $local_loss"
if [[ -n $cluster_loss ]] && within "$cluster_loss" "$local_loss" 0.01; then ok; else
  bad "cluster test log loss at defaults $cluster_loss is not within 1% of local $local_loss"; fi

# Crosses: the shards hold them in their configuration and workers take
# them from there. Whether a and b agree is learnable only through a*b.
awk 'BEGIN { srand(5); for (i = 0; i < 4000; ++i) { a = int(rand() * 2); b = int(rand() * 2);
  printf "%d |a v%d |b v%d\n", (a == b) ? 1 : -1, a, b } }' > "$work/xor.vw"
"$adaline" cluster --shards 2 --workers 2 --data "$work/xor.vw" -q ab \
  --model-out "$work/xor.model" > "$work/xor.log" 2>&1 || { bad "cluster with crosses failed:"; tail -5 "$work/xor.log"; }
xor_loss=$("$adaline" predict --model "$work/xor.model" --data "$work/xor.vw" --out /dev/null 2>&1 | awk '/^log loss/ { print $NF }')
if [[ -n $xor_loss ]] && awk -v l="$xor_loss" 'BEGIN { exit !(l < 0.2) }'; then ok; else
  bad "a cluster with -q ab reached log loss $xor_loss on data only the cross can learn"; fi
grep -q "crosses ab" "$work/xor.log" && ok || bad "the shards did not say which crosses they hold"

# --normalized on the shards: workers send each key's scale with its
# gradient, and one worker trains what local training does. Values in
# thousands and in thousandths, where scales matter.
awk 'BEGIN { srand(9); for (i = 0; i < 20000; ++i) { a = rand() * 2 - 1; b = rand() * 2 - 1;
  y = (rand() < 1 / (1 + exp(-(3 * a - 2 * b)))) ? 1 : -1;
  printf "%d |n a:%.4f b:%.7f |c k%d\n", y, 1000 * a, b / 1000, i % 3 } }' > "$work/units.vw"
"$adaline" cluster --shards 2 --workers 1 --data "$work/units.vw" --normalized \
  --model-out "$work/normalized.model" > "$work/normalized.log" 2>&1 ||
  { bad "cluster with --normalized failed:"; tail -5 "$work/normalized.log"; }
"$adaline" train --data "$work/units.vw" --normalized --model-out "$work/local_normalized.model" > /dev/null
"$adaline" train --data "$work/units.vw" --nonormalized --model-out "$work/local_plain.model" > /dev/null
units_loss() { "$adaline" predict --model "$1" --data "$work/units.vw" --out /dev/null 2>&1 | awk '/^log loss/ { print $NF }'; }
cluster_loss=$(units_loss "$work/normalized.model")
local_loss=$(units_loss "$work/local_normalized.model")
plain_loss=$(units_loss "$work/local_plain.model")
echo "log loss with --normalized: cluster $cluster_loss, local $local_loss (without: $plain_loss)"
if [[ -n $cluster_loss ]] && within "$cluster_loss" "$local_loss" 0.002 &&
   ! within "$plain_loss" "$local_loss" 0.05; then ok; else
  bad "cluster --normalized log loss $cluster_loss is not that of local training, $local_loss"; fi

# L1 on the shards: the merged model's weights-only file keeps few weights.
"$adaline" cluster --shards 2 --workers 1 --data "$work/train.vw" --l1 0.001 \
  --model-out "$work/l1.model" --weights-out "$work/l1.weights" > "$work/l1.log" 2>&1 ||
  { bad "cluster with --l1 failed:"; tail -5 "$work/l1.log"; }
keys=$(sed -n 's/^merged .*: \([0-9]*\) keys.*/\1/p' "$work/l1.log")
kept=$(sed -n 's/^weights .*(\([0-9]*\) non-zero)/\1/p' "$work/l1.log")
if [[ -n $keys && -n $kept && $kept -lt $((keys / 2)) ]]; then ok; else
  bad "a cluster with --l1 0.001 kept $kept of $keys weights"; fi

# Chosen ports, the hint to query it, and one summary over the workers, also
# as JSON lines with every worker's rows.
base=$(free_port)
"$adaline" cluster --shards 2 --workers 2 --data "$work/train.vw" --holdout-every 10 \
  --listen-base "$base" --model-out "$work/summary.model" --metrics-out "$work/cluster.jsonl" \
  > "$work/summary.out" 2> "$work/summary.log" || { bad "cluster with --listen-base failed:"; tail -5 "$work/summary.log"; }
grep -q "query it with: adaline query --servers 127.0.0.1:$base,127.0.0.1:$((base + 1))" "$work/summary.log" && ok ||
  bad "no query hint with the --listen-base ports"
grep -qE "^adaline cluster: 54000 examples in [0-9.]+ s by 2 workers: [0-9]+ examples/s; holdout log loss 0\.[0-9]+ over 6000 examples" \
  "$work/summary.log" && ok || bad "no combined summary: $(grep '^adaline cluster' "$work/summary.log")"
[[ ! -s $work/summary.out ]] && ok || bad "cluster wrote to standard output"
python3 - "$work/cluster.jsonl" <<'PY' && ok || bad "cluster --metrics-out"
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
reports = [row for row in rows if row["event"] == "report"]
assert sorted(row["worker"] for row in reports) == [0, 1], reports
summary = rows[-1]
assert summary["event"] == "cluster_report" and summary["examples"] == 54000, summary
held_out = sum(row["holdout_examples"] for row in reports)
mean = sum(row["holdout_log_loss"] * row["holdout_examples"] for row in reports) / held_out
assert abs(summary["holdout_log_loss"] - mean) < 1e-6 and summary["holdout_examples"] == held_out, summary
PY
# Names kept by a cluster (work --keep-names): sent by the workers, kept by
# the shards, carried by checkpoints into the merged model.
"$adaline" cluster --shards 2 --workers 2 --data "$work/train.vw" --keep-names \
  --model-out "$work/named.model" > "$work/named.log" 2>&1 || { bad "cluster --keep-names failed"; tail -5 "$work/named.log"; }
top=$("$adaline" inspect --model "$work/named.model" --top 5)
[[ $(grep -c '\^' <<< "$top") -eq 5 ]] && ok || bad "inspect --top on a cluster's model shows no names: $top"
keys=$("$adaline" inspect --model "$work/named.model" | awk '/^keys/ { print $2 }')
names=$("$adaline" inspect --model "$work/named.model" | awk '/^names stored/ { print $3 }')
# Every key but the bias's has a name (a VW line names its features).
[[ -n $names && $names -ge $((keys - 1)) ]] && ok || bad "the cluster's model names $names of $keys keys"
grep -q "names sent" "$work/named.log" && ok || bad "workers did not report the names they sent"

"$adaline" cluster --shards 2 --workers 1 --data "$work/train.vw" --listen-base 65535 \
  --model-out "$work/none.model" 2> "$work/base.err"
[[ $? -eq 1 ]] && grep -q "leaves no port for 2 shards" "$work/base.err" && ok || bad "--listen-base 65535 with 2 shards"

# A child that dies is named, with why, and the cluster stops.
"$adaline" cluster --shards 1 --workers 2 --data "$work/missing.vw" \
  --model-out "$work/none.model" --checkpoint-dir "$work/dead" > "$work/dead.log" 2>&1
if [[ $? -ne 0 ]] && grep -q "adaline cluster: worker [01] exited with status 1; the cluster was stopped" "$work/dead.log" &&
   grep -q "cannot open $work/missing.vw" "$work/dead.log"; then ok; else
  bad "a dying worker was not reported:"; tail -5 "$work/dead.log"; fi

# A cluster told to stop (Ctrl-C, SIGTERM) stops its workers, lets the
# shards write final checkpoints and merges them into --model-out; one
# killed with -9 takes its children along.
"$adaline" generate --rows 1000000 --seed 13 --out "$work/long.vw" 2>/dev/null
"$adaline" cluster --shards 2 --workers 2 --data "$work/long.vw" --model-out "$work/stopped.model" \
  --checkpoint-dir "$work/stopped" > "$work/stopped.log" 2>&1 & cluster=$!
sleep 1.5
kill -TERM "$cluster"; wait "$cluster"; code=$?
if [[ $code -eq 143 ]] && grep -q "interrupted by Terminated; the shards' final checkpoints were merged into $work/stopped.model" "$work/stopped.log" &&
    "$adaline" inspect --model "$work/stopped.model" --top 1 > /dev/null 2>&1; then ok; else
  bad "a stopped cluster (exit $code) left no model:"; tail -5 "$work/stopped.log"; fi
[[ -z $(pgrep -f -- "$work/stopped/shard") ]] && ok || bad "a stopped cluster left processes"
"$adaline" cluster --shards 2 --workers 2 --data "$work/long.vw" --model-out "$work/killed.model" \
  --checkpoint-dir "$work/killed" > "$work/killed.log" 2>&1 & cluster=$!
sleep 1.5
kill -KILL "$cluster"; wait "$cluster" 2>/dev/null
for _ in $(seq 50); do [[ -z $(pgrep -f -- "$work/killed/shard") ]] && break; sleep 0.1; done
[[ -z $(pgrep -f -- "$work/killed/shard") ]] && ok || bad "the children of a cluster killed with -9 outlived it"

# 2. Servers by hand: query while they run agrees with inspect of the merge.
a0="127.0.0.1:$(free_port)"
a1="127.0.0.1:$(free_port)"
"$adaline" serve --listen "$a0" --shard 0/2 --checkpoint-dir "$work/q0" > "$work/s0.log" 2>&1 & pids+=($!)
"$adaline" serve --listen "$a1" --shard 1/2 --checkpoint-dir "$work/q1" > "$work/s1.log" 2>&1 & pids+=($!)
wait_up "$a0" && wait_up "$a1" && ok || bad "servers did not start"
"$adaline" work --servers "$a0,$a1" --data "$work/train.vw" --part 0/2 --batch-size 8 > "$work/w0.log" 2>&1 & w0=$!
"$adaline" work --servers "$a0,$a1" --data "$work/train.vw" --part 1/2 --batch-size 8 > "$work/w1.log" 2>&1 & w1=$!
wait $w0 && wait $w1 && ok || { bad "workers failed"; tail -5 "$work/w0.log" "$work/w1.log"; }
features=(movie^is_director_nolan movie^won_oscar ^__bias__ user^id_0 movie^no_such_feature)
"$adaline" query --servers "$a0,$a1" "${features[@]}" | sort > "$work/query.txt"
"$adaline" query --servers "$a0,$a1" --stats | grep -q "shard 1/2 at $a1: step" && ok || bad "query --stats"
# Live predictions: each shard scores the features it owns, the client adds
# the parts (compared with the merged model's below).
"$adaline" predict --servers "$a0,$a1" --data "$work/test.vw" --out "$work/live.txt" > "$work/live.eval" 2>&1 ||
  { bad "predict --servers failed:"; cat "$work/live.eval"; }
# A list out of order, or one shard of two, would ask the wrong shard.
"$adaline" query --servers "$a1,$a0" movie^won_oscar > "$work/q_swapped.txt" 2>&1
[[ $? -eq 1 ]] && grep -q "is shard 1/2 but is listed at position 0" "$work/q_swapped.txt" && ok ||
  { bad "query with a swapped list:"; cat "$work/q_swapped.txt"; }
"$adaline" query --servers "$a0" movie^won_oscar > "$work/q_half.txt" 2>&1
[[ $? -eq 1 ]] && grep -q "is shard 0/2 but is listed at position 0 of 1" "$work/q_half.txt" && ok ||
  { bad "query of one shard of two:"; cat "$work/q_half.txt"; }
# Shards started with other settings are not one model: workers refuse.
a2="127.0.0.1:$(free_port)"
"$adaline" serve --listen "$a2" --shard 1/2 --lr 0.25 > "$work/s2.log" 2>&1 & odd=$!
wait_up "$a2" || bad "the odd server did not start"
"$adaline" work --servers "$a0,$a2" --data "$work/train.vw" > "$work/odd.log" 2>&1
[[ $? -eq 1 ]] && grep -q "were started with other settings.*--lr is 0.25 but" "$work/odd.log" && ok ||
  { bad "shards with other settings were not refused:"; cat "$work/odd.log"; }
kill -TERM "$odd"; wait "$odd" 2>/dev/null
kill -TERM "${pids[@]}"
wait "${pids[@]}" && ok || bad "servers did not exit 0 on SIGTERM"
pids=()
"$adaline" merge --model-out "$work/merged.model" "$work"/q0/checkpoint-*.model "$work"/q1/checkpoint-*.model >/dev/null
"$adaline" inspect --model "$work/merged.model" --feature "$(IFS=,; echo "${features[*]}")" | sort > "$work/inspect.txt"
if [[ -s $work/query.txt ]] && diff "$work/query.txt" "$work/inspect.txt"; then ok; else
  bad "query and inspect of the merged model disagree"; fi
"$adaline" predict --model "$work/merged.model" --data "$work/test.vw" --out "$work/merged.txt" >/dev/null 2>&1
# The same model, summed in another order: equal to float rounding.
if [[ $(wc -l < "$work/live.txt") -eq 10000 ]] && paste -d' ' "$work/live.txt" "$work/merged.txt" |
    awk '{ d = $1 - $2; if (d < 0) d = -d; if (d > 1e-6) exit 1 }'; then ok; else
  bad "predict --servers and predict --model of the merged checkpoints disagree"; fi

# One shard with crosses: its predictions are the checkpoint's, byte for
# byte, and the client never names the crosses.
p0="127.0.0.1:$(free_port)"
"$adaline" serve --listen "$p0" -q um --checkpoint-dir "$work/p0" > "$work/p0.log" 2>&1 & single=$!
wait_up "$p0" || bad "the one-shard server did not start"
"$adaline" work --servers "$p0" --data "$work/train.vw" > "$work/pw.log" 2>&1 || bad "worker of one shard failed"
"$adaline" query --servers "$p0" --checkpoint > "$work/pq.log" 2>&1 || bad "checkpoint of one shard failed"
"$adaline" predict --servers "$p0" --data "$work/test.vw" --raw --out "$work/p_live.txt" > /dev/null 2>&1
"$adaline" predict --model "$work"/p0/checkpoint-*.model --data "$work/test.vw" --raw --out "$work/p_file.txt" > /dev/null 2>&1
[[ -s $work/p_live.txt ]] && cmp -s "$work/p_live.txt" "$work/p_file.txt" && ok ||
  bad "one shard's live predictions differ from its checkpoint's"
"$adaline" predict --servers "$p0" --model "$work"/p0/checkpoint-*.model --data "$work/test.vw" > "$work/p_both.log" 2>&1
[[ $? -eq 1 ]] && grep -q "one of them" "$work/p_both.log" && ok || bad "predict with --servers and --model was not refused"
kill -TERM "$single"; wait "$single" 2>/dev/null

# A replica follows a directory: it serves the newest model that lands there
# (weights-only here), swaps in the next, and takes no training.
mkdir -p "$work/follow"
r0="127.0.0.1:$(free_port)"
"$adaline" serve --follow "$work/follow" --listen "$r0" > "$work/replica.log" 2>&1 & replica=$!
"$adaline" train --data "$work/train.vw" -q um --weights-out "$work/follow/one.model" > /dev/null
wait_up "$r0" || bad "the replica did not start once a model landed"
"$adaline" predict --servers "$r0" --data "$work/test.vw" --out "$work/r_live.txt" > /dev/null 2>&1
"$adaline" predict --model "$work/follow/one.model" --data "$work/test.vw" --out "$work/r_file.txt" > /dev/null 2>&1
[[ -s $work/r_live.txt ]] && cmp -s "$work/r_live.txt" "$work/r_file.txt" && ok ||
  bad "the replica's predictions differ from the weights-only file's"
"$adaline" train --data "$work/train.vw" -q um --passes 2 --weights-out "$work/follow/two.model" > /dev/null
for _ in $(seq 50); do
  "$adaline" query --servers "$r0" --stats | grep -q "replica serving $work/follow/two.model" && break
  sleep 0.2
done
"$adaline" query --servers "$r0" --stats | grep -q "step 120000 .*replica serving $work/follow/two.model" && ok ||
  { bad "the replica did not swap in the newer model:"; "$adaline" query --servers "$r0" --stats; }
"$adaline" work --servers "$r0" --data "$work/train.vw" > "$work/r_work.log" 2>&1
[[ $? -eq 1 ]] && grep -q "is a read-only replica" "$work/r_work.log" && ok || { bad "a worker trained a replica:"; cat "$work/r_work.log"; }
"$adaline" serve --follow "$work/follow" --lr 0.1 --listen "127.0.0.1:$(free_port)" > "$work/r_lr.log" 2>&1
[[ $? -eq 1 ]] && grep -q "own settings; --lr does not apply" "$work/r_lr.log" && ok || bad "a replica took --lr"
kill -TERM "$replica"; wait "$replica" 2>/dev/null
"$adaline" predict --servers "$p0" --retry-timeout 1 --data "$work/test.vw" > "$work/p_gone.log" 2>&1
[[ $? -eq 1 ]] && grep -q "shard 0 at $p0" "$work/p_gone.log" && ok || { bad "predict from a stopped server:"; cat "$work/p_gone.log"; }

# Directories stand for their newest checkpoint; half the shards are refused.
"$adaline" merge --model-out "$work/from_dirs.model" "$work/q0" "$work/q1" > /dev/null 2>&1 &&
  cmp -s <("$adaline" inspect --model "$work/from_dirs.model" --all --format tsv) \
         <("$adaline" inspect --model "$work/merged.model" --all --format tsv) && ok ||
  bad "merging the checkpoint directories differs from merging their files"
"$adaline" merge --model-out "$work/half.model" "$work/q1" > "$work/half_merge.log" 2>&1
[[ $? -eq 1 ]] && grep -q "shard 0 of 2 missing" "$work/half_merge.log" && ok ||
  { bad "half the shards were merged:"; cat "$work/half_merge.log"; }
"$adaline" merge --model-out "$work/twice.model" "$work"/q0/checkpoint-*.model "$work"/q0/checkpoint-*.model > "$work/twice.log" 2>&1
grep -q "not shards of one model" "$work/twice.log" && ok || bad "merging a shard twice was not refused"

# 3. kill -9 a shard mid-training; restart it on its checkpoint directory.
"$adaline" generate --rows 400000 --seed 13 --out "$work/big.vw" 2>/dev/null
b0="127.0.0.1:$(free_port)"
b1="127.0.0.1:$(free_port)"
serve0=("$adaline" serve --listen "$b0" --shard 0/2 --checkpoint-dir "$work/f0" --checkpoint-every 0.3)
"${serve0[@]}" > "$work/f0.log" 2>&1 & pids+=($!); victim=$!
"$adaline" serve --listen "$b1" --shard 1/2 --checkpoint-dir "$work/f1" --checkpoint-every 0.3 > "$work/f1.log" 2>&1 & pids+=($!)
wait_up "$b0" && wait_up "$b1" || bad "fault servers did not start"
# The restarted shard may be a few batches behind: training on is a choice.
# One step per round trip keeps the worker busy until the crash.
"$adaline" work --servers "$b0,$b1" --data "$work/big.vw" --batch-size 4 --round-steps 1 --retry-timeout 60 \
  --allow-shard-reset > "$work/fw.log" 2>&1 & worker=$!
sleep 2
kill -9 "$victim"
sleep 1
"${serve0[@]}" >> "$work/f0.log" 2>&1 & pids+=($!)
if wait "$worker"; then ok; else bad "the worker did not survive the shard's crash"; tail -5 "$work/fw.log"; fi
grep -q "waiting for shard 0" "$work/fw.log" && ok || bad "the worker did not say what it waited for"
grep -q "restored .*checkpoint-" "$work/f0.log" && ok || bad "the restarted shard did not restore a checkpoint"
kill -TERM "${pids[@]}" 2>/dev/null
wait "${pids[@]}" 2>/dev/null
pids=()
f0=$(ls "$work"/f0/checkpoint-*.model | tail -1)
f1=$(ls "$work"/f1/checkpoint-*.model | tail -1)
"$adaline" merge --allow-shard-reset --model-out "$work/after_crash.model" "$f0" "$f1" >/dev/null &&
  "$adaline" predict --model "$work/after_crash.model" --data "$work/test.vw" --out /dev/null >/dev/null 2>&1 &&
  ok || bad "the model after the crash does not load"

# 4. A shard that comes back empty (its volume lost): workers stop and say
#    so, and merge refuses shards at steps that cannot be one model.
c0="127.0.0.1:$(free_port)"
"$adaline" serve --listen "$c0" > "$work/e0.log" 2>&1 & pids+=($!); victim=$!
wait_up "$c0" || bad "the shard to empty did not start"
"$adaline" work --servers "$c0" --data "$work/big.vw" --batch-size 4 --round-steps 1 --retry-timeout 60 > "$work/ew.log" 2>&1 & worker=$!
for _ in $(seq 100); do
  [[ $("$adaline" query --servers "$c0" --stats 2>/dev/null | sed -n 's/.* step \([0-9]*\) .*/\1/p') -ge 200 ]] && break
  sleep 0.05
done
kill -9 "$victim"; wait "$victim" 2>/dev/null
"$adaline" serve --listen "$c0" >> "$work/e0.log" 2>&1 & pids+=($!)
wait "$worker"; status=$?
[[ $status -eq 1 ]] && grep -q "shard 0 at $c0 went back from step" "$work/ew.log" && ok ||
  { bad "a shard that came back empty did not stop the worker (exit $status):"; tail -3 "$work/ew.log"; }
kill -TERM "${pids[@]}" 2>/dev/null
wait "${pids[@]}" 2>/dev/null
pids=()

finish
