#!/bin/sh
# The convolutions of issue 13's two CNNs against PyTorch, in one invocation:
# PyTorch's whole training step (tools/bench_conv_torch.py --train: batch 128,
# Adam, 2 threads) and nncl's conv part (conv2d_fwd + conv2d_bwd + 2x2 max
# pooling of both conv layers, tools/bench_conv) on the host backend and on
# each OpenCL device, one process after the other, ROUNDS rounds; and, with
# BASE (another build's bench_conv), that build too, alternating with this
# one in every round (an A/B that holds on a shared machine). Prints each
# round's samples/s, then the medians and the ratios nncl / PyTorch (> 1:
# nncl's conv part alone processes more samples per second than PyTorch's
# whole step; the target of issue 13 is 1.5x with nncl's whole step).
#
#   tools/bench_cnn.sh [--rounds N] [--runs N] [--base BASE_BENCH_CONV] [BENCH_CONV]
#
# BENCH_CONV defaults to build/tools/bench_conv. Every process runs with
# OMP_WAIT_POLICY=PASSIVE (PyTorch otherwise spins idle OpenMP threads
# against the other process's, tools/BENCHMARKS.md), OPENBLAS_CORETYPE=SkylakeX
# where the CPU has AVX-512 (Debian's OpenBLAS 0.3.21 has detected this
# machine's "Intel(R) Xeon(R) Processor" as Prescott, SSE3 kernels, on some
# boots: it matters to PyTorch's dense layers and to nncl's host backend) and
# NNCL_TUNE=off (the capability table's GEMM, no search: the same kernels
# every run).
set -eu
rounds=3 runs=5 base= bin=build/tools/bench_conv
while [ $# -gt 0 ]; do
    case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --base) base=$2; shift 2 ;;
    -*) echo "usage: tools/bench_cnn.sh [--rounds N] [--runs N] [--base BASE_BENCH_CONV] [BENCH_CONV]" >&2; exit 2 ;;
    *) bin=$1; shift ;;
    esac
done
here=$(dirname "$0")
export OMP_WAIT_POLICY=PASSIVE NNCL_TUNE=off
. "$(dirname "$0")/bench_lib.sh"
bench_blas_core
bench_cpu_line
rows=$(mktemp)
trap 'rm -f "$rows"' EXIT
r=1
while [ "$r" -le "$rounds" ]; do
    /usr/bin/python3 "$here/bench_conv_torch.py" --train --runs 3 --steps 5 | sed "s/^train /$r torch /"
    for which in new base; do
        if [ $which = new ]; then b=$bin; else b=$base; fi
        [ -n "$b" ] || continue
        # "DEVICE NET ... ms/batch = N samples/s": one line per device and net
        "$b" --runs "$runs" 2>/dev/null | awk -v r="$r" -v w="$which" \
            '/samples\/s/ { for (i = 1; i <= NF; i++) if ($i == "samples/s") print r, w "-" $1, $2, $(i - 1) }'
    done
    r=$((r + 1))
done | tee "$rows"
python3 -c "
import sys, statistics
rows = [l.split() for l in sys.stdin if len(l.split()) == 4]
runs = {}
for r, who, net, v in rows:
    runs.setdefault((who, net), []).append(float(v))
torch = {net: statistics.median(v) for (who, net), v in runs.items() if who == 'torch'}
print('medians over %d rounds (samples/s; nncl: conv + pool part only):' % max(int(r[0]) for r in rows))
for (who, net), v in sorted(runs.items()):
    m = statistics.median(v)
    ratio = '' if who == 'torch' or net not in torch else '  %.2fx PyTorch whole step' % (m / torch[net])
    print('  %-10s %-5s %8.0f%s' % (who, net, m, ratio))
for (who, net), v in sorted(runs.items()):
    if who.startswith('new-') and ('base-' + who[4:], net) in runs:
        b = runs[('base-' + who[4:], net)]
        print('  A/B %-6s %-5s new / base = %.2f (median of per-round ratios: %.2f)' % (who[4:], net,
              statistics.median(v) / statistics.median(b), statistics.median([x / y for x, y in zip(v, b)])))
" <"$rows"
