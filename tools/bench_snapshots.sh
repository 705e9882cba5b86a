#!/bin/sh
# What snapshots cost: the bare `nncl train` with --snapshots 60 (the
# default) against --snapshots 0, alternating in one invocation, training
# time as nncl reports it (summary.json's seconds) and wall time.
# usage: tools/bench_snapshots.sh [DEVICE] [ROUNDS] [extra train flags...]
set -eu
cd "$(dirname "$0")/.."
dev=${1:-0}
rounds=${2:-4}
shift 2 2>/dev/null || shift $#
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tools/bench_lib.sh
bench_cpu_line "device $dev"
r=1
while [ $r -le "$rounds" ]; do
    for n in 0 60; do
        t0=$(date +%s.%N)
        build/nncl train --device "$dev" --quiet --no-report --snapshots $n "$@" --out "$tmp/r$r-$n" >/dev/null
        t1=$(date +%s.%N)
        echo "$r $n $(python3 -c "import json; print(json.load(open('$tmp/r$r-$n/summary.json'))['seconds'])") $(python3 -c "print($t1 - $t0)")"
    done
    r=$((r + 1))
done | python3 -c "
import sys
rows = [l.split() for l in sys.stdin]
for r in rows: print('round %s: --snapshots %-2s training %.3f s, wall %.3f s' % (r[0], r[1], float(r[2]), float(r[3])))
def mean(n, i): v = [float(r[i]) for r in rows if r[1] == n]; return sum(v) / len(v)
for i, what in ((2, 'training'), (3, 'wall')):
    print('%s: 60 snapshots / none = %.3f' % (what, mean('60', i) / mean('0', i)))"
