#!/usr/bin/env bash
# Faults around a parameter server, each checked against README's promise
# ("What a crash can lose"): kill -9 during a checkpoint write, a disk that
# fills up, hits a file-size limit or turns read-only, and a worker killed
# mid-stream.
set -u
source "$PWD/tests/cli/test_lib.sh"
adaline="$PWD/cli/adaline"
work="$(mktemp -d)"  # not TEST_TMPDIR: tmpfs mounts and other users need /tmp
trap 'kill -9 "${pids[@]}" 2>/dev/null; rm -rf "$work"' EXIT

# Lines of `width` features that no other line has: line i's features are
# l<i>x0 ... so which lines a model holds tells which batches it applied.
unique_lines() {  # unique_lines FIRST COUNT WIDTH
  python3 -c "
import sys
first, count, width = map(int, sys.argv[1:])
for i in range(first, first + count):
    print('1 |u ' + ' '.join('l%dx%d' % (i, j) for j in range(width)))
" "$@"
}
unique_lines 0 5000 50 > "$work/small.vw"      # 250k keys, a 5 MB checkpoint
unique_lines 5000 35000 50 > "$work/large.vw"  # 1.75M more, 40 MB in all
step_of() {  # step_of ADDRESS
  query --servers "$1" --stats | sed -n 's/.* step \([0-9]*\) .*/\1/p'
}
train_on() {  # train_on ADDRESS FILE
  "$adaline" work --retry-timeout 5 --servers "$1" --data "$2" --batch-size 1000 > "$work/work.log" 2>&1
}
# A dead server must fail the test, not stall it.
query() { "$adaline" query --retry-timeout 5 "$@"; }
# The files of a checkpoint directory but its lock.
checkpoint_files() { ls "$1" 2>/dev/null | grep -v '^LOCK$' | tr '\n' ' '; }

# 1. kill -9 while a checkpoint is being written: the previous checkpoint
#    is intact and is what the shard restarts from.
address="127.0.0.1:$(free_port)"
"$adaline" serve --listen "$address" --checkpoint-dir "$work/c1" \
  --checkpoint-every 0 > "$work/s1.log" 2>&1 & server=$!; pids+=($server)
wait_up "$address" || bad "server 1 did not start"
train_on "$address" "$work/small.vw"
query --servers "$address" --checkpoint > /dev/null && ok || bad "first checkpoint"
train_on "$address" "$work/large.vw"
query --servers "$address" --checkpoint > /dev/null 2>&1 &
caught=0
deadline=$((SECONDS + 20))
while ((SECONDS < deadline)); do
  if compgen -G "$work/c1/*.tmp.*" > /dev/null; then caught=1; break; fi
done
kill -9 "$server"; wait "$server" 2>/dev/null
if [[ $caught -eq 1 ]] && compgen -G "$work/c1/*.tmp.*" > /dev/null; then ok; else
  bad "the checkpoint write was not caught in the act: $(checkpoint_files "$work/c1")"; fi
[[ $(checkpoint_files "$work/c1") == *"checkpoint-00000000000000000005.model "* ]] &&
  ok || bad "the previous checkpoint is gone: $(checkpoint_files "$work/c1")"
"$adaline" serve --listen "$address" --checkpoint-dir "$work/c1" \
  --checkpoint-every 0 > "$work/s1b.log" 2>&1 & server=$!; pids+=($server)
wait_up "$address" || bad "server 1 did not restart"
grep -q "restored $work/c1/checkpoint-00000000000000000005.model at step 5, 250001 keys" "$work/s1b.log" &&
  ok || bad "did not restart from the previous checkpoint: $(cat "$work/s1b.log")"
grep -q "removing .*tmp.* a checkpoint whose writing was cut off" "$work/s1b.log" &&
  ! compgen -G "$work/c1/*.tmp.*" > /dev/null && ok || bad "the cut-off file was not removed"
