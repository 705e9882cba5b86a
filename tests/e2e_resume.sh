#!/bin/sh
# End to end, checkpoints and `nncl train --resume`, on host and on the first
# OpenCL device: a run killed with SIGKILL at scripted points (right after
# its first checkpoint, inside an epoch, right after an epoch's metrics
# before its checkpoint, after a snapshot, twice in a row before and after
# its first checkpoint, after its last summary.json before report.html)
# and once at a random moment, then resumed until it
# finishes, must end as the uninterrupted run: metrics.csv identical but
# for seconds, model.safetensors and evaluation.json byte for byte,
# snapshots.bin's snapshots identical but for their seconds. Likewise a
# Ctrl-C (scripted inside an epoch, and a real SIGINT). Then: a killed run
# reads as crashed (summary.json still says running; its pid is gone); a
# finished run has nothing to do; --epochs trains one further; and the
# refusals (changed data, other flags, unknown flags, a damaged checkpoint,
# a diverged run, a run another process is training), each leaving the run
# as it was.
# usage: e2e_resume.sh PATH/TO/nncl SOURCE_DIR
set -u
nncl=$1
src=$2
. "$(dirname "$0")/e2e_lib.sh"

pick_devices
F="--limit 3000 --epochs 4 --layers 32 --batch 50 --seed 3 --snapshots 10 --quiet"

