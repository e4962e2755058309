#!/usr/bin/env bash
# Where adaline's output goes and in what form: results on standard output,
# progress and reports on standard error (none with --quiet), JSON lines for
# programs, predictions as text, CSV or JSON lines and answered line by line
# from a pipe, and the optimizer race with its picture.
set -u
source tests/cli/test_lib.sh
adaline="$PWD/cli/adaline"
sample="$PWD/data/sample/movies.vw.gz"
work="${TEST_TMPDIR:-$(mktemp -d)}"
gzip -dc "$sample" | head -3000 > "$work/small.vw"

# 1. Standard output carries results only.
"$adaline" train --data "$work/small.vw" --holdout-every 10 --model-out "$work/m.model" \
  > "$work/train.out" 2> "$work/train.err" || bad "train failed"
[[ ! -s $work/train.out ]] && ok || bad "train wrote to standard output: $(head -2 "$work/train.out")"
grep -q "^holdout log loss" "$work/train.err" && grep -q "average loss" "$work/train.err" && ok ||
  bad "train's progress and report are not on standard error"
"$adaline" train --data "$work/small.vw" --model-out "$work/q.model" --quiet \
  > "$work/quiet.out" 2> "$work/quiet.err" || bad "train --quiet failed"
[[ ! -s $work/quiet.out && ! -s $work/quiet.err ]] && ok || bad "train --quiet printed: $(head -2 "$work/quiet.err")"
"$adaline" train --data "$work/missing.vw" --quiet 2> "$work/quiet_error.err"
[[ $? -eq 1 ]] && grep -q "missing.vw" "$work/quiet_error.err" && ok || bad "--quiet hid an error"
"$adaline" predict --model "$work/m.model" --data "$work/small.vw" > "$work/p.out" 2> "$work/p.err"
[[ $(wc -l < "$work/p.out") -eq 3000 ]] && grep -q "^log loss" "$work/p.err" && ! grep -q "log loss" "$work/p.out" && ok ||
  bad "predict mixed its metrics into the predictions"

# 2. --metrics-out: every progress row, each pass and the report as JSON.
"$adaline" train --data "$work/small.vw" --holdout-every 10 --passes 2 --quiet \
  --metrics-out "$work/run.jsonl" || bad "train --metrics-out failed"
python3 - "$work/run.jsonl" <<'PY' && ok || bad "--metrics-out is not the documented JSON lines"
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
events = [row["event"] for row in rows]
assert events.count("report") == 1 and events[-1] == "report", events
assert events.count("pass") == 2, events
progress = [row for row in rows if row["event"] == "progress"]
assert [row["examples"] for row in progress[:3]] == [1, 2, 4], progress[:3]
assert all({"average_loss", "since_last", "examples_per_second", "seconds"} <= row.keys() for row in progress)
report = rows[-1]
assert report["examples"] == 2 * 2700, report
assert 0.3 < report["holdout_log_loss"] < 0.75, report
for key in ("holdout_auc", "examples_per_second", "unique_features", "store_bytes", "warnings"):
    assert key in report, key
PY
"$adaline" train --data "$work/small.vw" --metrics-out /nonexistent/run.jsonl 2> "$work/bad_out.err"
[[ $? -eq 1 ]] && grep -q "cannot write /nonexistent/run.jsonl" "$work/bad_out.err" && ok ||
  bad "an unwritable --metrics-out was not refused before training"

# 3. Predictions as CSV and JSON lines, with tags.
printf "1 row_a|movie is_director_nolan\n0 'row,b|movie x\n1 |movie y\n" > "$work/tagged.vw"
"$adaline" predict --model "$work/m.model" --data "$work/tagged.vw" --out "$work/p.csv" --quiet
python3 - "$work/p.csv" <<'PY' && ok || bad "predict's CSV"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert [row["tag"] for row in rows] == ["row_a", "row,b", ""], rows
assert all(0 < float(row["prediction"]) < 1 for row in rows), rows
PY
"$adaline" predict --model "$work/m.model" --data "$work/tagged.vw" --out-format jsonl --raw --quiet > "$work/p.jsonl"
python3 - "$work/p.jsonl" <<'PY' && ok || bad "predict's JSON lines"
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
assert [row.get("tag") for row in rows] == ["row_a", "row,b", None], rows
assert rows[0]["prediction"] > rows[2]["prediction"], rows  # nolan counts
assert rows[1]["prediction"] < 0, rows  # a margin, not a probability
PY
"$adaline" predict --model "$work/m.model" --data "$work/tagged.vw" --out-format xml 2> "$work/xml.err"
[[ $? -eq 1 ]] && grep -q "text, csv or jsonl" "$work/xml.err" && ok || bad "an unknown --out-format was not named"