[[ $(step_of "$address") == 5 ]] && ok || bad "restarted at step $(step_of "$address")"
kill "$server"; wait "$server" && ok || bad "restarted server did not stop cleanly"

# A failing disk: the checkpoint fails, the server says so, keeps serving
# and keeps its last good checkpoint; Stats report the failure.
expect_failed_checkpoint() {  # NAME ADDRESS DIRECTORY ERROR_TEXT LOG
  local name=$1 address=$2 directory=$3 error_text=$4 log=$5
  if query --servers "$address" --checkpoint > "$work/q.out" 2>&1; then
    bad "$name: the checkpoint did not fail"
  elif grep -q "$error_text" "$work/q.out"; then ok; else
    bad "$name: the client was not told why: $(cat "$work/q.out")"; fi
  grep -q "checkpoint failed, serving on: .*$error_text" "$log" && ok ||
    bad "$name: the server did not log the failure: $(tail -3 "$log")"
  query --servers "$address" --stats > "$work/stats.out"
  grep -q "checkpoints 1 (failed 1)  last checkpoint error: .*$error_text" "$work/stats.out" &&
    ok || bad "$name: stats do not show the failure: $(cat "$work/stats.out")"
  train_on "$address" "$work/small.vw" && ok || bad "$name: the server stopped serving"
}

# 2. A file-size limit (ulimit -f, in KiB) between the two checkpoint sizes.
address="127.0.0.1:$(free_port)"
(ulimit -f 20000; exec "$adaline" serve --listen "$address" --checkpoint-dir "$work/c2" \
  --checkpoint-every 0) > "$work/s2.log" 2>&1 & server=$!; pids+=($server)
wait_up "$address" || bad "server 2 did not start"
train_on "$address" "$work/small.vw"
query --servers "$address" --checkpoint > /dev/null && ok || bad "file-size limit: first checkpoint"
train_on "$address" "$work/large.vw"
expect_failed_checkpoint "file-size limit" "$address" "$work/c2" "File too large" "$work/s2.log"
[[ $(checkpoint_files "$work/c2") == "checkpoint-00000000000000000005.model " ]] &&
  ok || bad "file-size limit: not just the last good checkpoint: $(checkpoint_files "$work/c2")"
kill "$server"; wait "$server"
[[ $? -eq 1 ]] && grep -q "File too large" "$work/s2.log" && ok ||
  bad "file-size limit: the failed final checkpoint was not an error"

# 3 and 4 need a file system of their own: a tmpfs in a private mount
# namespace, which needs root (CAP_SYS_ADMIN).
if unshare -m true 2>/dev/null; then
  in_namespace() { nsenter -t "$server" -m "$@"; }
  # Starts server N checkpointing to its own tmpfs $work/cN (mount options
  # OPTIONS), trains it a little and writes a first good checkpoint.
  start_on_tmpfs() {  # N OPTIONS
    local n=$1 options=$2
    address="127.0.0.1:$(free_port)"
    mkdir -p "$work/c$n"
    unshare -m bash -c 'mount -t tmpfs -o "$1" tmpfs "$2" && shift 2 && exec "$@"' _ \
      "$options" "$work/c$n" "$adaline" serve --listen "$address" --checkpoint-dir "$work/c$n" \
      --checkpoint-every 0 > "$work/s$n.log" 2>&1 & server=$!; pids+=($server)
    wait_up "$address" || bad "server $n did not start"
    train_on "$address" "$work/small.vw"
    query --servers "$address" --checkpoint > /dev/null && ok || bad "server $n: first checkpoint"
  }
  # 3. No space left: a 20 MB tmpfs.
  start_on_tmpfs 3 size=20m
  train_on "$address" "$work/large.vw"
  expect_failed_checkpoint "no space" "$address" "$work/c3" "No space left on device" "$work/s3.log"
  [[ $(in_namespace ls "$work/c3" | grep -v '^LOCK$' | tr '\n' ' ') == "checkpoint-00000000000000000005.model " ]] &&
    ok || bad "no space: not just the last good checkpoint: $(in_namespace ls "$work/c3")"
  kill -9 "$server"; wait "$server" 2>/dev/null

  # 4. A disk that turns read-only while serving, and comes back.
  start_on_tmpfs 4 size=50%
  in_namespace mount -o remount,ro "$work/c4"
  # A model that has not changed since its last checkpoint is not written
  # again: train first.
  train_on "$address" "$work/small.vw"
  expect_failed_checkpoint "read-only" "$address" "$work/c4" "Read-only file system" "$work/s4.log"
  in_namespace mount -o remount,rw "$work/c4"
  query --servers "$address" --checkpoint > /dev/null && ok ||
    bad "read-only: no checkpoint once the disk is back"
  query --servers "$address" --stats | grep -q "checkpoints 2 (failed 1)$" &&
    ok || bad "read-only: stats after recovery: $(query --servers "$address" --stats)"
  kill -9 "$server"
