#!/usr/bin/env bash
# The main job: build adaline, train on the bundled movie ratings, and show
# the weight learned for the rare, decisive feature movie^is_director_nolan.
set -euo pipefail
cd "$(dirname "$0")/.."
bazel build //:adaline
adaline=bazel-bin/cli/adaline
mkdir -p out
"$adaline" train --data data/sample/movies.vw.gz --optimizer adagrad \
  --holdout-every 10 --passes 3 --keep-names --model-out out/movies.model
echo
"$adaline" inspect --model out/movies.model --feature movie^is_director_nolan
echo
echo "largest weights:"
"$adaline" inspect --model out/movies.model --top 8
