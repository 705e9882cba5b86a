#!/bin/sh
# End to end, `nncl sweep`: a 2x2 grid on host and on the first OpenCL
# device (trial directories, sweep.json), seeds, random search, --layers
# lists, two jobs at once, a diverging trial recorded while the sweep goes
# on, resuming after kill -9 and after Ctrl-C, and the refusals: a changed
# command on an existing sweep, a bad value in one trial, unknown flags.
# usage: e2e_sweep.sh PATH/TO/nncl SOURCE_DIR
set -u
nncl=$1
src=$2
. "$(dirname "$0")/e2e_lib.sh"

pick_devices
small="--limit 600 --epochs 2 --layers 16 --batch 50 --snapshots 0 --no-report"
# trials DIR: "status,status,..." from sweep.json
statuses() { json "$1/sweep.json" "','.join(t['status'] for t in d['trials'])"; }

# ---- a 2x2 grid on every device ------------------------------------------------------
for dev in $devices; do
    sw="$tmp/grid-$dev"
    "$nncl" sweep --device "$dev" --lr 0.002,0.02 --act relu,tanh $small --out "$sw" >"$tmp/sweep.log" 2>&1
    expect "$dev: the sweep exits 0" test $? -eq 0
    expect "$dev: four trials, all ok" test "$(statuses "$sw")" = "ok,ok,ok,ok"
    expect "$dev: one line per trial" test "$(grep -c '^trial [1-4]/4 ' "$tmp/sweep.log")" -eq 4
    expect "$dev: each trial is a run directory with the grid point's flags" python3 -c "
import json, os
d = json.load(open('$sw/sweep.json'))
want = [('0.002', 'relu'), ('0.002', 'tanh'), ('0.02', 'relu'), ('0.02', 'tanh')]
got = []
for t in d['trials']:
    c = json.load(open(os.path.join('$sw', t['dir'], 'config.json')))
    assert os.path.exists(os.path.join('$sw', t['dir'], 'model.safetensors'))
    got.append((t['values']['--lr'], t['values']['--act']))
    assert abs(c['optimiser']['lr'] - float(t['values']['--lr'])) < 1e-9 and c['model']['activation'] == t['values']['--act']
    assert c['epochs'] == 2 and c['model']['layers'] == [784, 16, 10] and c['data']['limit'] == 600
assert got == want, got"
    expect "$dev: each line's best val acc is the highest of any epoch in the trial's metrics.csv, with its epoch" python3 -c "
import csv, json, os, re
d = json.load(open('$sw/sweep.json'))
lines = [l for l in open('$tmp/sweep.log') if l.startswith('trial ')]
for t, l in zip(d['trials'], lines):
    rows = list(csv.DictReader(open(os.path.join('$sw', t['dir'], 'metrics.csv'))))
    b = max(rows, key=lambda r: float(r['val_accuracy']))
    want = 'best val acc %.2f%% (epoch %s)' % (100 * float(b['val_accuracy']), b['epoch'])
    assert want in l, (want, l)"
done
sw="$tmp/grid-host"

# The same command again: everything is kept, nothing reruns.
ls -l --time-style=+%s.%N "$sw"/*/ >"$tmp/before"
"$nncl" sweep --device host --lr 0.002,0.02 --act relu,tanh $small --out "$sw" >"$tmp/again.log" 2>&1
expect "rerunning a finished sweep exits 0" test $? -eq 0
ls -l --time-style=+%s.%N "$sw"/*/ >"$tmp/after"
expect "...and leaves every trial as it was" cmp -s "$tmp/before" "$tmp/after"
expect "...saying so" grep -q "4 finished before, kept" "$tmp/again.log"