else
  echo "SKIPPED: no space and read-only disk (unshare -m is not permitted here)"
fi

# 6 (here for its data). A full store: new keys are dropped and counted,
#    the rest trains on, Stats say how full it is.
address="127.0.0.1:$(free_port)"
"$adaline" serve --listen "$address" --max-keys 1000 > "$work/s6.log" 2>&1 & server=$!; pids+=($server)
wait_up "$address" || bad "server 6 did not start"
train_on "$address" "$work/small.vw" && train_on "$address" "$work/small.vw" && ok ||
  bad "a full store stopped training: $(tail -3 "$work/work.log")"
grep -q "warning: shard 0 is full (1000 keys, --max-keys 1000): 498002 new keys were dropped" "$work/work.log" &&
  ok || bad "the worker did not say the store is full: $(tail -3 "$work/work.log")"
query --servers "$address" --stats | grep -q "step 10  keys 1000/1000 (498002 new keys dropped)" &&
  ok || bad "stats of a full store: $(query --servers "$address" --stats)"
kill "$server"; wait "$server"

# 7. Requests over --max-message-bytes are refused with a message that says so.
address="127.0.0.1:$(free_port)"
"$adaline" serve --listen "$address" --max-message-bytes 4096 > "$work/s7.log" 2>&1 & server=$!; pids+=($server)
wait_up "$address" || bad "server 7 did not start"
if train_on "$address" "$work/small.vw"; then bad "an oversized request was taken"; else
  grep -q "larger than max" "$work/work.log" && ok || bad "oversized worker request: $(tail -2 "$work/work.log")"; fi
query --servers "$address" $(seq -f "u^a_rather_long_feature_name_%g" 1 300) > "$work/q7.out" 2>&1
[[ $? -ne 0 ]] && grep -q "larger than max" "$work/q7.out" && ok || bad "oversized query: $(cat "$work/q7.out")"
[[ $(step_of "$address") == 0 ]] && ok || bad "an oversized request changed the model"
kill "$server"; wait "$server" && ok || bad "server 7 did not stop cleanly"

# 5. A worker killed mid-stream: every batch the server applied is whole.
#    One line per batch, 20 features each; the shard's step counts batches.
address="127.0.0.1:$(free_port)"
"$adaline" serve --listen "$address" > "$work/s5.log" 2>&1 & server=$!; pids+=($server)
wait_up "$address" || bad "server 5 did not start"
unique_lines 0 200000 20 > "$work/lines.vw"
"$adaline" work --servers "$address" --data "$work/lines.vw" > "$work/w5.log" 2>&1 & worker=$!
for _ in $(seq 200); do
  step=$(step_of "$address")
  [[ ${step:-0} -ge 2000 ]] && break
  sleep 0.05
done
kill -9 "$worker"; wait "$worker" 2>/dev/null
sleep 0.2  # let the server see the stream end
applied=$(step_of "$address")
echo "worker killed after $applied batches"
if [[ ${applied:-0} -ge 2000 && $applied -lt 200000 ]]; then ok; else
  bad "the worker was not killed mid-stream (step ${applied:-none})"; fi
