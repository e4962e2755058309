#!/usr/bin/env bash
# The adaline command as a user meets it: the main job, and a clear error
# for every kind of bad input.
set -u
adaline="$PWD/cli/adaline"
sample="$PWD/data/sample/movies.vw.gz"
work="${TEST_TMPDIR:-$(mktemp -d)}"
passed=0
failed=0

check() {  # check NAME EXPECTED_EXIT EXPECTED_TEXT -- COMMAND...
  local name=$1 want_exit=$2 want_text=$3
  shift 4
  local output exit_code
  output=$("$@" 2>&1)
  exit_code=$?
  if [[ $exit_code -eq $want_exit && $output == *"$want_text"* ]]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $name: exit $exit_code (wanted $want_exit), output:"
    echo "$output" | head -20
    echo "(wanted it to contain: $want_text)"
  fi
}

check "main job trains and reports" 0 "holdout log loss" -- \
  "$adaline" train --data "$sample" --holdout-every 10 --passes 2 \
  --model-out "$work/m.model" --keep-names
check "inspect shows the rare feature" 0 "movie^is_director_nolan  weight" -- \
  "$adaline" inspect --model "$work/m.model" --feature movie^is_director_nolan
nolan=$("$adaline" inspect --model "$work/m.model" --feature movie^is_director_nolan | awk '{print $3}')
if awk -v w="$nolan" 'BEGIN { exit !(w > 0.5) }'; then passed=$((passed + 1)); else
  failed=$((failed + 1)); echo "FAIL: nolan weight $nolan is not clearly positive"; fi
check "a feature without its namespace gets a guess" 0 "did you mean movie^is_director_nolan?" -- \
  "$adaline" inspect --model "$work/m.model" --feature is_director_nolan
check "inspect --top names features" 0 "movie^is_director_nolan" -- \
  "$adaline" inspect --model "$work/m.model" --top 3
check "inspect --all --format tsv" 0 $'^__bias__\t' -- \
  "$adaline" inspect --model "$work/m.model" --all --format tsv
check "predict prints metrics" 0 "log loss" -- \
  "$adaline" predict --model "$work/m.model" --data "$sample" --out "$work/p.txt"
lines=$(wc -l < "$work/p.txt")
if [[ $lines -eq 40000 ]]; then passed=$((passed + 1)); else
  failed=$((failed + 1)); echo "FAIL: predict wrote $lines lines, not 40000"; fi

check "generate writes gzip under a .gz name" 0 "rows 500" -- \
  "$adaline" generate --rows 500 --out "$work/small.vw.gz"
gzip -t "$work/small.vw.gz" 2> /dev/null && [[ $(gzip -dc "$work/small.vw.gz" | wc -l) -eq 500 ]] &&
  passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: generate's .gz is not gzip"; }
check "a one-shot query gives up on an unreachable server within seconds" 1 "was unreachable for 10s" -- \
  "$adaline" query --servers 127.0.0.1:1 --stats

check "standard input" 0 "examples               1000" -- bash -c \
  "gzip -dc '$sample' | head -1000 | '$adaline' train --data -"
printf '3.5 |a x\n-1.25 |a y\n2 |a x y\n' > "$work/real.vw"
check "squared loss takes real labels" 0 "holdout RMSE" -- \
  "$adaline" train --data "$work/real.vw" --loss squared --holdout-every 2
check "binary loss refuses real labels" 1 "real.vw:1: label '3.5' is not -1, 0 or 1" -- \
  "$adaline" train --data "$work/real.vw"

# Lines of VW's own test files: base predictions, tags touching the bar,
# unlabeled lines, anonymous features.
printf "0 1 0.5 'third_house | price:.53 sqft:.32\n unlabeled/2| a b c\n| :1\n1 |a b\n" > "$work/vw_grammar.vw"
check "VW's simple-label lines train" 0 "unlabeled examples     2 (skipped: no label)" -- \
  "$adaline" train --data "$work/vw_grammar.vw" --passes 1 --model-out "$work/g.model"
