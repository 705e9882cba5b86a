#!/bin/sh
# A/B of two nncl builds on the same training command, alternating the two
# in one invocation (the only comparison that holds on a shared machine):
# training time as each run reports it (summary.json's seconds), wall, and
# the rest (wall less training: start-up, test, report, exit).
# usage: tools/bench_ab.sh NNCL_A NNCL_B ROUNDS [--bare] [train flags...]
# e.g.   tools/bench_ab.sh /tmp/base/build/nncl build/nncl 6 --device 0
# --bare: runs as a user's bare run does (its report written, its lines
# printed, to /dev/null), not --quiet --no-report.
set -eu
a=$1 b=$2 rounds=$3
shift 3
quiet="--quiet --no-report"
if [ "${1:-}" = --bare ]; then
    quiet=""
    shift
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/bench_lib.sh"
bench_cpu_line "flags: $*"
r=1
while [ "$r" -le "$rounds" ]; do
    for which in A B; do
        if [ $which = A ]; then bin=$a; else bin=$b; fi
        t0=$(date +%s.%N)
        # shellcheck disable=SC2086 # the flags are words
        "$bin" train $quiet "$@" --out "$tmp/r$r-$which" >/dev/null 2>"$tmp/err" ||
            { echo "bench_ab.sh: $bin failed:" >&2; cat "$tmp/err" >&2; exit 1; }
        t1=$(date +%s.%N)
        echo "$r $which $(python3 -c "import json; print(json.load(open('$tmp/r$r-$which/summary.json'))['seconds'])") $(python3 -c "print($t1 - $t0)")"
    done
    r=$((r + 1))
done | python3 -c "
import sys
rows = [l.split() for l in sys.stdin]
if not {r[1] for r in rows} >= {'A', 'B'}: sys.exit(1)  # a run failed (said above)
for r in rows: print('round %s %s: training %.3f s, wall %.3f s' % (r[0], r[1], float(r[2]), float(r[3])))
def mean(n, i): v = [float(r[i]) for r in rows if r[1] == n]; return sum(v) / len(v)
for r in rows: r.append(float(r[3]) - float(r[2]))
for i, what in ((2, 'training'), (3, 'wall'), (4, 'the rest (wall less training)')):
    print('%s: B / A = %.3f (A %.3f s, B %.3f s)' % (what, mean('B', i) / mean('A', i), mean('A', i), mean('B', i)))"