# same_run REF RUN: RUN ended as REF did; else says on stderr what differs
# (a failure seen once in CI, at a random kill: the next one, on 2026-12-05,
# said why: a kill while report.html was written, which the test then did
# not resume).
same_run() {
    same_run_quiet "$1" "$2" && return 0
    {
        echo "same_run $2: differs from $1:"
        same_metrics "$1" "$2" || echo "  metrics.csv (columns 1-7)"
        cmp -s "$1/model.safetensors" "$2/model.safetensors" || echo "  model.safetensors"
        cmp -s "$1/evaluation.json" "$2/evaluation.json" || echo "  evaluation.json"
        echo "  status: $(json "$2/summary.json" "d['status']" 2>&1)"
        echo "  files: $(ls "$2" | tr '\n' ' ')"
        echo "  resume log (last lines):"
        tail -n 5 "$tmp/resume.log" 2>/dev/null | sed 's/^/    /'
    } >&2
    return 1
}
same_run_quiet() {
    same_metrics "$1" "$2" &&
        cmp -s "$1/model.safetensors" "$2/model.safetensors" &&
        cmp -s "$1/evaluation.json" "$2/evaluation.json" &&
        python3 - "$1/snapshots.bin" "$2/snapshots.bin" <<'EOF' &&
import struct, sys
a, b = (open(p, "rb").read() for p in sys.argv[1:3])
hb, rb = struct.unpack_from("<I", a, 8)[0], struct.unpack_from("<I", a, 20)[0]
assert a[:hb] == b[:hb], "the headers differ"
assert len(a) == len(b) and (len(a) - hb) % rb == 0, (len(a), len(b))
# a record: "SNAP", u32 index, u64 step, f32 epoch, train_loss, train_accuracy,
# val_loss, val_accuracy, lr, seconds (bytes 40..44) ... u32 crc32 (covers seconds)
for k in range((len(a) - hb) // rb):
    x, y = a[hb + k * rb: hb + (k + 1) * rb], b[hb + k * rb: hb + (k + 1) * rb]
    assert x[:40] == y[:40] and x[44:-4] == y[44:-4], "snapshot %d differs" % k
EOF
        test "$(json "$2/summary.json" "d['status']")" = ok &&
        sh -c "! ls '$2' | grep -q tmp"
}
# resume_until_done RUN: --resume as a user would after a kill, at least once
# (a run killed after its last summary.json says ok but while it wrote
# report.html still needs the resume that writes the report and removes the
# temporary: the random kill landed there in CI on 2026-12-05), then until
# the summary says ok.
resume_until_done() {
    for _i in 1 2 3 4; do
        "$nncl" train --resume "$1" --quiet >>"$tmp/resume.log" 2>&1
        [ "$(json "$1/summary.json" "d['status']" 2>/dev/null)" = ok ] && return 0
    done
    return 1
}

for dev in $devices; do
    ref="$tmp/ref-$dev"
    "$nncl" train --device "$dev" $F --out "$ref" >/dev/null 2>&1
    expect "$dev: the uninterrupted run exits 0" test $? -eq 0
    expect "$dev: it leaves checkpoint.bin (what --epochs continues)" test -s "$ref/checkpoint.bin"

    # kill -9 at scripted points, then --resume
    for point in checkpoint:1 step:80 epoch:2 snapshot:4 step:30,step:150; do
        run="$tmp/kill-$dev-$(echo "$point" | tr ':,' '--')"
        first=${point%%,*}
        NNCL_TEST_KILL=$first "$nncl" train --device "$dev" $F --out "$run" >/dev/null 2>&1
        rc=$?
        expect "$dev: killed at $first (exit $rc, 137 expected)" test $rc -eq 137
        expect "$dev: killed at $first: summary.json says running" test "$(json "$run/summary.json" "d['status']")" = running
        if [ "$point" != "$first" ]; then
            # killed again while resuming, before it finishes
            NNCL_TEST_KILL=${point#*,} "$nncl" train --resume "$run" --quiet >"$tmp/resume.log" 2>&1
            rc=$?
            expect "$dev: resumed, then killed again at ${point#*,} (exit $rc)" test $rc -eq 137
        fi
        "$nncl" train --resume "$run" --quiet >"$tmp/resume.log" 2>&1
        rc=$?
        expect "$dev: killed at $point, --resume exits 0 (got $rc)" test $rc -eq 0
        expect "$dev: killed at $point and resumed: the uninterrupted run's metrics, model, snapshots" same_run "$ref" "$run"
    done

    # kill -9 once its summary says ok, as if while writing report.html (a
    # temporary file left beside the run's files): --resume, with nothing
    # to train, writes the report and removes the temporary
    run="$tmp/kill-$dev-summary"
    NNCL_TEST_KILL=summary:1 "$nncl" train --device "$dev" $F --out "$run" >/dev/null 2>&1
    rc=$?
    expect "$dev: killed after its last summary (exit $rc, 137 expected)" test $rc -eq 137
    expect "$dev: killed after its last summary: no report.html yet" test ! -e "$run/report.html"
    echo partial >"$run/report.html.tmp-Ab12Cd"
    "$nncl" train --resume "$run" --quiet >"$tmp/resume.log" 2>&1
    rc=$?
    expect "$dev: killed after its last summary, --resume exits 0 (got $rc)" test $rc -eq 0
    expect "$dev: ...says it wrote the report" grep -q "wrote .*report.html, which the run had not finished" "$tmp/resume.log"
    expect "$dev: ...the report is there, whole" grep -q '</html>' "$run/report.html"
    expect "$dev: ...the temporary gone, the run the uninterrupted one" same_run "$ref" "$run"

    # kill -9 at a random moment once it writes its run directory
    run="$tmp/random-$dev"
    "$nncl" train --device "$dev" $F --out "$run" >/dev/null 2>&1 &
    pid=$!
    i=0
    while [ $i -lt 300 ] && [ ! -s "$run/summary.json" ] && kill -0 $pid 2>/dev/null; do
        sleep 0.02
        i=$((i + 1))
    done
    delay=$(python3 -c "import random; print(round(random.uniform(0, 0.4), 3))")
    sleep "$delay"
    kill -9 $pid 2>/dev/null
    wait $pid
    resume_until_done "$run"
    expect "$dev: killed ${delay} s after its run directory appeared and resumed: the uninterrupted run" same_run "$ref" "$run"

    # Ctrl-C inside an epoch: exit 130, a checkpoint at that step, and a
    # resume that continues from it
    run="$tmp/int-$dev"
    NNCL_TEST_INT=step:100 "$nncl" train --device "$dev" $F --out "$run" >/dev/null 2>"$tmp/int.log"
    rc=$?
    expect "$dev: Ctrl-C at step 100 exits 130 (got $rc)" test $rc -eq 130
    expect "$dev: ...records status interrupted" test "$(json "$run/summary.json" "d['status']")" = interrupted
    expect "$dev: ...says how to continue" grep -q "nncl train --resume $run" "$tmp/int.log"
    expect "$dev: ...and its checkpoint is at step 100, inside epoch 2" python3 -c "
import struct; b = open('$run/checkpoint.bin', 'rb').read()
# header 32 bytes, STAT's tag and length 12: u64 rows, batch, seed; u32 epochs, epochs_done, flags ... u64 step at 56
p = 44; assert struct.unpack_from('<I', b, p + 28)[0] == 1 and struct.unpack_from('<I', b, p + 32)[0] & 1
assert struct.unpack_from('<Q', b, p + 56)[0] == 100"
    "$nncl" train --resume "$run" --quiet >/dev/null 2>&1
    expect "$dev: Ctrl-C at step 100 and resumed: the uninterrupted run" same_run "$ref" "$run"

    # a real SIGINT once the first checkpoint is there
    run="$tmp/sigint-$dev"
    "$nncl" train --device "$dev" $F --out "$run" >/dev/null 2>&1 &
    pid=$!
    i=0
    while [ $i -lt 300 ] && [ ! -s "$run/checkpoint.bin" ] && kill -0 $pid 2>/dev/null; do
        sleep 0.02
        i=$((i + 1))
    done
    kill -INT $pid 2>/dev/null
    wait $pid
    rc=$?
    expect "$dev: SIGINT exits 130, or 0 when the run had finished (got $rc)" test $rc -eq 130 -o $rc -eq 0
    resume_until_done "$run"
    expect "$dev: SIGINT and resumed: the uninterrupted run" same_run "$ref" "$run"
done

dev=$(echo "$devices" | cut -d' ' -f1)
ref="$tmp/ref-$dev"

# Other kinds of run: early stopping with dropout and AdamW (its best
# weights kept in the checkpoint), a regression on a CSV table, and a run
# without epoch checkpoints (--checkpoint-every 0: killed, it starts over).
python3 -c "
import random
random.seed(1)
with open('$tmp/reg.csv', 'w') as f:
    f.write('a,b,c,y\n')
    for i in range(800):
        a, b, c = [random.gauss(0, 1) for _ in range(3)]
        f.write('%.4f,%.4f,%.4f,%.4f\n' % (a, b, c, 2 * a - b + 0.5 * c * c + random.gauss(0, 0.1)))"
for kind in early reg none; do
    case $kind in
    early) K="--device host --limit 2000 --epochs 30 --layers 64 --lr 0.02 --early-stop 2 --dropout 0.3"
           K="$K --opt adamw --weight-decay 0.01 --snapshots 7 --quiet"; how="NNCL_TEST_INT=step:100" ;;
    reg) K="--device $dev --data $tmp/reg.csv --epochs 6 --layers 16 --batch 32 --quiet"; how="NNCL_TEST_KILL=snapshot:20" ;;
    none) K="--device host $F --checkpoint-every 0"; how="NNCL_TEST_KILL=epoch:3" ;;
    esac
    "$nncl" train $K --out "$tmp/$kind-ref" >/dev/null 2>&1
    env $how "$nncl" train $K --out "$tmp/$kind" >/dev/null 2>&1
    "$nncl" train --resume "$tmp/$kind" >"$tmp/$kind.log" 2>&1
    expect "$kind: stopped ($how) and resumed: exits 0" test $? -eq 0
    expect "$kind: stopped and resumed: the uninterrupted run" same_run "$tmp/$kind-ref" "$tmp/$kind"
