#!/bin/sh
# A 12-trial sweep against the same 12 runs made one by one (`nncl train`
# each), alternating, in one invocation: the sweep's overhead, or saving
# (it opens the device and reads the data once).
# usage: tools/bench_sweep.sh [DEVICE] [ROUNDS]     (from the source tree, after building)
set -eu
cd "$(dirname "$0")/.."
dev=${1:-0}
rounds=${2:-2}
nncl=build/nncl
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
common="--limit 20000 --epochs 2 --layers 64 --snapshots 0 --no-report --device $dev"
now() { date +%s.%N; }
. tools/bench_lib.sh
bench_cpu_line
r=1
while [ $r -le "$rounds" ]; do
    t0=$(now)
    "$nncl" sweep --lr 0.001,0.002,0.004 --act relu,tanh --batch 64,128 $common --out "$tmp/sweep-$r" >/dev/null
    t1=$(now)
    for lr in 0.001 0.002 0.004; do for act in relu tanh; do for batch in 64 128; do
        "$nncl" train --lr $lr --act $act --batch $batch $common --quiet --out "$tmp/one-$r-$lr-$act-$batch" >/dev/null
    done; done; done
    t2=$(now)
    python3 -c "s, o = $t1 - $t0, $t2 - $t1; print('round $r: sweep %.2f s, one by one %.2f s, sweep / one by one = %.3f' % (s, o, s / o))"
    r=$((r + 1))
done