check "unlabeled lines are scored" 0 "examples               4" -- \
  "$adaline" predict --model "$work/g.model" --data "$work/vw_grammar.vw" --out "$work/g.txt"
# Predictions carry the tag, as VW's -p writes them; --raw gives margins.
if [[ $(sed -n 1p "$work/g.txt") =~ ^0\.[0-9]+\ third_house$ && $(sed -n 2p "$work/g.txt") =~ \ unlabeled/2$ &&
      $(sed -n 3p "$work/g.txt") =~ ^[0-9.e-]+$ ]]; then passed=$((passed + 1)); else
  failed=$((failed + 1)); echo "FAIL: predictions without their tags:"; cat "$work/g.txt"; fi
"$adaline" predict --model "$work/g.model" --data "$work/vw_grammar.vw" --out "$work/g_raw.txt" --raw > /dev/null
probability=$(sed -n 4p "$work/g.txt"); margin=$(sed -n 4p "$work/g_raw.txt")
if awk -v p="$probability" -v m="$margin" 'BEGIN { d = 1 / (1 + exp(-m)) - p; exit !(d < 1e-6 && d > -1e-6 && m != p) }'; then
  passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: --raw margin $margin for probability $probability"; fi

check "no listening beyond loopback without tokens" 1 "without --auth-tokens" -- \
  "$adaline" serve --listen 0.0.0.0:0
printf 'trainer short\n' > "$work/tokens"
check "a bad token file" 1 "tokens:1: token is shorter than 16" -- \
  "$adaline" serve --listen 0.0.0.0:0 --auth-tokens "$work/tokens"

# (timeout stops the server after 2 s and exits 124.)
printf 'trainer trainer-token-0123456789\n' > "$work/good_tokens"
check "tokens in plaintext beyond loopback are warned of" 124 "tokens travel in plaintext on 0.0.0.0:0" -- \
  timeout -s TERM 2 "$adaline" serve --listen 0.0.0.0:0 --auth-tokens "$work/good_tokens"

check "a command's --help lists its flags" 0 "usage: adaline train" -- "$adaline" train --help
check "-h too, whatever else is given" 0 "--batch-size (default: '1')" -- "$adaline" work --servers x -h
check "--version" 0 "adaline 0.9.0" -- "$adaline" --version
check "unknown command" 2 "unknown command 'fly'" -- "$adaline" fly
check "unknown flag" 2 "does not take --bogus" -- "$adaline" train --bogus=1
check "flag of another command" 2 "'adaline predict' does not take --lr" -- \
  "$adaline" predict --lr 0.1 --model "$work/m.model" --data "$sample"
check "bad flag value" 1 "Illegal value" -- "$adaline" train --passes=many --data "$sample"
check "unknown optimizer" 1 "unknown optimizer 'adamw'" -- \
  "$adaline" train --optimizer adamw --data "$sample"
check "unknown format" 1 "unknown format 'csv'" -- \
  "$adaline" train --format csv --data "$sample"
check "out of range hyperparameter" 1 "--beta2 is 1.5" -- \
  "$adaline" train --optimizer adam --beta2 1.5 --data "$sample"
check "missing data file" 1 "cannot open $work/none.vw" -- \
  "$adaline" train --data "$work/none.vw"
check "no data" 1 "--data names no file" -- "$adaline" train

printf '1 |a x\n-1 |a y\n1 |a z:1e999\n1 |a w\n' > "$work/bad.vw"
check "malformed line" 1 "$work/bad.vw:3: feature 'z:1e999'" -- \
  "$adaline" train --data "$work/bad.vw"
check "malformed lines skipped" 0 "skipped lines          1" -- \
  "$adaline" train --data "$work/bad.vw" --max-bad-lines 1