done
expect "early: the uninterrupted run stopped early (test set-up)" python3 -c "
import json; d = json.load(open('$tmp/early-ref/summary.json')); assert d['epochs'] < 30, d"
expect "none: without a checkpoint it says it starts over" grep -q "from the start (no checkpoint yet" "$tmp/none.log"

# A run killed and not resumed reads as crashed: "running", and its pid gone.
crashed="$tmp/crashed"
NNCL_TEST_KILL=step:80 "$nncl" train --device "$dev" $F --out "$crashed" >/dev/null 2>&1
expect "a killed run's summary says running, with a pid that is gone, on this host" python3 -c "
import json, os, socket
d = json.load(open('$crashed/summary.json'))
assert d['status'] == 'running' and d['host'] == socket.gethostname(), d
try:
    os.kill(d['pid'], 0); raise SystemExit('pid %d is alive' % d['pid'])
except ProcessLookupError:
    pass"

"$nncl" eval "$crashed" >"$tmp/eval-crashed.log" 2>&1
expect "nncl eval of a killed run exits 2 (got $?)" test $? -eq 2
expect "...saying it has no model yet and how to finish it" grep -q \
    "no model.safetensors yet: the run stopped before its end.*nncl train --resume $crashed finishes it" \
    "$tmp/eval-crashed.log"

