#!/usr/bin/env bash
# Soak: one shard (checkpointing every 20 s) and WORKERS workers pulling and
# pushing for SECONDS; prints throughput, latency and server memory over time
# (bench/soak.cc), then stops the shard with SIGTERM.
#   bench/soak.sh [SECONDS] [WORKERS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-90}
workers=${2:-4}
bazel build //cli:adaline //bench:soak >&2
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
checkpoints=$(mktemp -d)
bazel-bin/cli/adaline serve --listen "127.0.0.1:$port" --checkpoint-dir "$checkpoints" \
  --checkpoint-every 20 > "$checkpoints/serve.log" 2>&1 &
server=$!
trap 'kill -9 $server 2>/dev/null; rm -rf "$checkpoints"' EXIT
status=0
bazel-bin/bench/soak --servers "127.0.0.1:$port" --server_pid "$server" \
  --workers "$workers" --seconds "$seconds" || status=$?
kill -TERM "$server"
wait "$server" || { echo "the server did not stop cleanly:"; tail -5 "$checkpoints/serve.log"; status=1; }
grep -c "checkpoint failed" "$checkpoints/serve.log" | sed 's/^/failed checkpoints: /' || true
exit $status