check "resume with other settings" 1 "--lr is 0.25 but the model was trained with 0.5" -- \
  "$adaline" train --data "$sample" --model-in "$work/m.model" --lr 0.25
check "a --model-out nowhere is refused before training" 1 "cannot write $work/none/m.model: directory $work/none/ does not exist" -- \
  "$adaline" train --data "$sample" --model-out "$work/none/m.model"
check "resume" 0 "resuming $work/m.model" -- \
  "$adaline" train --data "$sample" --model-in "$work/m.model" --keep-names
"$adaline" train --data "$sample" --model-in "$work/m.model" --model-out "$work/m3.model" > /dev/null
check "a resumed model keeps its names without --keep-names" 0 "movie^is_director_nolan" -- \
  "$adaline" inspect --model "$work/m3.model" --top 3

head -c 1000 "$work/m.model" > "$work/cut.model"
check "truncated model" 1 "truncated" -- "$adaline" inspect --model "$work/cut.model" --top 1
check "data file as model" 1 "not an adaline model file" -- \
  "$adaline" predict --model "$work/bad.vw" --data "$sample"

cp "$work/m.model" "$work/tampered.model"
# A byte of the last feature name: only the checksum can tell.
printf '\x7f' | dd of="$work/tampered.model" bs=1 seek=$(( $(stat -c %s "$work/tampered.model") - 12 )) conv=notrunc 2>/dev/null
check "tampered model" 1 "checksum mismatch" -- "$adaline" inspect --model "$work/tampered.model" --top 1

# Bad data of every kind: a clear error naming file and line, never a crash.
python3 -c "print('1 |a x'); print('1 |a ' + 'n' * (2 << 20))" > "$work/huge_name.vw"
check "a name of megabytes" 1 "$work/huge_name.vw:2: feature 'nnnn" -- \
  "$adaline" train --data "$work/huge_name.vw" --keep-names
check "a name of megabytes, said how long" 1 "name of 2097154 bytes with its namespace; at most 1048576" -- \
  "$adaline" train --data "$work/huge_name.vw"
check "binary garbage" 1 "$PWD/cli/adaline:1:" -- "$adaline" train --data "$PWD/cli/adaline"
output=$("$adaline" train --data "$PWD/cli/adaline" 2>&1)
if [[ $output != *[$'\x01'-$'\x08'$'\x0e'-$'\x1f'$'\x7f']* ]]; then passed=$((passed + 1)); else
  failed=$((failed + 1)); echo "FAIL: the error about binary garbage has control bytes in it"; fi
check "a model file as data" 1 "m.model:1:" -- "$adaline" train --data "$work/m.model"
printf '1e30 |a x:3e38 y\n-1e30 1e30 |a x:-3e38\n3 |a y\n' > "$work/absurd.vw"
check "absurd values: trained, overflow skipped and reported" 0 "gradients were not finite (values in the data too large?)" -- \
  "$adaline" train --data "$work/absurd.vw" --loss squared --optimizer sgd --lr 1 \
  --model-out "$work/absurd.model" --keep-names
if "$adaline" inspect --model "$work/absurd.model" --all --format tsv | awk -F'\t' 'NR > 0 && ($2 == "nan" || $2 == "inf" || $2 == "-inf") { bad = 1 } END { exit bad }'; then
  passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: absurd values left a non-finite weight"; fi

# Crosses, as VW users write them. The label is whether a and b agree: no
# linear model of a and b alone can learn it, their cross can.
awk 'BEGIN { srand(3); for (i = 0; i < 3000; ++i) { a = int(rand() * 2); b = int(rand() * 2);
  printf "%d |a v%d |b v%d |c w%d\n", (a == b) ? 1 : -1, a, b, int(rand() * 5) } }' > "$work/xor.vw"
check "-q repeated and --interactions with commas" 0 "crosses cc,abc,ab (1 dropped: another order of an earlier cross)" -- \
  "$adaline" train --data "$work/xor.vw" -q ab -q ba --interactions cc,abc --model-out "$work/xor.model"