# A finished run: nothing to do, and nothing touched.
ls -l --time-style=+%s.%N "$ref" >"$tmp/before"
"$nncl" train --resume "$ref" >"$tmp/nothing.log" 2>&1
expect "--resume of a finished run exits 0" test $? -eq 0
expect "...saying there is nothing to do" grep -q "nothing to do" "$tmp/nothing.log"
ls -l --time-style=+%s.%N "$ref" >"$tmp/after"
expect "...and touches nothing" cmp -s "$tmp/before" "$tmp/after"

# --epochs trains a finished run further, from its last checkpoint, and says
# the result is no longer the uninterrupted run's.
longer="$tmp/longer"
cp -r "$ref" "$longer"
"$nncl" train --resume "$longer" --epochs 6 >"$tmp/longer.log" 2>&1
expect "--resume --epochs 6 exits 0" test $? -eq 0
expect "...training epochs 5 and 6" sh -c "grep -q '^epoch 5/6' '$tmp/longer.log' && grep -q '^epoch 6/6' '$tmp/longer.log'"
expect "...noting that the schedule follows the new length" grep -q "no.*t that of an uninterrupted run" "$tmp/longer.log"
expect "...metrics.csv keeps epochs 1-4 and adds 5 and 6; config.json records the resume" python3 -c "
import csv, json
a = list(csv.reader(open('$ref/metrics.csv'))); b = list(csv.reader(open('$longer/metrics.csv')))
assert len(b) == 7 and [r[:7] for r in b[:5]] == [r[:7] for r in a], (len(b),)
c = json.load(open('$longer/config.json'))
assert c['epochs'] == 6 and c['resumed'][-1]['from_epoch'] == 4 and c['resumed'][-1]['epochs'] == 6, c.get('resumed')
assert json.load(open('$longer/summary.json'))['epochs'] == 6"
"$nncl" train --resume "$longer" --epochs 3 >"$tmp/fewer.log" 2>&1
expect "--epochs fewer than a finished run's: nothing to do (exit 0)" test $? -eq 0

