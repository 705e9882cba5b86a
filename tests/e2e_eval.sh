#!/bin/sh
# End to end: `nncl eval` and `nncl predict` as a user relies on them.
# Tiny runs on a generated CSV (2 epochs, host; one on the first OpenCL
# device when there is one), then: eval works from any directory (the data
# found relative to the run directory, at its absolute path, or as given),
# a changed byte of the data is refused naming the file and both hashes
# (--force: a warning), the recorded command keeps the global options,
# precision/recall/F1 per class equal hand-computed values for a known
# confusion matrix, predict --proba's probabilities sum to 1 and agree with
# predict, an --out (predict, report, compare --html) that would replace
# the data, the model or a run's or sweep's own files is refused leaving
# them as they were, a run without a test set says so, and non-finite weights, a NaN
# activation_param and a header whose layers need more than the file holds
# are refused.
# usage: e2e_eval.sh PATH/TO/nncl SOURCE_DIR
set -u
nncl=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=$2
. "$(dirname "$0")/e2e_lib.sh"

quick="--epochs 2 --layers 8 --seed 3 --quiet --snapshots 0 --no-report"
proj="$tmp/proj"
mkdir -p "$proj/data" "$tmp/elsewhere"

# Three classes along feature a (red near 0, green near 1, blue near 2),
# and noise in b; classes are numbered by name: blue 0, green 1, red 2.
python3 - "$proj/data" <<'PY'
import random, sys
d = sys.argv[1]
random.seed(1)
def rows(n):
    out = []
    for _ in range(n):
        c = random.choice(['red', 'green', 'blue'])
        k = {'red': 0, 'green': 1, 'blue': 2}[c]
        out.append('%.3f,%.3f,%s' % (k + random.gauss(0, 0.3), random.gauss(0, 1), c))
    return out
open(d + '/t.csv', 'w').write('a,b,label\n' + '\n'.join(rows(150)) + '\n')
open(d + '/test.csv', 'w').write('a,b,label\n' + '\n'.join(rows(30)) + '\n')
open(d + '/tiny.csv', 'w').write('a,b,label\n' + '\n'.join(rows(6)) + '\n')
open(d + '/reg.csv', 'w').write('x,y\n' + ''.join('%d,%.2f\n' % (i, 0.5 * i) for i in range(40)))
PY