loss_of() { "$adaline" predict --model "$1" --data "$work/xor.vw" --out /dev/null 2>&1 | awk '/^log loss/ { print $NF }'; }
"$adaline" train --data "$work/xor.vw" --model-out "$work/plain.model" > /dev/null
crossed=$(loss_of "$work/xor.model"); plain=$(loss_of "$work/plain.model")
if awk -v c="$crossed" -v p="$plain" 'BEGIN { exit !(c < 0.2 && p > 0.6) }'; then passed=$((passed + 1)); else
  failed=$((failed + 1)); echo "FAIL: predict with the model's crosses: log loss $crossed (plain model: $plain)"; fi
check "a cross is found by its name" 0 "a^v0*b^v0" -- \
  "$adaline" inspect --model "$work/xor.model" --feature 'a^v0*b^v0'
cross_weight=$("$adaline" inspect --model "$work/xor.model" --feature 'a^v0*b^v0' | awk '{ print $3 }')
if awk -v w="$cross_weight" 'BEGIN { exit !(w > 0.3) }'; then passed=$((passed + 1)); else
  failed=$((failed + 1)); echo "FAIL: the cross a^v0*b^v0 has weight $cross_weight"; fi
check "resuming with other crosses is refused" 1 "--interactions is none but the model was trained with cc,abc,ab" -- \
  "$adaline" train --data "$work/xor.vw" --model-in "$work/xor.model"
check "a letter no namespace starts with is reported" 0 "no namespace starting with 'z' occurred" -- \
  "$adaline" train --data "$work/xor.vw" -q az
check "-q takes two letters" 1 "-q 'abc' must name exactly 2 namespaces" -- \
  "$adaline" train --data "$work/xor.vw" -q abc
check "a bar cannot start a namespace" 1 "--interactions 'a|': '|' cannot start a namespace" -- \
  "$adaline" train --data "$work/xor.vw" --interactions 'a|'
check "-q needs a value" 2 "--q needs a value" -- "$adaline" train --data "$work/xor.vw" -q
check "predict takes the crosses from the model" 2 "does not take -q" -- \
  "$adaline" predict --model "$work/xor.model" --data "$work/xor.vw" -q ab

# L1 and L2 with any optimizer; L1's zeros make the weights-only file small,
# and it predicts exactly as the full model does.
check "L1 and L2 with adagrad report the non-zero weights" 0 "non-zero weights" -- \
  "$adaline" train --data "$sample" --l1 0.001 --l2 0.01 \
  --model-out "$work/l1.model" --weights-out "$work/l1.weights"
unique=$("$adaline" train --data "$sample" --l1 0.001 --l2 0.01 2>&1 | awk '/^unique features/ { print $NF }')
nonzero=$("$adaline" train --data "$sample" --l1 0.001 --l2 0.01 2>&1 | awk '/^non-zero weights/ { print $NF }')
if [[ -n $nonzero && $nonzero -lt $((unique / 2)) ]]; then passed=$((passed + 1)); else
  failed=$((failed + 1)); echo "FAIL: --l1 0.001 left $nonzero of $unique weights non-zero"; fi
if [[ $(stat -c %s "$work/l1.weights") -lt $(( $(stat -c %s "$work/l1.model") / 4 )) ]]; then passed=$((passed + 1)); else
  failed=$((failed + 1)); echo "FAIL: the weights-only file is not much smaller than the model"; fi
"$adaline" predict --model "$work/l1.model" --data "$sample" --out "$work/l1_full.txt" > /dev/null
"$adaline" predict --model "$work/l1.weights" --data "$sample" --out "$work/l1_weights.txt" > /dev/null
if cmp -s "$work/l1_full.txt" "$work/l1_weights.txt"; then passed=$((passed + 1)); else
  failed=$((failed + 1)); echo "FAIL: the weights-only file predicts otherwise than the model"; fi
