#!/bin/sh
# End to end, data beyond MNIST: the Kaggle "Digit Recognizer" round trip,
# a small tabular classification CSV with string labels and a small
# regression CSV, each trained on host and on the first OpenCL device; and
# every kind of bad input file, each of which must exit 2 with a message
# naming the file (and line or column), leaving no run that looks finished.
# usage: e2e_data.sh PATH/TO/nncl SOURCE_DIR
set -u
nncl=$1
src=$2
. "$(dirname "$0")/e2e_lib.sh"

pick_devices

# ---- Kaggle round trip -------------------------------------------------------
python3 "$src/tools/mnist_to_kaggle_csv.py" --mnist-dir "$src/datasets/mnist" --out-dir "$tmp/kaggle" \
    --train-rows 3000 --test-rows 500 --solution "$tmp/kaggle/solution.csv" >/dev/null 2>&1
expect "the Kaggle files were made" test -s "$tmp/kaggle/train.csv" -a -s "$tmp/kaggle/test.csv"
for dev in $devices; do
    run="$tmp/kaggle-run-$dev"
    "$nncl" train --device "$dev" --data "$tmp/kaggle/train.csv" --epochs 3 --layers 64 --out "$run" \
        >"$tmp/k.log" 2>&1
    expect "$dev: train on Kaggle train.csv exits 0" test $? -eq 0
    expect "$dev: it is read as 28x28 images" python3 -c "
import json; assert json.load(open('$run/config.json'))['data']['features']==784"
    acc=$(json "$run/summary.json" "d['test_accuracy']")
    expect "$dev: Kaggle test accuracy $acc > 0.8 (held-out 20%)" python3 -c "import sys; sys.exit(not $acc > 0.8)"
    "$nncl" predict "$run" --device "$dev" --data "$tmp/kaggle/test.csv" --format kaggle \
        --out "$tmp/submission-$dev.csv" >/dev/null 2>"$tmp/p.log"
    expect "$dev: predict --format kaggle exits 0" test $? -eq 0
    expect "$dev: the submission is Kaggle's format" python3 -c "
rows = open('$tmp/submission-$dev.csv').read().splitlines()
assert rows[0] == 'ImageId,Label', rows[0]
assert len(rows) == 501, len(rows)
for i, r in enumerate(rows[1:], 1):
    a, b = r.split(',')
    assert int(a) == i and b in '0123456789' and len(b) == 1, r
sol = dict(r.split(',') for r in open('$tmp/kaggle/solution.csv').read().splitlines()[1:])
sub = dict(r.split(',') for r in rows[1:])
right = sum(sol[k] == sub[k] for k in sub)
assert right / 500 > 0.8, right"
done

# ---- tabular classification with string labels, and regression ----------------
python3 - "$tmp" <<'PY'
import math, random, sys
d = sys.argv[1]
r = random.Random(5)
with open(f"{d}/iris_like.csv", "w", newline="") as f:
    f.write('"sepal length";sepal width;petal;species\r\n')     # ';' delimiter, quotes, CRLF
    for i in range(600):
        k = i % 3
        name = ["setosa", "versicolor", "virginica"][k]
        x = [r.gauss(k * 2.0, 0.4), r.gauss(-k, 0.4), r.gauss(k * 1.5 + 4, 0.4)]
        f.write(f"{x[0]:.4f};{x[1]:.4f};{x[2]:.4f};{name}\r\n")
with open(f"{d}/regress.csv", "w") as f:
    f.write("a,b,constant,y\n")
    for i in range(800):
        a, b = r.uniform(-2, 2), r.uniform(-2, 2)
        f.write(f"{a:.5f},{b:.5f},7,{3 * a - 2 * b + 0.5 * a * b + 10 + r.gauss(0, 0.05):.5f}\n")
PY
for dev in $devices; do
    run="$tmp/iris-$dev"
    "$nncl" train --device "$dev" --data "$tmp/iris_like.csv" --epochs 30 --layers 16 --batch 32 --out "$run" \
        >"$tmp/iris.log" 2>&1
    expect "$dev: tabular classification trains" test $? -eq 0
    acc=$(json "$run/summary.json" "d['test_accuracy']")
    expect "$dev: tabular accuracy $acc > 0.9" python3 -c "import sys; sys.exit(not $acc > 0.9)"
    expect "$dev: string class names kept in the model" python3 -c "
