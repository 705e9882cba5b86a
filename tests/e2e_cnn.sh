#!/bin/sh
# End to end: a convolutional network as a learner meets it. On 1,500 rows of
# the shipped MNIST, on host and the first OpenCL device: a small CNN
# (conv:4:5,maxpool:2,16) trains well above chance (>= 50% test accuracy
# against 10% for guessing) and the same on both devices (within a point),
# twice the same (bit for bit, but time), on host the same bits on one core
# as on two (a dense network too), its model file holds the filters
# as [4, 1, 5, 5] with the layer list in the metadata, eval scores it as the
# run did, a stopped run resumes to the same metrics as one that never
# stopped, --profile prints the step plan, and --preset cnn runs. Layer lists
# that do not fit are refused with exit 2, naming the layer and why.
# usage: e2e_cnn.sh PATH/TO/nncl SOURCE_DIR
set -u
nncl=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=$2
. "$(dirname "$0")/e2e_lib.sh"

mnist="$src/datasets/mnist"
cnn="--data $mnist --limit 1500 --layers conv:4:5,maxpool:2,16 --epochs 2 --batch 32 --seed 4 --quiet --no-report"
pick_devices

test_acc() { json "$1/summary.json" "d['test_accuracy']"; }
for dev in $devices; do
    "$nncl" train --device "$dev" $cnn --out "$tmp/cnn-$dev" >"$tmp/cnn-$dev.log" 2>&1
    expect "$dev: a small CNN trains (exit $?)" test -s "$tmp/cnn-$dev/model.safetensors"
    acc=$(test_acc "$tmp/cnn-$dev" 2>/dev/null || echo 0)
    expect "$dev: test accuracy $acc is at least 0.50 (chance: 0.10)" python3 -c "import sys; sys.exit(not $acc >= 0.50)"
    "$nncl" train --device "$dev" $cnn --out "$tmp/again-$dev" >/dev/null 2>&1
    expect "$dev: the same run twice gives the same metrics" same_metrics "$tmp/cnn-$dev" "$tmp/again-$dev"
    "$nncl" eval "$tmp/cnn-$dev" --device "$dev" --json >"$tmp/eval-$dev.json" 2>"$tmp/eval-$dev.err"
    rc=$?
    expect "$dev: eval exits 0 (got $rc: $(head -c 300 "$tmp/eval-$dev.err"))" test $rc -eq 0
    expect "$dev: eval scores the run's test accuracy" python3 -c "
import json; e = json.load(open('$tmp/eval-$dev.json')); s = json.load(open('$tmp/cnn-$dev/summary.json'))
assert abs(e['accuracy'] - s['test_accuracy']) < 1e-4, (e['accuracy'], s['test_accuracy'])"
done
# The host backend cuts its work in parts (convolution chunks, pooling, the
# GEMM's parts of C, the optimiser, the gather), run on two cores, on more
# workers or, with NNCL_HOST_THREADS=1, one after the other: the same bits
# every way.
# The CNN covers the convolutions and pooling; 784-256-10 at batch 128 the
# byte-input layer from the nonzero bytes (u8_sparse_host.c: unit blocks
# and pieces of rows taken by the workers), the GEMM halves of the second
# layer's products, the optimiser's (203,530 parameters).
NNCL_HOST_THREADS=1 "$nncl" train --device host $cnn --out "$tmp/one-core" >/dev/null 2>&1
expect "host: the CNN on one core, bit for bit the run on all cores" \
    cmp -s "$tmp/one-core/model.safetensors" "$tmp/cnn-host/model.safetensors"
NNCL_HOST_THREADS=5 "$nncl" train --device host $cnn --out "$tmp/five-workers" >/dev/null 2>&1
expect "host: the CNN on five workers, bit for bit the run on all cores" \
    cmp -s "$tmp/five-workers/model.safetensors" "$tmp/cnn-host/model.safetensors"
dense="--data $mnist --limit 2000 --layers 256 --epochs 1 --batch 128 --seed 4 --quiet --no-report --snapshots 0"
"$nncl" train --device host $dense --profile --out "$tmp/dense-all" >"$tmp/dense-all.out" 2>&1
NNCL_HOST_THREADS=1 "$nncl" train --device host $dense --out "$tmp/dense-one" >/dev/null 2>&1
expect "host: 784-256-10 reads the bytes (linear_u8_fwd and _wgrad, no gather of floats)" python3 -c "
t = open('$tmp/dense-all.out').read()
assert 'linear_u8_fwd' in t and 'linear_u8_wgrad' in t, t[-800:]"
expect "host: 784-256-10 on one core, bit for bit the run on all cores" \
    cmp -s "$tmp/dense-one/model.safetensors" "$tmp/dense-all/model.safetensors"
