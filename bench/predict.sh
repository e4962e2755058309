#!/usr/bin/env bash
# Live predictions against one shard on loopback while training goes on:
# the shard (`adaline serve`) on core 0, the client and its trainer on the
# other cores, so the shard's CPU time is one core's (bench/predict_bench.cc).
#   bench/predict.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-3}
bazel build -c opt //cli:adaline //bench:predict_bench >&2
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cores=$(nproc)
taskset -c 0 bazel-bin/cli/adaline serve --listen "127.0.0.1:$port" > /dev/null 2>&1 &
server=$!
trap 'kill -9 $server 2>/dev/null' EXIT
client_cores=0
[[ $cores -gt 1 ]] && client_cores="1-$((cores - 1))"
taskset -c "$client_cores" bazel-bin/bench/predict_bench --server "127.0.0.1:$port" \
  --server_pid "$server" --seconds "$seconds"