import json, struct
b = open('$run/model.safetensors', 'rb').read(); n = struct.unpack('<Q', b[:8])[0]
m = json.loads(b[8:8+n])['__metadata__']
assert json.loads(m['class_names']) == ['setosa', 'versicolor', 'virginica'], m['class_names']"
    "$nncl" eval "$run" --device "$dev" >"$tmp/iris-eval.log" 2>&1
    expect "$dev: eval of the CSV run rebuilds its test split" grep -q "$(python3 -c "import json; print('%.2f' % (100*json.load(open('$run/summary.json'))['test_accuracy']))")%" "$tmp/iris-eval.log"
    expect "$dev: eval names the classes" grep -q "versicolor" "$tmp/iris-eval.log"
    # One predictions file per device, removed first: a failed predict must
    # not pass on a file an earlier device left.
    rm -f "$tmp/iris-pred-$dev.csv"
    "$nncl" predict "$run" --device "$dev" --data "$tmp/iris_like.csv" --out "$tmp/iris-pred-$dev.csv" >/dev/null 2>&1
    expect "$dev: tabular predict exits 0" test $? -eq 0
    expect "$dev: predict writes class names" sh -c "sed -n 2p '$tmp/iris-pred-$dev.csv' | grep -q -E '^(setosa|versicolor|virginica)$'"
    "$nncl" predict "$run" --device "$dev" --data "$tmp/iris_like.csv" >"$tmp/iris-stdout-$dev.csv" 2>/dev/null
    expect "$dev: predict to standard output exits 0" test $? -eq 0
    expect "$dev: ...and prints what --out writes" cmp -s "$tmp/iris-stdout-$dev.csv" "$tmp/iris-pred-$dev.csv"

    run="$tmp/reg-$dev"
    "$nncl" train --device "$dev" --data "$tmp/regress.csv" --epochs 40 --layers 32 --batch 32 --out "$run" \
        >"$tmp/reg.log" 2>&1
    expect "$dev: regression trains (auto-detected)" test $? -eq 0
    expect "$dev: regression reports RMSE, MAE and R2" grep -q "RMSE.*MAE.*R2" "$tmp/reg.log"
    r2=$(json "$run/summary.json" "d['test_r2']")
    expect "$dev: regression R2 $r2 > 0.95" python3 -c "import sys; sys.exit(not $r2 > 0.95)"
    rm -f "$tmp/reg-pred-$dev.csv"
    "$nncl" predict "$run" --device "$dev" --data "$tmp/regress.csv" --out "$tmp/reg-pred-$dev.csv" >/dev/null 2>&1
    expect "$dev: regression predict exits 0" test $? -eq 0
    expect "$dev: regression predictions are numbers near the targets" python3 -c "
p = [float(x) for x in open('$tmp/reg-pred-$dev.csv').read().split()[1:]]
t = [float(l.split(',')[3]) for l in open('$tmp/regress.csv').read().split()[1:]]
assert len(p) == len(t) and sum(abs(a - b) for a, b in zip(p, t)) / len(t) < 1.0"
done