# Lines around the cut, and a sample before it, hold all or none of their
# features; exactly the first `applied` lines are in the model.
names=()
lines=($( (seq $((applied - 8)) $((applied + 8)); seq 0 97 $((applied - 1))) | sort -nu))
for i in "${lines[@]}"; do for j in $(seq 0 19); do names+=("u^l${i}x${j}"); done; done
query --servers "$address" "${names[@]}" > "$work/q5.out"
whole=$(awk '{ split($1, a, "x"); line = substr(a[1], 4); present[line] += !/not in the model/ }
  END { for (l in present) if (present[l] != 0 && present[l] != 20) print "line", l, "has", present[l]; }' "$work/q5.out")
[[ -z $whole ]] && ok || bad "half-applied batches: $whole"
prefix=$(awk -v n="$applied" '{ split($1, a, "x"); line = substr(a[1], 4) + 0
  if ((line < n) == /not in the model/) print "line", line }' "$work/q5.out" | sort -u | head -3)
[[ -z $prefix ]] && ok || bad "the applied lines are not the first $applied: $prefix"
kill "$server"; wait "$server" && ok || bad "server 5 did not stop cleanly"

# 8. Checkpoints that cannot be read: the only one is corrupt, or a FIFO
#    wears a checkpoint's name. A shard never silently starts afresh.
address="127.0.0.1:$(free_port)"
mkdir -p "$work/c8"
cp "$work/c1/checkpoint-00000000000000000005.model" "$work/c8/"
printf '!' | dd of="$work/c8/checkpoint-00000000000000000005.model" bs=1 seek=40 conv=notrunc 2>/dev/null
timeout 20 "$adaline" serve --listen "$address" --checkpoint-dir "$work/c8" > "$work/s8.log" 2>&1
[[ $? -eq 1 ]] && grep -q "none of the 1 checkpoints in $work/c8 can be read" "$work/s8.log" && ok ||
  bad "a directory of unreadable checkpoints did not stop the shard: $(cat "$work/s8.log")"
[[ -f $work/c8/checkpoint-00000000000000000005.model.damaged ]] && ok ||
  bad "the damaged checkpoint was not set aside: $(checkpoint_files "$work/c8")"
mkfifo "$work/c8/checkpoint-00000000000000000009.model"
cp "$work/c1/checkpoint-00000000000000000005.model" "$work/c8/"
timeout 20 "$adaline" serve --listen "$address" --checkpoint-dir "$work/c8" \
  --checkpoint-every 0 > "$work/s8b.log" 2>&1 & server=$!; pids+=($server)
wait_up "$address" && grep -q "restored $work/c8/checkpoint-00000000000000000005.model" "$work/s8b.log" &&
  grep -q "not a regular file" "$work/s8b.log" && ok || bad "a FIFO blocked the restore: $(cat "$work/s8b.log")"
kill "$server"; wait "$server" && ok || bad "server 8 did not stop cleanly"
[[ -f $work/c8/checkpoint-00000000000000000005.model.damaged ]] && ok ||
  bad "rotation deleted the damaged checkpoint: $(checkpoint_files "$work/c8")"
rm -f "$work/c8"/checkpoint-*.model "$work/c8"/checkpoint-*.model.damaged
cp "$work/c1/checkpoint-00000000000000000005.model" "$work/c8/"
printf '!' | dd of="$work/c8/checkpoint-00000000000000000005.model" bs=1 seek=40 conv=notrunc 2>/dev/null
"$adaline" serve --listen "$address" --checkpoint-dir "$work/c8" --start-empty \
  --checkpoint-every 0 > "$work/s8c.log" 2>&1 & server=$!; pids+=($server)
wait_up "$address" && [[ $(step_of "$address") == 0 ]] && ok ||
  bad "--start-empty did not start an empty model: $(cat "$work/s8c.log")"
kill "$server"; wait "$server" && ok || bad "server 8c did not stop cleanly"

finish
