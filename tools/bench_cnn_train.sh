#!/bin/sh
# Issue 13's speed target, measured the way it is stated: samples/s of the
# whole training step (forward, loss, backward, Adam; batch 128) of the two
# CNNs, nncl against Debian's PyTorch on the CPU, in one invocation,
# alternating processes round by round (the only comparison that holds on a
# shared machine). nncl's figure is `nncl train`'s own samples/s over one
# epoch of 7,680 MNIST rows (60 steps, no validation, its first-step kernel
# builds included: what a user gets); PyTorch's is tools/bench_conv_torch.py
# --train (random inputs, the median of its timed rounds after a warm-up).
#
#   tools/bench_cnn_train.sh [ROUNDS] [NNCL]     (defaults: 3, build/nncl)
#
# Prints each round, then medians and nncl / PyTorch per network and device,
# with the range and median of the rounds' own ratios (PyTorch alone can move
# 2x between rounds on a shared machine).
# PyTorch runs with OMP_WAIT_POLICY=PASSIVE and 2 threads; OPENBLAS_CORETYPE
# is set where the CPU has AVX-512 (Debian's OpenBLAS has misdetected this
# machine as Prescott on some boots, tools/BENCHMARKS.md).
set -eu
rounds=${1:-3}
nncl=${2:-build/nncl}
here=$(cd "$(dirname "$0")" && pwd)
export OMP_WAIT_POLICY=PASSIVE NNCL_TUNE=off
. "$(dirname "$0")/bench_lib.sh"
bench_blas_core
bench_cpu_line
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
devices="host"
"$nncl" --device list --json | python3 -c "import json,sys; sys.exit(0 if json.load(sys.stdin)[0]['backend']=='opencl' else 1)" &&
    devices="0 host"
r=1
while [ "$r" -le "$rounds" ]; do
    /usr/bin/python3 "$here/bench_conv_torch.py" --train --runs 5 --steps 10 | sed "s/^train /$r torch /"
    for dev in $devices; do
        for net in cnn5:conv:16:5,maxpool:2,conv:32:5,maxpool:2,128 cnn3:conv:32:3,maxpool:2,conv:64:3,maxpool:2,128; do
            name=${net%%:*} layers=${net#*:}
            "$nncl" train --device "$dev" --data "$here/../datasets/mnist" --layers "$layers" --epochs 1 \
                --limit 7680 --val 0 --batch 128 --snapshots 0 --quiet --no-report --out "$tmp/$r-$dev-$name" >/dev/null
            echo "$r nncl-$dev $name $(python3 -c "import json; print(json.load(open('$tmp/$r-$dev-$name/summary.json'))['samples_per_second'])")"
        done
    done
    r=$((r + 1))
done | tee "$tmp/rows" | sed 's/^/round /'
python3 - "$tmp/rows" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
by = {}
for r, who, net, v in rows:
    by.setdefault((who, net), {})[r] = float(v)
def median(v):
    v = sorted(v)
    return v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2
# The ratio of the medians (the issue's measure), and, since PyTorch's own
# figure can move 2x between rounds on a shared machine, each round's ratio
# (nncl / PyTorch of the same round) with their median and range.
for net in ("cnn5", "cnn3"):
    t = by.get(("torch", net), {})
    for who in sorted(w for w, n in by if n == net and w != "torch"):
        mine = by[(who, net)]
        per = sorted(mine[r] / t[r] for r in mine if r in t)
        print("%s %s: %.0f samples/s, PyTorch %.0f: %.2fx (per round %.2f-%.2fx, median %.2fx)" %
              (net, who, median(mine.values()), median(t.values()), median(mine.values()) / median(t.values()),
               per[0], per[-1], median(per)))
PY
