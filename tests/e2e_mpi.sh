#!/bin/sh
# End to end, `mpirun -np R nncl train --distributed` (data-parallel over
# MPI) on the host device and a small MNIST subset: -np 1 is the plain run
# bit for bit (a sum over one rank is the identity); -np 2 reaches the same
# test accuracy within 0.1 point with the same seed and global batch; only
# rank 0 prints and writes a run directory; a distributed run stopped by a
# signal to one rank (all ranks stop at the same step) or killed (mpirun
# ends the job) resumes under mpirun to the uninterrupted run's end; and a
# build without MPI says so. Skipped (77) without MPI in the build or
# without mpirun.
# usage: e2e_mpi.sh PATH/TO/nncl HAVE_MPI(0|1)
set -u
# Absolute: the -np 2 run below starts in a folder of its own.
nncl=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
have_mpi=$2
. "$(dirname "$0")/e2e_lib.sh"

if [ "$have_mpi" != 1 ]; then
    "$nncl" train --distributed --device host >"$tmp/out" 2>&1
    rc=$?
    if [ "$rc" -ne 2 ] || ! grep -q "built without MPI (install libopenmpi-dev and rebuild)" "$tmp/out"; then
        echo "FAIL: --distributed in a build without MPI: exit $rc"; cat "$tmp/out"; exit 1
    fi
    echo "SKIP: this nncl was built without MPI (--distributed refuses, as it should)"
    exit 77
fi
# Under the sanitizers (tools/setup.sh sanitize): Open MPI's components,
# unloaded at MPI_Finalize, leave allocations LeakSanitizer can neither name
# nor suppress (their frames read "<unknown module>"); leak checks are off
# for these runs only, address and undefined-behaviour checks stay on.
if [ "${NNCL_SANITIZED:-0}" = 1 ]; then
    ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0"
    export ASAN_OPTIONS
fi
command -v mpirun >/dev/null 2>&1 || { echo "SKIP: no mpirun (apt install openmpi-bin)"; exit 77; }
# CI runs as root, and this machine may have fewer cores than ranks.
# timeout: a rank left waiting in a collective fails the test, not the suite.
M="timeout 300 mpirun --allow-run-as-root --oversubscribe"
F="--device host --limit 2000 --epochs 2 --layers 32 --batch 128 --seed 5 --snapshots 10 --no-report"

"$nncl" train $F --out "$tmp/plain" >"$tmp/plain.out" 2>&1 || { fail "plain run"; cat "$tmp/plain.out"; }
$M -np 1 "$nncl" train --distributed $F --out "$tmp/np1" >"$tmp/np1.out" 2>&1 || { fail "-np 1 run"; cat "$tmp/np1.out"; }
expect "-np 1: the plain run's metrics" same_metrics "$tmp/plain" "$tmp/np1"
expect "-np 1: the plain run's model, byte for byte" cmp -s "$tmp/plain/model.safetensors" "$tmp/np1/model.safetensors"

# -np 2 in a folder of its own, without --out: rank 0 makes runs/<name>, rank 1 nothing.
mkdir "$tmp/w2"
(cd "$tmp/w2" && $M -np 2 "$nncl" train --distributed $F) >"$tmp/np2.out" 2>"$tmp/np2.err" ||
    { fail "-np 2 run"; cat "$tmp/np2.out" "$tmp/np2.err"; }
expect "-np 2: one run directory, rank 0's" test "$(ls "$tmp/w2" | tr '\n' ' ')" = "runs "
expect "-np 2: one run directory, rank 0's" test "$(ls "$tmp/w2/runs" | wc -l)" -eq 1
np2=$tmp/w2/runs/$(ls "$tmp/w2/runs" | head -n 1)
expect "-np 2: rank 0 alone prints (one header, one result)" \
    test "$(grep -c '^seed' "$tmp/np2.out")" -eq 1 -a "$(grep -c '^test accuracy' "$tmp/np2.out")" -eq 1
expect "-np 2: the epoch line says the time in communication" grep -q "comm [0-9.]* s" "$tmp/np2.out"
expect "-np 2: config.json records the ranks" test "$(json "$np2/config.json" 'd.get("ranks")')" = 2
expect "-np 2: a whole run (model, evaluation, 10 snapshots' file)" \
    test -s "$np2/model.safetensors" -a -s "$np2/evaluation.json" -a -s "$np2/snapshots.bin"