# A quiet cluster (its shards and workers quiet too) prints nothing.
"$adaline" cluster --shards 1 --workers 2 --data "$work/small.vw" --model-out "$work/c.model" --quiet \
  > "$work/cluster.out" 2> "$work/cluster.err" || bad "cluster --quiet failed: $(tail -3 "$work/cluster.err")"
[[ -s $work/c.model && ! -s $work/cluster.out && ! -s $work/cluster.err ]] && ok ||
  bad "cluster --quiet printed: $(head -3 "$work/cluster.err")"

# 4. A pipe is answered line by line: the writer waits for each answer.
mkfifo "$work/in" "$work/out"
"$adaline" predict --model "$work/m.model" --data - --quiet < "$work/in" > "$work/out" &
predictor=$!
pids+=("$predictor")
exec 7> "$work/in" 8< "$work/out"
answered=0
for line in "1 a|movie is_director_nolan" "0 b|movie x" "1 c|movie y"; do
  echo "$line" >&7
  if read -r -t 10 answer <&8 && [[ $answer == *" ${line:2:1}" ]]; then answered=$((answered + 1)); fi
done
exec 7>&- 8<&-
wait "$predictor"
[[ $answered -eq 3 ]] && ok || bad "predict answered $answered of 3 lines while the pipe stayed open"

# 5. The race: one table, JSON lines, and the picture.
"$adaline" race --data "$work/small.vw" --optimizers sgd,adagrad,ftrl --lr adagrad=0.2,sgd=0.1 \
  --watch movie^is_director_nolan --metrics-out "$work/race.jsonl" > "$work/race.out" 2> "$work/race.err" ||
  bad "race failed: $(tail -3 "$work/race.err")"
[[ ! -s $work/race.out ]] && grep -q "examples *sgd *adagrad *ftrl" "$work/race.err" &&
  grep -q "^movie^is_director_nolan" "$work/race.err" && ok || bad "race's table"
python3 - "$work/race.jsonl" <<'PY' && ok || bad "race's JSON lines"
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
assert {row["optimizer"] for row in rows} == {"sgd", "adagrad", "ftrl"}
last = {row["optimizer"]: row for row in rows if row["examples"] == 3000}
assert len(last) == 3, last
assert all("movie^is_director_nolan" in row["weights"] for row in rows)
assert all(0 < row["average_loss"] < 1 for row in last.values()), last
PY
if /usr/bin/python3 -c "import matplotlib" 2> /dev/null; then
  /usr/bin/python3 tools/plot.py "$work/race.jsonl" --out "$work/race.png" 2> /dev/null &&
    [[ $(head -c 4 "$work/race.png" | od -An -c | tr -d ' ') == *PNG* ]] && ok || bad "plot.py drew no PNG"
else
  bad "python3-matplotlib is missing: tools/install.sh installs it"
fi
"$adaline" race --data "$work/small.vw" --optimizers adagrad --lr adam=0.1 2> "$work/race_bad.err"
[[ $? -eq 1 ]] && grep -q "adam, which is not in --optimizers" "$work/race_bad.err" && ok ||
  bad "a per-optimizer value for an absent optimizer was not refused"

"$adaline" race --data "$work/small.vw" --optimizer adam 2> "$work/race_optimizer.err"
[[ $? -eq 2 ]] && grep -q "does not take --optimizer; did you mean --optimizers?" "$work/race_optimizer.err" && ok ||
  bad "race took --optimizer, which it would ignore: $(cat "$work/race_optimizer.err")"

finish