# and with five workers (more than this machine may have: nncl_host_for's
# pool of helpers takes the byte layers' items)
NNCL_HOST_THREADS=5 "$nncl" train --device host $dense --out "$tmp/dense-five" >/dev/null 2>&1
expect "host: 784-256-10 on five workers, bit for bit the run on all cores" \
    cmp -s "$tmp/dense-five/model.safetensors" "$tmp/dense-all/model.safetensors"
# 784-512-256-10 at batch 256: the second layer's three products (256 x
# 256 x 512 and its transposes, 33.5M multiply-adds each) in two halves of
# C on two workers, in five parts on five (src/ops/gemm.c), one after the
# other on one core: the same bits every way.
wide="--data $mnist --limit 1500 --layers 512,256 --epochs 1 --batch 256 --seed 4 --quiet --no-report --snapshots 0"
"$nncl" train --device host $wide --out "$tmp/wide-all" >/dev/null 2>&1
NNCL_HOST_THREADS=1 "$nncl" train --device host $wide --out "$tmp/wide-one" >/dev/null 2>&1
NNCL_HOST_THREADS=5 "$nncl" train --device host $wide --out "$tmp/wide-five" >/dev/null 2>&1
expect "host: 784-512-256-10 trains" test -s "$tmp/wide-all/model.safetensors"
expect "host: 784-512-256-10 on one core, bit for bit the run on all cores" \
    cmp -s "$tmp/wide-one/model.safetensors" "$tmp/wide-all/model.safetensors"
expect "host: 784-512-256-10 with its products in five parts, bit for bit the run on all cores" \
    cmp -s "$tmp/wide-five/model.safetensors" "$tmp/wide-all/model.safetensors"
# 784-10-10 on batches of 2,000 rows: the fused step (linear_u8_head) in 16
# chunks of 125 rows that the workers take as they become free, their sums
# added in chunk order; the evaluation's forward in blocks likewise.
small="--data $mnist --limit 3000 --layers 10 --epochs 2 --batch 2000 --seed 4 --quiet --no-report --snapshots 0"
"$nncl" train --device host $small --profile --out "$tmp/small-all" >"$tmp/small-all.out" 2>&1
NNCL_HOST_THREADS=1 "$nncl" train --device host $small --out "$tmp/small-one" >/dev/null 2>&1
expect "host: 784-10-10 trains through the fused step" grep -q "linear_u8_head" "$tmp/small-all.out"
expect "host: 784-10-10 in chunks on one core, bit for bit the run on all cores" \
    cmp -s "$tmp/small-one/model.safetensors" "$tmp/small-all/model.safetensors"
NNCL_HOST_THREADS=5 "$nncl" train --device host $small --out "$tmp/small-five" >/dev/null 2>&1
expect "host: 784-10-10 in chunks on five workers, bit for bit the run on all cores" \
    cmp -s "$tmp/small-five/model.safetensors" "$tmp/small-all/model.safetensors"

# predict on pictures the run never saw (a Kaggle-style file of 300 images):
# one digit a line, the same on every device
python3 "$src/tools/mnist_to_kaggle_csv.py" --mnist-dir "$mnist" --out-dir "$tmp/kaggle" --train-rows 10 \
    --test-rows 300 >/dev/null 2>&1
for dev in $devices; do
    "$nncl" predict "$tmp/cnn-$dev" --device "$dev" --data "$tmp/kaggle/test.csv" >"$tmp/pred-$dev.csv" 2>"$tmp/pred.err"
    rc=$?
    expect "$dev: predict on 300 new pictures exits 0 (got $rc: $(head -c 200 "$tmp/pred.err"))" test $rc -eq 0
    expect "$dev: ...a header and 300 digits" python3 -c "
rows = open('$tmp/pred-$dev.csv').read().split()
assert len(rows) == 301 and all(r in '0123456789' and len(r) == 1 for r in rows[1:]), rows[:3]"
done
if [ "$devices" = "0 host" ]; then
    expect "host and OpenCL predict the same digits for all but at most 3 of 300" python3 -c "
a = open('$tmp/pred-0.csv').read().split(); b = open('$tmp/pred-host.csv').read().split()
assert sum(x != y for x, y in zip(a, b)) <= 3"
    expect "host and OpenCL agree within a point" python3 -c "
import sys; sys.exit(not abs($(test_acc "$tmp/cnn-0") - $(test_acc "$tmp/cnn-host")) <= 0.01)"
fi