a1=$(json "$tmp/np1/summary.json" 'd["test_accuracy"]')
a2=$(json "$np2/summary.json" 'd["test_accuracy"]')
# The tolerance: 0.1 point. The two runs differ only in the order of the
# gradients' additions (each rank sums its half, then rank 0 adds the
# halves), a rounding of ~1e-7 relative per step.
expect "-np 2 ($a2) vs -np 1 ($a1): test accuracy within 0.1 point" \
    python3 -c "import sys; sys.exit(0 if abs($a1 - $a2) <= 0.001 else 1)"
echo "test accuracy: -np 1 $a1, -np 2 $a2"

# Under mpirun without --distributed: refused (every rank would train alone).
$M -np 2 "$nncl" train $F --out "$tmp/refused" >"$tmp/ref.out" 2>&1
rc=$?
expect "mpirun without --distributed: refused (exit $rc)" test "$rc" -ne 0
expect "mpirun without --distributed: says why" grep -q "add --distributed" "$tmp/ref.out"
expect "mpirun without --distributed: no run directory" test ! -e "$tmp/refused"

# The reference for the resumes: -np 2 with --out (the same run as above).
$M -np 2 "$nncl" train --distributed $F --out "$tmp/ref2" >/dev/null 2>&1 || fail "-np 2 reference run"
expect "-np 2 twice: the same run (fixed reduction order)" same_metrics "$np2" "$tmp/ref2"
expect "-np 2 twice: the same model, byte for byte" cmp -s "$np2/model.safetensors" "$tmp/ref2/model.safetensors"

# Ctrl-C to rank 1 alone inside epoch 2 (step 20 of 30): the stop rides on
# the gradients' sum, both ranks stop at the next step, rank 0 saves.
NNCL_TEST_INT=step:20 NNCL_TEST_RANK=1 $M -np 2 "$nncl" train --distributed $F --out "$tmp/int" \
    >"$tmp/int.out" 2>&1
rc=$?
expect "SIGINT to rank 1: exit 130 (got $rc)" test "$rc" -eq 130
expect "SIGINT to rank 1: rank 0 saved a checkpoint inside epoch 2" \
    test "$(json "$tmp/int/summary.json" 'd["status"]')" = interrupted -a -s "$tmp/int/checkpoint.bin"
$M -np 2 "$nncl" train --resume "$tmp/int" --distributed >"$tmp/int2.out" 2>&1 ||
    { fail "resume after SIGINT"; cat "$tmp/int2.out"; }
expect "SIGINT, resumed: the uninterrupted run's metrics" same_metrics "$tmp/ref2" "$tmp/int"
expect "SIGINT, resumed: the uninterrupted run's model" cmp -s "$tmp/ref2/model.safetensors" "$tmp/int/model.safetensors"

# SIGKILL to rank 1 inside epoch 2: mpirun ends the whole job and says
# which rank died; epoch 1's checkpoint is there to resume from.
NNCL_TEST_KILL=step:20 NNCL_TEST_RANK=1 $M -np 2 "$nncl" train --distributed $F --out "$tmp/kill" \
    >"$tmp/kill.out" 2>&1
rc=$?
expect "SIGKILL to rank 1: the job ends, failed (exit $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
expect "SIGKILL to rank 1: mpirun names the rank that died" grep -qi "rank 1.*signal 9\|signal 9.*rank 1\|rank 1.*killed" "$tmp/kill.out"
expect "SIGKILL to rank 1: a checkpoint to resume from" test -s "$tmp/kill/checkpoint.bin"
$M -np 2 "$nncl" train --resume "$tmp/kill" --distributed >"$tmp/kill2.out" 2>&1 ||
    { fail "resume after SIGKILL"; cat "$tmp/kill2.out"; }
expect "SIGKILL, resumed: the uninterrupted run's metrics" same_metrics "$tmp/ref2" "$tmp/kill"
expect "SIGKILL, resumed: the uninterrupted run's model" cmp -s "$tmp/ref2/model.safetensors" "$tmp/kill/model.safetensors"
[ "$fails" -eq 0 ] || { echo "--- kill.out"; cat "$tmp/kill.out"; }
finish