check "inspect reads a weights-only file" 0 "movie^" -- \
  "$adaline" inspect --model "$work/l1.weights" --feature movie^is_director_nolan
check "a weights-only file cannot resume training" 1 "holds weights only (--weights-out)" -- \
  "$adaline" train --data "$sample" --l1 0.001 --l2 0.01 --model-in "$work/l1.weights"
check "nor be merged" 1 "holds weights only (--weights-out)" -- \
  "$adaline" merge --model-out "$work/none.model" "$work/l1.weights"
check "L1 with adam too" 0 "non-zero weights" -- \
  "$adaline" train --data "$sample" --optimizer adam --l1 1
check "a negative L2 is refused" 1 "--l2 is -1" -- "$adaline" train --data "$sample" --l2 -1

# The example cache: the first run writes it, the next one reads it, a
# changed data file rebuilds it.
cp "$work/xor.vw" "$work/cached.vw"
check "a named cache is written" 0 "examples               6000" -- \
  "$adaline" train --data "$work/cached.vw" --passes 2 --cache "$work/xor.cache"
check "and read by the next run" 0 "reading examples from the cache $work/xor.cache" -- \
  "$adaline" train --data "$work/cached.vw" --passes 2 --cache "$work/xor.cache"
echo "1 |a v1 |b v1" >> "$work/cached.vw"
check "a changed data file rebuilds it" 0 "was made from other data or settings: rebuilding it" -- \
  "$adaline" train --data "$work/cached.vw" --cache "$work/xor.cache"
check "standard input is not cached" 1 "standard input cannot be cached" -- \
  bash -c "'$adaline' train --data - --cache '$work/stdin.cache' < '$work/xor.vw'"

check "early stopping says which pass won" 0 "best pass" -- \
  "$adaline" train --data "$sample" --passes 6 --holdout-every 10 --early-stop 1 --lr 2
check "early stopping needs a holdout" 1 "--early-stop needs a holdout to watch" -- \
  "$adaline" train --data "$sample" --passes 3 --early-stop 1

printf '1e10 |a x:1e9\n1 |a x:1\n' > "$work/huge_gradient.vw"
check "a finite but absurd gradient is clipped and reported" 0 "gradients were beyond +-1e+12" -- \
  "$adaline" train --data "$work/huge_gradient.vw" --loss squared

# A run that fails leaves an existing model where it was, untouched.
cp "$work/m.model" "$work/kept.model"
check "a failed run keeps --model-out as it was" 1 "bad.vw:3:" -- \
  "$adaline" train --data "$work/bad.vw" --model-out "$work/kept.model"
if cmp -s "$work/m.model" "$work/kept.model" && ! compgen -G "$work/kept.model.tmp*" > /dev/null; then
  passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: a failed run changed its --model-out"; fi

check "inspect alone summarises the model" 0 "names stored" -- \
  "$adaline" inspect --model "$work/m.model"
check "the summary names the optimizer and its settings" 0 "optimizer          adagrad (--lr 0.5" -- \
  "$adaline" inspect --model "$work/m.model"

for flag in --max-reader-message-bytes --max-request-memory --metrics-listen --follow --admit-after; do
  check "serve takes $flag" 0 "$flag" -- "$adaline" help serve
done

# Bounded memory in local training: admission and eviction are reported,
# bad settings refused before any work.
check "admission is reported" 0 "updates not admitted" -- \
  "$adaline" train --data "$sample" --admit-after 3
check "eviction is reported" 0 "evicted keys" -- \
  "$adaline" train --data "$sample" --max-keys 500 --evict-when-full
check "eviction needs a limit" 1 "--evict-when-full needs --max-keys" -- \
  "$adaline" train --data "$sample" --evict-when-full
check "admission counts to 255" 1 "--admit-after must be at most 255" -- \
  "$adaline" train --data "$sample" --admit-after 300

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
