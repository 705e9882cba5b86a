#!/bin/sh
# End to end: what a run says is true. A regression's metrics are in the
# target's own units everywhere (metrics.csv's train_mae/val_mae columns,
# the epoch lines, the final line): scaling the target by 1000 trains the
# same network (targets are standardised) and must scale every MAE by 1000
# and every MSE by 10^6. The progress bar shows the step, the rate and the
# time left. A run that ends worse than guessing says so. What a run records
# of its command is complete (global options included) for train, resume
# and sweep, and a run resumes from any directory.
# usage: e2e_logs.sh PATH/TO/nncl SOURCE_DIR
set -u
nncl=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")   # absolute: the test changes directory
src=$2
. "$(dirname "$0")/e2e_lib.sh"

# ---- regression units: y and 1000 y
/usr/bin/env python3 - "$tmp" <<'PY'
import random, sys
random.seed(5)
rows = [(random.random(), random.random()) for _ in range(300)]
for name, k in (("y1", 1.0), ("y1000", 1000.0)):
    with open(f"{sys.argv[1]}/{name}.csv", "w") as f:
        f.write("a,b,y\n")
        for a, b in rows:
            f.write(f"{a!r},{b!r},{k * (2 * a - b + 0.5)!r}\n")
PY
for n in y1 y1000; do
    "$nncl" train --device host --data "$tmp/$n.csv" --epochs 6 --layers 8 --seed 3 --out "$tmp/$n" >"$tmp/$n.log" 2>&1
    expect "regression $n trains (exit $?)" test -s "$tmp/$n/metrics.csv"
done
expect "metrics.csv has a regression's columns" \
    test "$(head -1 "$tmp/y1/metrics.csv")" = "epoch,step,train_loss,train_mae,val_loss,val_mae,lr,seconds"
expect "every MAE scales with the target (x1000) and every MSE with its square (x10^6)" python3 -c "
import csv
a = list(csv.DictReader(open('$tmp/y1/metrics.csv'))); b = list(csv.DictReader(open('$tmp/y1000/metrics.csv')))
assert len(a) == len(b) == 6
for x, y in zip(a, b):
    for k, f in (('train_mae', 1e3), ('val_mae', 1e3), ('train_loss', 1e6), ('val_loss', 1e6)):
        if x[k] == '': continue
        r = float(y[k]) / (float(x[k]) * f)
        assert abs(r - 1) < 1e-3, (k, x[k], y[k], r)"
expect "the epoch lines say mse and mae in the target's units" python3 -c "
import re
l1 = [l for l in open('$tmp/y1.log') if l.startswith('epoch')]; l2 = [l for l in open('$tmp/y1000.log') if l.startswith('epoch')]
m1 = float(re.search(r'train mse \S+ mae (\S+)', l1[-1]).group(1)); m2 = float(re.search(r'train mse \S+ mae (\S+)', l2[-1]).group(1))
assert abs(m2 / (1000 * m1) - 1) < 2e-3, (m1, m2)"
expect "summary.json's test MAE is the final line's" python3 -c "
import json, re
d = json.load(open('$tmp/y1000/summary.json')); m = float(re.search(r'MAE (\S+),', open('$tmp/y1000.log').read()).group(1))
assert abs(d['test_mae'] / m - 1) < 1e-4, (d['test_mae'], m)"

# ---- the progress bar (on a terminal: script gives the run one)
if command -v script >/dev/null 2>&1; then
    script -qc "'$nncl' train --device host --limit 6000 --epochs 1 --layers 32 --batch 16 --out '$tmp/bar'" /dev/null \
        | tr '\r' '\n' >"$tmp/bar.log" 2>&1
    expect "the progress bar shows step/total, samples/s and the ETA" \
        grep -q -E "epoch 1/1 \[[=> ]+\] [0-9]+/338  [0-9,]+ samples/s  ETA [0-9]+:[0-9][0-9]  loss" "$tmp/bar.log"
fi

# ---- worse than guessing: the learning rate climbs to 1000 (warm-up) and
# the network ends predicting one class, without the loss exploding
"$nncl" train --device host --limit 2000 --layers 64 --epochs 4 --opt sgd --lr 1000 --warmup 100 \
    --schedule constant --quiet --out "$tmp/guess" >/dev/null 2>"$tmp/guess.err"
expect "a run worse than guessing ends with a warning saying so" \
    grep -q "warning: the training loss ended at .*, more than twice what guessing scores (2.303, ln of the number of classes)" "$tmp/guess.err"
"$nncl" train --device host --limit 2000 --layers 64 --epochs 2 --quiet --out "$tmp/fine" >/dev/null 2>"$tmp/fine.err"
expect "...and a run that learned gives none" sh -c "! grep -q 'what guessing scores' '$tmp/fine.err'"

# ---- complete records; resuming from elsewhere
mkdir -p "$tmp/proj/data" "$tmp/elsewhere"
cp "$tmp/y1.csv" "$tmp/proj/data/t.csv"
(cd "$tmp/proj" && NNCL_TEST_INT=step:20 "$nncl" --device host train --data data/t.csv --epochs 6 --batch 32 --quiet \
    --out runs/a >/dev/null 2>&1)
expect "a run stopped at step 20 (test set-up)" test "$(json "$tmp/proj/runs/a/summary.json" "d['status']")" = interrupted
(cd "$tmp/elsewhere" && "$nncl" --device host train --resume ../proj/runs/a --quiet >/dev/null 2>"$tmp/res.err")
expect "it resumes from another directory (the data found relative to the run)" \
    test "$(json "$tmp/proj/runs/a/summary.json" "d['status']")" = ok
expect "...config.json keeps the data's name as given" test "$(json "$tmp/proj/runs/a/config.json" "d['data']['name']")" = data/t.csv
expect "...the recorded commands keep the global --device host" python3 -c "
import json; c = json.load(open('$tmp/proj/runs/a/config.json'))
assert c['command'][:3] == ['--device', 'host', 'train'], c['command']
r = c['resumed'][-1]['command']; assert r[:3] == ['--device', 'host', 'train'] and '--resume' in r, r"
"$nncl" --device host sweep --lr 0.01,0.02 --data "$tmp/y1.csv" --epochs 1 --layers 4 --quiet --out "$tmp/sw" >/dev/null 2>&1
expect "a sweep's record keeps the global --device host" python3 -c "
import json; c = json.load(open('$tmp/sw/sweep.json'))['command']; assert c[:3] == ['--device', 'host', 'sweep'], c"
# ---- a bad --out is said before the data loads: the data here is a FIFO
# nobody writes, so loading it first would wait for ever
mkfifo "$tmp/never.csv"
mkdir -p "$tmp/taken" && touch "$tmp/taken/x"
timeout 20 "$nncl" train --device host --data "$tmp/never.csv" --out "$tmp/taken" >/dev/null 2>"$tmp/taken.err"
rc=$?
expect "--out onto a folder in use exits 2 before loading the data (got $rc)" test $rc -eq 2
expect "...saying so" grep -q -- "--out $tmp/taken: already exists and is not an empty directory" "$tmp/taken.err"
finish