# ---- bad input: exit 2, the file (and line) named, no finished-looking run ---------
bad_train() { # bad_train DESCRIPTION PATTERN ARGS...
    d=$1; pat=$2; shift 2
    rm -rf "$tmp/badrun"
    "$nncl" train --device host --epochs 1 "$@" --out "$tmp/badrun" >"$tmp/bad.log" 2>&1
    rc=$?
    expect "$d: exits 2 (got $rc)" test $rc -eq 2
    expect "$d: message matches '$pat'" grep -q -E -- "$pat" "$tmp/bad.log"
    expect "$d: no finished run left" sh -c "! grep -q '\"ok\"' '$tmp/badrun/summary.json' 2>/dev/null"
}
b="$tmp/bad"
mkdir -p "$b"
: >"$b/empty.csv"
bad_train "empty CSV" "empty.csv.*empty" --data "$b/empty.csv"
printf 'a,b,label\n' >"$b/header.csv"
bad_train "header-only CSV" "header.csv.*(no data|header only)" --data "$b/header.csv"
printf 'a,b,label\n1,2,0\n3,4,1\n5,6\n' >"$b/ragged.csv"
bad_train "ragged row" "ragged.csv.*line 4.*2 fields.*3" --data "$b/ragged.csv"
printf 'a,b,label\n1,2,0\n3,x7,1\n' >"$b/text.csv"
bad_train "non-numeric cell" "text.csv.*line 3.*column 2" --data "$b/text.csv"
printf 'a,b,label\n1,2,0\n3,4,1\n' >"$b/ok.csv"
bad_train "missing label column" "ok.csv.*(species|label column)" --data "$b/ok.csv" --label species
bad_train "missing file" "nope.csv" --data "$b/nope.csv"
# A folder is read as an IDX folder (a CSV must be a file): one without the
# IDX files says which file it lacks.
bad_train "a folder with no IDX files" "/bad: no train-images-idx3-ubyte.*expected the IDX files" --data "$b"
# IDX files: wrong magic, truncated, disagreeing counts, corrupt gzip.
python3 - "$src/datasets/mnist" "$b" <<'PY'
import gzip, os, struct, sys
src, d = sys.argv[1], sys.argv[2]
imgs = gzip.open(f"{src}/train-images-idx3-ubyte.gz").read()[:16 + 784 * 300]
labs = gzip.open(f"{src}/train-labels-idx1-ubyte.gz").read()[:8 + 300]
imgs = imgs[:4] + struct.pack(">I", 300) + imgs[8:]
labs = labs[:4] + struct.pack(">I", 300) + labs[8:]
def folder(name, im, lb, gz=False):
    os.makedirs(f"{d}/{name}", exist_ok=True)
    for base, data in (("train-images-idx3-ubyte", im), ("train-labels-idx1-ubyte", lb)):
        if gz:
            open(f"{d}/{name}/{base}.gz", "wb").write(data)
        else:
            open(f"{d}/{name}/{base}", "wb").write(data)
folder("magic", struct.pack(">I", 0x801) + imgs[4:], labs)
folder("truncated", imgs[:-100], labs)
folder("counts", imgs, labs[:4] + struct.pack(">I", 299) + labs[8:-1])
folder("gz", gzip.compress(imgs)[:5000] + b"garbage" * 100, gzip.compress(labs), gz=True)
PY
bad_train "IDX wrong magic" "magic.*train-images.*magic" --data "$b/magic"
bad_train "IDX truncated" "train-images-idx3-ubyte: truncated: file is [0-9]+ bytes" --data "$b/truncated"
bad_train "IDX counts disagree" "counts.*(300|299)" --data "$b/counts"
bad_train "corrupt gz" "gz/train-images-idx3-ubyte\.gz: corrupt gzip" --data "$b/gz"

# predict-time checks against a model: unknown label, mismatched columns.
model="$tmp/iris-host"
printf '"sepal length";sepal width;petal;species\n1;2;3;setosa\n1;2;3;daisy\n' >"$b/unknown.csv"
"$nncl" predict "$model" --device host --data "$b/unknown.csv" >"$tmp/bad.log" 2>&1
expect "unknown label at predict exits 2" test $? -eq 2
expect "unknown label names file, line and label" grep -q -E "unknown.csv.*line 3.*daisy" "$tmp/bad.log"
printf 'sepal length;sepal width;species\n1;2;setosa\n' >"$b/columns.csv"
"$nncl" predict "$model" --device host --data "$b/columns.csv" >"$tmp/bad.log" 2>&1
expect "mismatched columns at predict exit 2" test $? -eq 2
expect "mismatched columns are named" grep -q -E "columns.csv" "$tmp/bad.log"
python3 - "$tmp/kaggle/test.csv" "$b/test783.csv" <<'PY'
import sys
rows = open(sys.argv[1]).read().splitlines()[:5]
open(sys.argv[2], "w").write("\n".join(",".join(r.split(",")[:-1]) for r in rows) + "\n")
PY
first=$(echo "$devices" | cut -d' ' -f1)
"$nncl" predict "$tmp/kaggle-run-$first" --device host --data "$b/test783.csv" --format kaggle >"$tmp/bad.log" 2>&1
expect "a test.csv with 783 pixels exits 2" test $? -eq 2
expect "...and says what the model expects" grep -q -E "test783.csv.*(784|783)" "$tmp/bad.log"

finish
