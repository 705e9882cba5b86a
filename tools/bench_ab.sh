#!/bin/sh
# A/B of two nncl builds on the same training command, alternating the two
# in one invocation (the only comparison that holds on a shared machine):
# training time as each run reports it (summary.json's seconds), wall, and
# the rest (wall less training: start-up, test, report, exit).
# usage: tools/bench_ab.sh NNCL_A NNCL_B ROUNDS [--bare] [--own-caches] [train flags...]
# e.g.   tools/bench_ab.sh /tmp/base/build/nncl build/nncl 6 --device 0
# --bare: runs as a user's bare run does (its report written, its lines
# printed, to /dev/null), not --quiet --no-report.
# --own-caches: each build with an XDG_CACHE_HOME of its own (tuning, the
# program cache), warmed by two untimed runs each, for changes to what the
# caches keep; otherwise both use the caller's.
set -eu
a=$1 b=$2 rounds=$3
shift 3
quiet="--quiet --no-report"
own=""
while [ $# -gt 0 ]; do
    case $1 in
    --bare) quiet="" ;;
    --own-caches) own=1 ;;
    *) break ;;
    esac
    shift
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/bench_lib.sh"
bench_cpu_line "flags: $*"
if [ -n "$own" ]; then
    for which in A B A B; do
        if [ $which = A ]; then bin=$a; else bin=$b; fi
        # shellcheck disable=SC2086 # the flags are words
        XDG_CACHE_HOME="$tmp/cache-$which" "$bin" train $quiet "$@" --out "$tmp/warm-$which" >/dev/null 2>&1 ||
            { echo "bench_ab.sh: warming $bin failed" >&2; exit 1; }
        rm -rf "$tmp/warm-$which"
    done
fi
r=1
while [ "$r" -le "$rounds" ]; do
    for which in A B; do
        if [ $which = A ]; then bin=$a; else bin=$b; fi
        cache=${XDG_CACHE_HOME:-$HOME/.cache}
        [ -z "$own" ] || cache="$tmp/cache-$which"
        t0=$(date +%s.%N)
        # shellcheck disable=SC2086 # the flags are words
        XDG_CACHE_HOME="$cache" "$bin" train $quiet "$@" --out "$tmp/r$r-$which" >/dev/null 2>"$tmp/err" ||
            { echo "bench_ab.sh: $bin failed:" >&2; cat "$tmp/err" >&2; exit 1; }
        t1=$(date +%s.%N)
        echo "$r $which $(python3 -c "import json; d = json.load(open('$tmp/r$r-$which/summary.json')); print(d['seconds'], d.get('startup', {}).get('seconds', 0))") $(python3 -c "print($t1 - $t0)")"
    done
    r=$((r + 1))
done | python3 -c "
import sys
rows = [l.split() for l in sys.stdin]
if not {r[1] for r in rows} >= {'A', 'B'}: sys.exit(1)  # a run failed (said above)
for r in rows: print('round %s %s: training %.3f s, start-up %.3f s, wall %.3f s' % (r[0], r[1], float(r[2]), float(r[3]), float(r[4])))
def mean(n, i): v = [float(r[i]) for r in rows if r[1] == n]; return sum(v) / len(v)
for r in rows: r.append(float(r[4]) - float(r[2]))
for i, what in ((2, 'training'), (3, 'start-up (to the first step)'), (4, 'wall'), (5, 'the rest (wall less training)')):
    print('%s: B / A = %.3f (A %.3f s, B %.3f s)' % (what, mean('B', i) / mean('A', i), mean('A', i), mean('B', i)))"
