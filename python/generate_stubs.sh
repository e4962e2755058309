#!/usr/bin/env bash
# Generates the package's gRPC and protobuf modules from proto/*.proto with
# Debian's protoc and grpc_python_plugin, into OUT/adaline/_proto. The one
# way they are made: setup.py and the tests call it.
#   python/generate_stubs.sh OUT [PROTO_ROOT]
set -euo pipefail
out=$1
root=${2:-$(cd "$(dirname "$0")/.." && pwd)}
plugin=$(command -v grpc_python_plugin) || {
  echo "grpc_python_plugin not found (Debian package protobuf-compiler-grpc)" >&2; exit 1; }
mkdir -p "$out/adaline/_proto"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
protoc -I "$root" --python_out="$scratch" --grpc_python_out="$scratch" \
  --plugin=protoc-gen-grpc_python="$plugin" "$root/proto/model.proto" "$root/proto/adaline.proto"
# protoc names the modules by the protos' paths (proto/...); inside the
# package they live in adaline._proto.
for file in "$scratch"/proto/*.py; do
  sed -e 's/^from proto import /from adaline._proto import /' "$file" > "$out/adaline/_proto/$(basename "$file")"
done
echo '"""Modules generated from proto/*.proto by python/generate_stubs.sh."""' > "$out/adaline/_proto/__init__.py"
