#!/usr/bin/env bash
# Installs the Debian 12 packages adaline builds with, if any is missing.
set -euo pipefail
packages=(
  bazel-bootstrap g++ pkg-config python3 python3-yaml openssl
  libabsl-dev libprotobuf-dev protobuf-compiler
  libgrpc++-dev protobuf-compiler-grpc
  libgtest-dev libgmock-dev libbenchmark-dev libxxhash-dev zlib1g-dev libisal-dev libssl-dev
  prometheus-cpp-dev
  clang libclang-rt-14-dev  # the libFuzzer targets (bazel build --config=fuzz)
  # the Python package (python/) and its tests
  python3-grpcio python3-protobuf python3-numpy python3-xxhash python3-pip python3-venv
  python3-matplotlib  # tools/plot.py draws `adaline race`
)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
if (( ${#missing[@]} == 0 )); then
  exit 0
fi
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
echo "installing: ${missing[*]}" >&2
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