expect "the model file holds the filters as [4, 1, 5, 5], PyTorch's Conv2d layout, and the layer list" python3 -c "
import json, struct
f = open('$tmp/cnn-host/model.safetensors', 'rb'); n = struct.unpack('<Q', f.read(8))[0]; h = json.loads(f.read(n))
assert h['layers.0.weight']['shape'] == [4, 1, 5, 5], h['layers.0.weight']
assert h['layers.0.bias']['shape'] == [4]
assert h['layers.2.weight']['shape'] == [16, 4 * 14 * 14], h['layers.2.weight']
assert h['layers.3.weight']['shape'] == [10, 16]
m = h['__metadata__']; assert m['layers'] == 'conv:4:5,maxpool:2,16,10' and m['input_shape'] == '1,28,28', m"
expect "config.json records the layer list and the input shape" python3 -c "
import json; m = json.load(open('$tmp/cnn-host/config.json'))['model']
assert m['layer_specs'] == 'conv:4:5,maxpool:2,16' and m['input_shape'] == [1, 28, 28], m"

# ---- a stopped CNN run resumes as if it never stopped ---------------------------------
"$nncl" train --device host $cnn --out "$tmp/whole" >/dev/null 2>&1
# killed (SIGKILL, scripted) in its second epoch, after the first's checkpoint
NNCL_TEST_KILL=step:60 "$nncl" train --device host $cnn --out "$tmp/stopped" >/dev/null 2>&1
rc=$?
expect "a CNN run killed at step 60 (exit $rc, 137 expected)" test $rc -eq 137
"$nncl" train --resume "$tmp/stopped" --quiet >"$tmp/resume.log" 2>&1
rc=$?
expect "train --resume of a CNN run exits 0 (got $rc: $(head -c 300 "$tmp/resume.log"))" test $rc -eq 0
expect "...and ends with the metrics of the run that never stopped" same_metrics "$tmp/whole" "$tmp/stopped"

# ---- the step plan, the preset ----------------------------------------------------------
"$nncl" train --device host $cnn --epochs 1 --limit 300 --profile --out "$tmp/prof" >/dev/null 2>"$tmp/prof.err"
expect "--profile prints the step plan, a line per op call" \
    sh -c "grep -q 'step plan' '$tmp/prof.err' && grep -q 'forward .*layer 1 (conv:4:5)' '$tmp/prof.err' &&
           grep -q 'backward .*layer 2 (maxpool:2)' '$tmp/prof.err'"
expect "--profile says what writing the run took after the last step" \
    grep -q -E '^finish: [0-9.]+ s after the last step: the snapshots. file closed [0-9.]+ s, the test pass and its files [0-9.]+ s, the model [0-9.]+ s, summary.json [0-9.]+ s, report.html [0-9.]+ s$' "$tmp/prof.err"
expect "--profile says where the start-up went" \
    grep -q -E '^start-up \(host .*\): [0-9.]+ s before the first step; no listing \(the host chosen: OpenCL not asked\), opening this one [0-9.]+ s, its kernels [0-9.]+ s .*, the data [0-9.]+ s' "$tmp/prof.err"
"$nncl" train --device host --data "$mnist" --preset cnn --epochs 1 --limit 300 --quiet --no-report \
    --out "$tmp/preset" >"$tmp/preset.log" 2>&1
expect "--preset cnn trains ($(head -c 300 "$tmp/preset.log"))" test -s "$tmp/preset/model.safetensors"
expect "...with its layer list" python3 -c "
import json; m = json.load(open('$tmp/preset/config.json'))['model']
assert m['layer_specs'].startswith('conv:32:3,maxpool:2,conv:64:3'), m"

# ---- layer lists that do not fit ---------------------------------------------------------
printf 'a,b,c,label\n1,2,3,x\n2,3,4,y\n3,4,5,x\n4,5,6,y\n5,6,7,x\n6,7,8,y\n' >"$tmp/table.csv"
bad() {  # bad DESCRIPTION EXPECTED-TEXT ARGS...
    d=$1; want=$2; shift 2
    "$nncl" train --device host --quiet --no-report --out "$tmp/bad" "$@" >"$tmp/bad.log" 2>&1
    rc=$?
    expect "$d: exit 2 (got $rc)" test $rc -eq 2
    expect "$d: says '$want' ($(head -c 300 "$tmp/bad.log"))" grep -q -- "$want" "$tmp/bad.log"
    expect "$d: leaves no run directory" test ! -e "$tmp/bad"
}
bad "a pool larger than its input" "layer 3 (maxpool:8) on input \[8,7,7\]: a 8x8 window is larger than its 7x7 input" \
    --data "$mnist" --limit 100 --layers conv:8:3,maxpool:4,maxpool:8
bad "a misspelt layer" "layer 2 'conf:3'" --data "$mnist" --limit 100 --layers 16,conf:3
bad "a filter size that is not a number" "layer 1 'conv:4:x'" --data "$mnist" --limit 100 --layers conv:4:x
bad "a convolution on a table" "need pictures" --data "$tmp/table.csv" --layers conv:4:3
finish