# ---- refusals, each leaving the run as it was ---------------------------------------------------
run="$tmp/refuse"
NNCL_TEST_INT=step:80 "$nncl" train --device "$dev" $F --out "$run" >/dev/null 2>&1
expect "a run stopped by Ctrl-C inside epoch 2 (exit 130)" test $? -eq 130
ls -l --time-style=+%s.%N "$run" >"$tmp/before"
refused() { # refused WORD ARGS...: --resume ARGS exits 2 saying WORD, and changes nothing
    word=$1; shift
    "$nncl" train "$@" >"$tmp/refused.log" 2>&1
    rc=$?
    expect "train $* exits 2 (got $rc)" test $rc -eq 2
    expect "train $* says '$word'" grep -q -- "$word" "$tmp/refused.log"
    ls -l --time-style=+%s.%N "$run" >"$tmp/after"
    expect "train $* leaves the run as it was" cmp -s "$tmp/before" "$tmp/after"
}
refused "unknown option '--frobnicate'" --resume "$run" --frobnicate
refused "comes from the run" --resume "$run" --lr 0.1
refused "comes from the run" --lr 0.1 --resume "$run"
refused "needs a value" --resume "$run" --epochs
refused "--epochs" --resume "$run" --epochs 0
refused "no such run directory" --resume "$tmp/no-such-run"
refused "inside epoch 2; give at least 2" --resume "$run" --epochs 1
cp "$run/checkpoint.bin" "$tmp/checkpoint.bin"
head -c 1000 "$tmp/checkpoint.bin" >"$run/checkpoint.bin"
ls -l --time-style=+%s.%N "$run" >"$tmp/before"
refused "checkpoint.bin: not a valid nncl checkpoint: it is truncated" --resume "$run"
cp "$tmp/checkpoint.bin" "$run/checkpoint.bin"
# config.json as jq or an editor may write it back: 0.0 as 0, keys sorted,
# other indentation (nncl compares its values, not its text or number types)
python3 -c "
import json
def ints(v):
    if isinstance(v, float) and v.is_integer(): return int(v)
    if isinstance(v, dict): return {k: ints(x) for k, x in v.items()}
    if isinstance(v, list): return [ints(x) for x in v]
    return v
p = '$run/config.json'; d = json.load(open(p))
assert d['model']['init_param'] == 0.0 and isinstance(d['model']['init_param'], float)
json.dump(ints(d), open(p, 'w'), sort_keys=True, indent=1)"
"$nncl" train --resume "$run" --quiet >"$tmp/resumed.log" 2>&1
expect "after the refusals the run resumes (config.json rewritten with 0.0 as 0), exit 0" test $? -eq 0
expect "...and ends as the uninterrupted run" same_run "$ref" "$run"

# changed data: a CSV edited after the run was killed
python3 -c "
import random
random.seed(5)
with open('$tmp/table.csv', 'w') as f:
    f.write('a,b,c,d,label\n')
    for i in range(600):
        c = i % 3
        f.write(','.join('%.3f' % (random.gauss(0, 1) + (2 if j == c else 0)) for j in range(4)) + ',%d\n' % c)"
run="$tmp/csv"
NNCL_TEST_KILL=epoch:2 "$nncl" train --device host --data "$tmp/table.csv" --epochs 4 --layers 8 --batch 20 \
    --snapshots 5 --quiet --out "$run" >/dev/null 2>&1
expect "a CSV run killed after epoch 2 (exit 137)" test $? -eq 137
sed -i '5s/^[-0-9]/9/' "$tmp/table.csv"
ls -l --time-style=+%s.%N "$run" >"$tmp/before"
refused "the data changed since the run" --resume "$run"

# a diverged run
"$nncl" train --device host --limit 2000 --epochs 3 --layers 256,256,256 --opt sgd --lr 1000 --quiet \
    --out "$tmp/nan" >/dev/null 2>&1
run="$tmp/nan"
ls -l --time-style=+%s.%N "$run" >"$tmp/before"
refused "diverged" --resume "$run"

# a run another process is training: its lock is held
run="$tmp/busy"
"$nncl" train --device host --limit 3000 --epochs 1000 --layers 32 --batch 50 --snapshots 0 --quiet \
    --out "$run" >/dev/null 2>&1 &
pid=$!
i=0
while [ $i -lt 300 ] && [ ! -s "$run/checkpoint.bin" ] && kill -0 $pid 2>/dev/null; do
    sleep 0.02
    i=$((i + 1))
done
"$nncl" train --resume "$run" >"$tmp/busy.log" 2>&1
rc=$?
expect "--resume of a run that is training exits 2 (got $rc)" test $rc -eq 2
expect "...saying another process trains it" grep -q "another nncl process is training this run" "$tmp/busy.log"
kill -INT $pid
wait $pid
expect "...and that run goes on undisturbed (interrupted by us, exit 130)" test $? -eq 130
expect "...its summary intact" test "$(json "$run/summary.json" "d['status']")" = interrupted

finish