# ---- training records where its data is, and the whole command --------------------
(cd "$proj" && "$nncl" --device host train --data data/t.csv $quick --out runs/a) >"$tmp/a.log" 2>&1
expect "train with a global --device host exits 0" test $? -eq 0
(cd "$proj" && "$nncl" --device host train --data data/t.csv $quick) >"$tmp/default.log" 2>&1
expect "train into the default runs/<name> exits 0" test $? -eq 0
default_run=$(ls -d "$proj"/runs/*-t-8 2>/dev/null | head -n 1)
(cd "$proj" && "$nncl" train --device host --data data/t.csv --test data/test.csv $quick --out runs/t) \
    >"$tmp/t.log" 2>&1
expect "train with --test FILE exits 0" test $? -eq 0
expect "config.json's command keeps the global options: --device host train ..." python3 -c "
import json; c = json.load(open('$proj/runs/a/config.json'))['command']
assert c[:5] == ['--device', 'host', 'train', '--data', 'data/t.csv'], c
assert c[-2:] == ['--out', 'runs/a'], c"
expect "...and a command without globals starts with train, as before" python3 -c "
import json; c = json.load(open('$proj/runs/t/config.json'))['command']
assert c[:3] == ['train', '--device', 'host'], c"
expect "config.json records the data's path as given, absolute and relative to the run directory" python3 -c "
import hashlib, json, os
c = json.load(open('$proj/runs/a/config.json')); p = c['data_paths']
assert p['data'] == {'given': 'data/t.csv', 'absolute': os.path.realpath('$proj/data/t.csv'),
                     'from_run': '../../data/t.csv'}, p
sha = hashlib.sha256(open('$proj/data/t.csv', 'rb').read()).hexdigest()
assert p['files'] == [{'path': 'data/t.csv', 'sha256': sha}] and c['data']['sha256'] == sha, p
assert p['test'] is None, p
# data.files stays as given (what train --resume rebuilds and compares)
assert c['data']['files'] == ['data/t.csv'], c['data']"
expect "...for the default run directory too ($default_run)" python3 -c "
import json; p = json.load(open('$default_run/config.json'))['data_paths']
assert p['data']['from_run'] == '../../data/t.csv', p"
expect "...and the --test file, with its own SHA-256" python3 -c "
import hashlib, json
t = json.load(open('$proj/runs/t/config.json'))['data_paths']['test']
assert t['given'] == 'data/test.csv' and t['from_run'] == '../../data/test.csv', t
assert t['sha256'] == hashlib.sha256(open('$proj/data/test.csv', 'rb').read()).hexdigest(), t"

# ---- eval from any directory --------------------------------------------------------
acc() { sed -n 's/^loss [0-9.]*  accuracy \([0-9.]*\)%.*/\1/p' "$1"; }
same_acc() {  # same_acc EVAL_LOG RUN: eval's accuracy is the run's summary's
    python3 -c "
import json, sys; d = json.load(open('$2/summary.json'))
sys.exit(not abs(float('$(acc "$1")' or 'nan') / 100 - d['test_accuracy']) < 0.00006)"
}
for run in a t; do
    (cd / && "$nncl" eval "$proj/runs/$run" --device host) >"$tmp/eval-$run.log" 2>"$tmp/eval-$run.err"
    expect "eval runs/$run from / exits 0" test $? -eq 0
    expect "...scores the run's own test set: accuracy $(acc "$tmp/eval-$run.log")% as in summary.json" \
        same_acc "$tmp/eval-$run.log" "$proj/runs/$run"
    expect "...and says nothing on stderr (found at the first place tried)" test ! -s "$tmp/eval-$run.err"
done
(cd "$tmp/elsewhere" && "$nncl" eval ../proj/runs/a --device host) >"$tmp/rel.log" 2>&1
expect "eval of a relative run path from another directory exits 0" test $? -eq 0
# A copy of the run elsewhere: found at the absolute path, and said so.
cp -r "$proj/runs/a" "$tmp/elsewhere/a"
(cd / && "$nncl" eval "$tmp/elsewhere/a" --device host) >"$tmp/copy.log" 2>"$tmp/copy.err"
expect "eval of a copied run exits 0" test $? -eq 0
expect "...says it used the absolute path recorded" grep -q "note: data/t.csv: using $proj/data/t.csv (the absolute path recorded)" "$tmp/copy.err"
# The whole project moved: found relative to the run directory.
mv "$proj" "$tmp/moved"
(cd / && "$nncl" eval "$tmp/moved/runs/a" --device host) >"$tmp/moved.log" 2>"$tmp/moved.err"
expect "eval after moving the project (data and runs) exits 0, silently" \
    sh -c "test $? -eq 0 && test ! -s '$tmp/moved.err'"
expect "...with the run's accuracy" same_acc "$tmp/moved.log" "$tmp/moved/runs/a"
(cd "$tmp/moved" && "$nncl" eval "$tmp/elsewhere/a" --device host) >"$tmp/given.log" 2>"$tmp/given.err"
expect "found as given to train, from the current directory, when nothing else is there" \
    sh -c "test $? -eq 0 && grep -q 'using data/t.csv (as given to train, from the current directory)' '$tmp/given.err'"
(cd / && "$nncl" eval "$tmp/elsewhere/a" --device host) >/dev/null 2>"$tmp/lost.err"
expect "data found nowhere: exit 2 (got $?)" test $? -eq 2
expect "...naming every place tried and --data" grep -q "data/t.csv: the run's data is not where it was: tried .*$proj/data/t.csv (the absolute path recorded).*--data FILE" "$tmp/lost.err"
# A run recorded before data_paths: found as given, as before.
cp -r "$tmp/moved/runs/a" "$tmp/old"
python3 -c "
import json; p = '$tmp/old/config.json'; c = json.load(open(p)); del c['data_paths']; json.dump(c, open(p, 'w'))"
(cd "$tmp/moved" && "$nncl" eval "$tmp/old" --device host) >"$tmp/old.log" 2>&1
expect "a run dir without data_paths still evaluates from where it trained" same_acc "$tmp/old.log" "$tmp/old"

# ---- changed data is refused ----------------------------------------------------------
proj="$tmp/moved"
cp "$proj/data/t.csv" "$tmp/t.csv.orig"
had=$(python3 -c "import hashlib; print(hashlib.sha256(open('$proj/data/t.csv','rb').read()).hexdigest())")
python3 -c "
p = '$proj/data/t.csv'; b = bytearray(open(p, 'rb').read())
i = b.index(b'.', 20) + 1; b[i] = ord('0') + (b[i] - ord('0') + 1) % 10; open(p, 'wb').write(b)"
now=$(python3 -c "import hashlib; print(hashlib.sha256(open('$proj/data/t.csv','rb').read()).hexdigest())")
(cd / && "$nncl" eval "$proj/runs/a" --device host) >/dev/null 2>"$tmp/changed.err"
expect "one changed byte: eval exits 2 (got $?)" test $? -eq 2
expect "...naming the file and both hashes" grep -q "data/t.csv changed since the run: config.json records SHA-256 $had, it now hashes to $now.*--force" "$tmp/changed.err"
(cd / && "$nncl" eval "$proj/runs/a" --device host --force) >"$tmp/force.log" 2>"$tmp/force.err"
expect "--force evaluates anyway (exit $?)" sh -c "test $? -eq 0 && grep -q '^loss' '$tmp/force.log'"
expect "...with a warning" grep -q "warning: .*data/t.csv changed since the run.*evaluating anyway (--force)" "$tmp/force.err"
cp "$tmp/t.csv.orig" "$proj/data/t.csv"
echo "a,b,label" >"$proj/data/test.csv.new" && tail -n +3 "$proj/data/test.csv" >>"$proj/data/test.csv.new"
mv "$proj/data/test.csv.new" "$proj/data/test.csv"
(cd / && "$nncl" eval "$proj/runs/t" --device host) >/dev/null 2>"$tmp/tchanged.err"
expect "a changed --test file is refused too (exit $?), naming it" \
    sh -c "test $? -eq 2 && grep -q 'data/test.csv changed since the run' '$tmp/tchanged.err'"

# ---- precision, recall and F1 against a known confusion matrix ------------------------
# A model made by hand: h0 = relu(a), h1 = relu(-a); logits blue = h1 - 0.5,
# green = 0, red = h0 - 0.5. So a = -1 is predicted blue, 0 green, 1 red.
(cd "$proj" && "$nncl" train --device host --data data/t.csv --epochs 1 --layers 2 --quiet --snapshots 0 \
    --no-report --out runs/small) >/dev/null 2>&1
python3 - "$proj/runs/small/model.safetensors" "$tmp/hand.safetensors" "$tmp/inf.safetensors" <<'PY'
import json, struct, sys
b = bytearray(open(sys.argv[1], 'rb').read())
n = struct.unpack('<Q', b[:8])[0]
h = json.loads(b[8:8 + n])
def put(name, values, out):
    lo, hi = h[name]['data_offsets']
    assert hi - lo == 4 * len(values), name
    out[8 + n + lo:8 + n + hi] = struct.pack('<%df' % len(values), *values)
put('input.shift', [0, 0], b)
put('input.scale', [1, 1], b)
put('layers.0.weight', [1, 0, -1, 0], b)        # [out][in]
put('layers.0.bias', [0, 0], b)
put('layers.1.weight', [0, 1, 0, 0, 1, 0], b)   # blue <- h1, red <- h0
put('layers.1.bias', [-0.5, 0, -0.5], b)
open(sys.argv[2], 'wb').write(b)
put('layers.1.weight', [0, 1, 0, float('inf'), 1, 0], b)
open(sys.argv[3], 'wb').write(b)
PY
# Rows (true class: predicted): blue: 3 blue, 1 green; green: 1 blue,
# 2 green, 1 red; red: 2 green, 2 red. The confusion matrix (rows true,
# columns predicted; blue, green, red):
#     3 1 0
#     1 2 1
#     0 2 2
# precision = diagonal / column sum: 3/4 = 0.7500, 2/5 = 0.4000, 2/3 = 0.6667
# recall = diagonal / row sum:       3/4 = 0.7500, 2/4 = 0.5000, 2/4 = 0.5000
# F1 = 2PR/(P+R): 0.7500, 0.8*0.5/0.9 = 0.4444, (4/3*1/2)/(7/6) = 4/7 = 0.5714
# macro: P (0.75+0.4+0.6667)/3 = 0.6056, R 1.75/3 = 0.5833,
#        F1 (0.75+0.4444+0.5714)/3 = 0.5886; accuracy 7/12 = 58.33%.
{
    echo "a,b,label"
    for r in -1,blue -1,blue -1,blue 0,blue -1,green 0,green 0,green 1,green 0,red 0,red 1,red 1,red; do
        echo "${r%,*},0,${r#*,}"
    done
} >"$tmp/known.csv"
"$nncl" eval "$tmp/hand.safetensors" --device host --data "$tmp/known.csv" >"$tmp/known.log" 2>&1
expect "eval of the hand-made model exits 0" test $? -eq 0
expect "...accuracy 58.33% (7 of 12)" grep -q "accuracy 58.33%" "$tmp/known.log"
expect "...precision, recall and F1 per class and their macro averages as computed by hand" python3 -c "
rows = [l.split() for l in open('$tmp/known.log')]
want = [['0', '0.7500', '0.7500', '0.7500', '4', 'blue'],
        ['1', '0.4000', '0.5000', '0.4444', '4', 'green'],
        ['2', '0.6667', '0.5000', '0.5714', '4', 'red'],
        ['macro', 'avg', '0.6056', '0.5833', '0.5886', '12', '(mean', 'over', '3', 'classes)']]
for w in want:
    assert w in rows, (w, open('$tmp/known.log').read())
assert ['per', 'class', 'precision', 'recall', 'F1', 'n', 'name'] in rows"
expect "...and the confusion matrix" grep -q "^  1 *1 *2 *1$" "$tmp/known.log"
"$nncl" --json eval "$tmp/hand.safetensors" --device host --data "$tmp/known.csv" >"$tmp/known.json" 2>"$tmp/known.json.err"
expect "eval --json has the same numbers, unrounded" python3 -c "
import json; d = json.load(open('$tmp/known.json'))
close = lambda a, b: abs(a - b) < 1e-9
assert close(d['accuracy'], 7 / 12) and d['rows'] == 12, d
p = [(c['precision'], c['recall'], c['f1'], c['support'], c['name']) for c in d['per_class']]
want = [(3/4, 3/4, 3/4, 4, 'blue'), (2/5, 2/4, 4/9, 4, 'green'), (2/3, 2/4, 4/7, 4, 'red')]
assert all(all(close(a, b) for a, b in zip(x[:3], y[:3])) and x[3:] == y[3:] for x, y in zip(p, want)), p
m = d['macro']
assert close(m['precision'], (3/4 + 2/5 + 2/3) / 3) and close(m['recall'], 1.75 / 3), m
assert close(m['f1'], (3/4 + 4/9 + 4/7) / 3) and m['classes'] == 3, m
assert d['confusion'] == [[3, 1, 0], [1, 2, 1], [0, 2, 2]], d['confusion']"
# Undefined values: nothing is predicted red, and no row is green:
# blue P = R = F1 = 1; green P = 0/2 = 0, R undefined; red P undefined,
# R = 0/2 = 0; macro (undefined as 0, as scikit-learn): 1/3 each.
printf 'a,b,label\n-1,0,blue\n-1,0,blue\n0,0,red\n0,0,red\n' >"$tmp/undef.csv"
"$nncl" eval "$tmp/hand.safetensors" --device host --data "$tmp/undef.csv" >"$tmp/undef.log" 2>&1
expect "undefined precision and recall show as -, count as 0 in the macro average" python3 -c "
rows = [l.split() for l in open('$tmp/undef.log')]
for w in (['0', '1.0000', '1.0000', '1.0000', '2', 'blue'], ['1', '0.0000', '-', '0.0000', '0', 'green'],
          ['2', '-', '0.0000', '0.0000', '2', 'red'], ['macro', 'avg', '0.3333', '0.3333', '0.3333', '4']):
    assert any(r[:len(w)] == w for r in rows), (w, open('$tmp/undef.log').read())"

# ---- predict --proba -----------------------------------------------------------------
check_proba() {  # check_proba PROBA_CSV PLAIN_CSV: columns, sums, argmax = predict's class
    python3 - "$1" "$2" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
plain = [r[0] for r in csv.reader(open(sys.argv[2]))]
assert rows[0] == ['prediction', 'blue', 'green', 'red'], rows[0]
assert plain[0] == 'prediction' and len(plain) == len(rows), (len(plain), len(rows))
for r, p in zip(rows[1:], plain[1:]):
    pr = [float(x) for x in r[1:]]
    assert abs(sum(pr) - 1) < 1e-4 and min(pr) >= 0, r
    assert rows[0][1 + pr.index(max(pr))] == r[0] == p, (r, p)
PY
}
"$nncl" predict "$tmp/hand.safetensors" --device host --data "$tmp/known.csv" >"$tmp/hand-plain.csv" 2>&1
expect "predict without --proba: the header 'prediction', then one class name a line, as before" python3 -c "
assert open('$tmp/hand-plain.csv').read().split() == ['prediction'] + 'blue blue blue green blue green green red green green red red'.split()"
"$nncl" predict "$tmp/hand.safetensors" --device host --data "$tmp/known.csv" --proba >"$tmp/hand-proba.csv" 2>&1
expect "predict --proba: columns named by class, rows summing to 1, argmax = predict's class" \
    check_proba "$tmp/hand-proba.csv" "$tmp/hand-plain.csv"
expect "...with the softmax of the hand-made logits (a = -1: e^0.5 / (e^0.5 + 1 + e^-0.5))" python3 -c "
import csv, math
r = list(csv.reader(open('$tmp/hand-proba.csv')))[1]
z = math.exp(0.5) + 1 + math.exp(-0.5)
assert r[0] == 'blue' and all(abs(float(x) - y) < 1e-5 for x, y in zip(r[1:], [math.exp(0.5) / z, 1 / z, math.exp(-0.5) / z])), r"
"$nncl" predict "$proj/runs/a" --device host --data "$proj/data/t.csv" --out "$tmp/a-plain.csv" 2>/dev/null &&
    "$nncl" predict "$proj/runs/a" --device host --data "$proj/data/t.csv" --proba --out "$tmp/a-proba.csv" 2>/dev/null
expect "predict --proba --out on a trained run agrees with predict" check_proba "$tmp/a-proba.csv" "$tmp/a-plain.csv"
(cd "$proj" && "$nncl" train --device host --data data/reg.csv --task regress $quick --out runs/reg) >/dev/null 2>&1
"$nncl" predict "$proj/runs/reg" --device host --data "$proj/data/reg.csv" --proba >/dev/null 2>"$tmp/reg.err"
expect "predict --proba on a regression model exits 2 (got $?)" test $? -eq 2
expect "...saying why" grep -q "error: --proba is for classifiers; .* does regression" "$tmp/reg.err"
"$nncl" predict "$proj/runs/a" --device host --data "$proj/data/t.csv" --proba --format kaggle >/dev/null 2>&1
expect "--proba with --format kaggle exits 2" test $? -eq 2

# An --out that would replace what the user has is refused, and nothing changes:
# the data itself (also through a link), the model, a run's metrics.csv;
# report --out onto a run's summary.json; compare --html onto a sweep.json.
cp "$proj/data/t.csv" "$tmp/victim.csv"
ln -sf "$tmp/victim.csv" "$tmp/alias.csv"
mkdir -p "$tmp/sweepdir"
echo '{"plan": {}, "trials": []}' >"$tmp/sweepdir/sweep.json"
md5sum "$tmp/victim.csv" "$proj/runs/a/"* "$tmp/sweepdir/sweep.json" >"$tmp/before.md5"
guarded() { # guarded WORD CMD...: exits 2 saying WORD
    word=$1; shift
    "$@" >/dev/null 2>"$tmp/guard.err"
    rc=$?
    expect "$* exits 2 (got $rc)" test $rc -eq 2
    expect "...saying '$word'" grep -q -- "$word" "$tmp/guard.err"
}
guarded "is .*victim.csv, which this command reads" \
    "$nncl" predict "$proj/runs/a" --device host --data "$tmp/victim.csv" --out "$tmp/victim.csv"
guarded "is .*alias.csv, which this command reads" \
    "$nncl" predict "$proj/runs/a" --device host --data "$tmp/alias.csv" --out "$tmp/./victim.csv"
guarded "model.safetensors, which this command reads" \
    "$nncl" predict "$proj/runs/a" --device host --data "$tmp/victim.csv" --out "$proj/runs/a/model.safetensors"
guarded "is the metrics.csv of the run in" \
    "$nncl" predict "$proj/runs/a" --device host --data "$tmp/victim.csv" --out "$proj/runs/a/metrics.csv"
guarded "is the summary.json of the run in" "$nncl" report "$proj/runs/a" --out "$proj/runs/a/summary.json"
guarded "is the sweep.json of the sweep in" "$nncl" compare "$proj/runs/a" --html "$tmp/sweepdir/sweep.json"
expect "...and every file is as it was" md5sum -c --quiet "$tmp/before.md5"
"$nncl" predict "$proj/runs/a" --device host --data "$tmp/victim.csv" --out "$proj/runs/a/predictions.csv" \
    >/dev/null 2>&1
expect "a new file in the run directory is fine" test -s "$proj/runs/a/predictions.csv"
rm -f "$proj/runs/a/predictions.csv"

# ---- a run without a test set --------------------------------------------------------
(cd "$proj" && "$nncl" train --device host --data data/tiny.csv --test-split 0.05 --val 0 $quick --out runs/notest) \
    >/dev/null 2>&1
expect "a 6-row run keeps no test rows" python3 -c "
import json; assert json.load(open('$proj/runs/notest/config.json'))['data']['test_rows'] == 0"
"$nncl" eval "$proj/runs/notest" --device host >/dev/null 2>"$tmp/notest.err"
expect "eval of a run without a test set exits 2 (got $?)" test $? -eq 2
expect "...saying so, and how to evaluate other data" grep -q "runs/notest: the run has no test set (--test-split 0.05 held out none of its 6 rows).*nncl eval .*runs/notest --data FILE" "$tmp/notest.err"
expect "...not 'the batch size must be at least 1'" sh -c "! grep -q 'batch size' '$tmp/notest.err'"
"$nncl" eval "$proj/runs/notest" --device host --data "$proj/data/t.csv" >/dev/null 2>&1
expect "...and eval of it with --data FILE works" test $? -eq 0

# ---- non-finite weights --------------------------------------------------------------
"$nncl" eval "$tmp/inf.safetensors" --device host --data "$tmp/known.csv" >/dev/null 2>"$tmp/inf.err"
expect "a model with an infinite weight is refused by eval (exit $?)" test $? -eq 2
expect "...naming the tensor and the element" grep -q "inf.safetensors.*layers.1.weight.*element 3" "$tmp/inf.err"
"$nncl" predict "$tmp/inf.safetensors" --device host --data "$tmp/known.csv" --proba >/dev/null 2>&1
expect "...and by predict --proba (exit $?)" test $? -eq 2

# ---- layers larger than the file, a NaN slope ----------------------------------------
# The hand-made model's header claiming 2^48 parameters: refused from the
# file's size, before anything that size is allocated (it asked for 1 PB).
python3 - "$tmp/hand.safetensors" "$tmp/huge.safetensors" "$tmp/slope.safetensors" <<'PY'
import json, struct, sys
b = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', b[:8])[0]
def save(name, meta):
    h2 = json.loads(b[8:8 + n])
    h2['__metadata__'].update(meta)
    s = json.dumps(h2).encode()
    s += b' ' * (-len(s) % 8)
    open(name, 'wb').write(struct.pack('<Q', len(s)) + s + b[8 + n:])
save(sys.argv[2], {'layers': '2,16777216,16777216,3'})
save(sys.argv[3], {'activation': 'leaky_relu', 'activation_param': 'nan'})
PY
"$nncl" eval "$tmp/huge.safetensors" --device host --data "$tmp/known.csv" >/dev/null 2>"$tmp/huge.err"
expect "a model whose layers need more than its file holds is refused by eval (exit $?)" test $? -eq 2
expect "...saying what they need and what the file holds" \
    grep -q "huge.safetensors: not a valid nncl safetensors model: its [0-9]* parameters.*need [0-9]* bytes, the file holds 76 after the header" "$tmp/huge.err"
# and a leaky_relu slope of NaN, which failed later in a kernel's check
"$nncl" eval "$tmp/slope.safetensors" --device host --data "$tmp/known.csv" >/dev/null 2>"$tmp/slope.err"
expect "a model whose activation_param is NaN is refused by eval (exit $?), naming the file" \
    sh -c "test $? -eq 2 && grep -q 'slope.safetensors: .*activation_param' '$tmp/slope.err'"

# ---- on an OpenCL device -------------------------------------------------------------
pick_devices
if [ "$devices" != host ]; then
    (cd "$proj" && "$nncl" --device 0 train --data data/t.csv $quick --out runs/ocl) >"$tmp/ocl.log" 2>&1
    expect "train on OpenCL device 0 exits 0" test $? -eq 0
    expect "...recording --device 0 in its command" python3 -c "
import json; assert json.load(open('$proj/runs/ocl/config.json'))['command'][:3] == ['--device', '0', 'train']"
    (cd / && "$nncl" --device 0 eval "$proj/runs/ocl") >"$tmp/ocl-eval.log" 2>&1
    expect "...eval from / on it exits 0 with the run's accuracy" same_acc "$tmp/ocl-eval.log" "$proj/runs/ocl"
    (cd / && "$nncl" predict "$proj/runs/ocl" --device 0 --data "$proj/data/test.csv" --proba \
        --out "$tmp/ocl-proba.csv") >/dev/null 2>&1 &&
        "$nncl" predict "$proj/runs/ocl" --device 0 --data "$proj/data/test.csv" --out "$tmp/ocl-plain.csv" 2>/dev/null
    expect "...predict --proba on it agrees with predict" check_proba "$tmp/ocl-proba.csv" "$tmp/ocl-plain.csv"
else
    echo "no OpenCL device: the OpenCL checks are skipped"
fi

finish