# A changed command on the same directory is refused, naming what differs.
"$nncl" sweep --device host --lr 0.002,0.05 --act relu,tanh $small --out "$sw" >/dev/null 2>"$tmp/err"
expect "a changed command exits 2" test $? -eq 2
expect "...naming the sweep and the difference" sh -c "grep -q 'holds a different sweep' '$tmp/err' && grep -q '0.05' '$tmp/err'"
ls -l --time-style=+%s.%N "$sw"/*/ >"$tmp/after"
expect "...and changes nothing" cmp -s "$tmp/before" "$tmp/after"

# ---- seeds, random search, --layers lists ---------------------------------------------------
"$nncl" sweep --device host --lr 0.002,0.02 --seeds 2 $small --out "$tmp/seeds" >/dev/null 2>&1
expect "--seeds 2 repeats each point with seeds 1 and 2" python3 -c "
import json, os
d = json.load(open('$tmp/seeds/sweep.json'))
got = [(t['values']['--lr'], t['values']['--seed'], json.load(open(os.path.join('$tmp/seeds', t['dir'], 'config.json')))['seed']) for t in d['trials']]
assert got == [('0.002', '1', 1), ('0.002', '2', 2), ('0.02', '1', 1), ('0.02', '2', 2)], got"
"$nncl" sweep --device host --random 3 --lr 1e-4:1e-1:log --act relu,tanh $small --out "$tmp/random" >/dev/null 2>&1
expect "--random 3 draws 3 points inside the range" python3 -c "
import json
d = json.load(open('$tmp/random/sweep.json'))
assert len(d['trials']) == 3 and all(t['status'] == 'ok' for t in d['trials'])
for t in d['trials']:
    assert 1e-4 <= float(t['values']['--lr']) <= 1e-1 and t['values']['--act'] in ('relu', 'tanh'), t"
"$nncl" sweep --device host --random 3 --lr 1e-4:1e-1:log --act relu,tanh $small --out "$tmp/random2" >/dev/null 2>&1
expect "...the same points every time (the sample is seeded)" python3 -c "
import json
a, b = (json.load(open(p))['trials'] for p in ('$tmp/random/sweep.json', '$tmp/random2/sweep.json'))
assert [t['values'] for t in a] == [t['values'] for t in b]"
"$nncl" sweep --device host --lr 0.002,0.02 --layers 16/8,8 --limit 600 --epochs 1 --snapshots 0 --no-report \
    --out "$tmp/layers" >/dev/null 2>&1
expect "--layers 16/8,8 is two networks: 784-16-10 and 784-8-8-10" python3 -c "
import json, os
d = json.load(open('$tmp/layers/sweep.json'))
got = [json.load(open(os.path.join('$tmp/layers', t['dir'], 'config.json')))['model']['layers'] for t in d['trials']]
assert got == [[784, 16, 10], [784, 8, 8, 10]] * 2, got"
"$nncl" sweep --device host --lr 0.002,0.02 --act relu,tanh $small --jobs 2 --out "$tmp/jobs" >"$tmp/jobs.log" 2>&1
expect "--jobs 2 runs the four trials, each once" sh -c "test \"\$(python3 -c \"
import json; print(','.join(t['status'] for t in json.load(open('$tmp/jobs/sweep.json'))['trials']))\")\" = ok,ok,ok,ok &&
    test \$(grep -c '^trial ' '$tmp/jobs.log') -eq 4"

# ---- a diverging trial is recorded and the sweep goes on -------------------------------------
python3 - "$tmp" <<'EOF'
import random, sys
random.seed(3)
with open(sys.argv[1] + '/houses.csv', 'w') as f:
    f.write('rooms,age,price\n')
    for i in range(200):
        r, a = random.uniform(1, 8), random.uniform(0, 80)
        f.write('%.2f,%.1f,%.3f\n' % (r, a, 50 * r - .5 * a + random.gauss(0, 5)))
EOF
"$nncl" sweep --device host --data "$tmp/houses.csv" --opt sgd --lr 0.01,900 --layers 8 --epochs 5 --snapshots 0 \
    --no-report --out "$tmp/diverge" >"$tmp/diverge.log" 2>&1
expect "a sweep with a diverging trial exits 0" test $? -eq 0
expect "...recording it as diverged and the other as ok" test "$(statuses "$tmp/diverge")" = "ok,diverged"

# ---- kill -9 and Ctrl-C, then resume ----------------------------------------------------------
long="--limit 6000 --epochs 4 --layers 64 --snapshots 0 --no-report"
"$nncl" sweep --device host --lr 0.002,0.004,0.008 $long --out "$tmp/killed" >/dev/null 2>&1 &
pid=$!
i=0
while [ $i -lt 600 ] && ! grep -q '"ok"' "$tmp/killed/sweep.json" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
sleep 0.3
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
first=$(json "$tmp/killed/sweep.json" "[t['dir'] for t in d['trials'] if t['status'] == 'ok'][0]")
ls -l --time-style=+%s.%N "$tmp/killed/$first" >"$tmp/before"
"$nncl" sweep --device host --lr 0.002,0.004,0.008 $long --out "$tmp/killed" >"$tmp/resume.log" 2>&1
expect "after kill -9 the same command resumes and finishes" sh -c "test $? -eq 0 && test \"\$(python3 -c \"
import json; print(','.join(t['status'] for t in json.load(open('$tmp/killed/sweep.json'))['trials']))\")\" = ok,ok,ok"
ls -l --time-style=+%s.%N "$tmp/killed/$first" >"$tmp/after"
expect "...keeping the trial that had finished" cmp -s "$tmp/before" "$tmp/after"

# Long enough that the first trial is still training when Ctrl-C lands: 4
# epochs of 6,000 rows ended in 50 ms on a Zen 4 core, before the signal,
# and the trial read "ok" in three of four runs.
intlong="--limit 6000 --epochs 60 --layers 64 --snapshots 0 --no-report"
"$nncl" sweep --device host --lr 0.002,0.004 $intlong --out "$tmp/int" >"$tmp/int.log" 2>&1 &
pid=$!
i=0
while [ $i -lt 600 ] && ! grep -q '"running"' "$tmp/int/001_lr-0.002/summary.json" 2>/dev/null; do sleep 0.05; i=$((i + 1)); done
kill -INT "$pid"
wait "$pid"
rc=$?
expect "Ctrl-C stops the sweep with 130 (got $rc)" test $rc -eq 130
expect "...marking the trial interrupted" sh -c "statuses() { python3 -c \"import json; print(','.join(t['status'] for t in json.load(open('\$1/sweep.json'))['trials']))\" \"\$1\"; }; s=\$(statuses '$tmp/int'); test \"\$s\" = interrupted,pending"
"$nncl" sweep --device host --lr 0.002,0.004 $intlong --out "$tmp/int" >"$tmp/int2.log" 2>&1
rc=$?
got=$(statuses "$tmp/int")
expect "...and the same command finishes it (exit $rc, trials $got)" test "$rc,$got" = "0,ok,ok"
[ "$rc,$got" = "0,ok,ok" ] || cat "$tmp/int.log" "$tmp/int2.log"

# ---- refusals -----------------------------------------------------------------------------------
"$nncl" sweep --device host --lr 0.002,-1 $small --out "$tmp/bad" >/dev/null 2>"$tmp/err"
expect "a bad value in one trial exits 2 before anything runs" sh -c "test $? -eq 2 && grep -q 'trial 2' '$tmp/err' && test ! -e '$tmp/bad'"
"$nncl" sweep --device host --lr 0.002,0.02 --colour blue $small --out "$tmp/bad" >/dev/null 2>"$tmp/err"
expect "an unknown flag exits 2 naming it" sh -c "test $? -eq 2 && grep -q colour '$tmp/err'"
"$nncl" sweep --device host --epochs 2 --out "$tmp/bad" >/dev/null 2>"$tmp/err"
expect "a sweep where nothing varies exits 2" sh -c "test $? -eq 2 && grep -q 'nothing varies' '$tmp/err'"
"$nncl" sweep --device host --lr 1e-4:1e-1:log $small --out "$tmp/bad" >/dev/null 2>"$tmp/err"
expect "a range without --random exits 2" sh -c "test $? -eq 2 && grep -q random '$tmp/err'"
mkdir -p "$tmp/other" && echo hello >"$tmp/other/notes.txt"
"$nncl" sweep --device host --lr 0.002,0.02 $small --out "$tmp/other" >/dev/null 2>"$tmp/err"
expect "a folder that is not a sweep exits 2 and is left alone" sh -c "test $? -eq 2 && test \"\$(ls '$tmp/other')\" = notes.txt"

finish
