# Shared by the end-to-end benchmark drivers: builds adaline and generates
# (once) the synthetic data they run on. Source it from the repository root.
bazel build //:adaline >&2
adaline=bazel-bin/cli/adaline

# generated_data ROWS SEED: the path of a generated file of ROWS rows.
generated_data() {
  local path=${BENCH_DATA_DIR:-/tmp}/adaline_bench_${1}_seed${2}.vw
  [[ -s $path ]] || "$adaline" generate --rows "$1" --seed "$2" --out "$path" >&2
  echo "$path"
}
