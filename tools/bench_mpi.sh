#!/bin/sh
# Issue 15's cost target: `mpirun -np 2 nncl train --distributed` against one
# process with every core, on one machine, in one invocation, alternating
# round by round (the only comparison that holds on a shared machine). Both
# train the default network on the full MNIST for one epoch on the host
# device; each figure is `nncl train`'s samples/s (summary.json), the MPI
# rows with the epoch's time in communication.
#
#   tools/bench_mpi.sh [ROUNDS] [NNCL] [TRAIN FLAGS...]    (3, build/nncl)
#
# Nothing is set for the ranks: under mpirun nncl shares the cores among
# them itself (README, Distributed training over MPI). OPENBLAS_CORETYPE is
# set where the CPU has AVX-512 (Debian's OpenBLAS has misdetected this
# machine as Prescott on some boots, tools/BENCHMARKS.md).
set -eu
rounds=${1:-3}
nncl=${2:-build/nncl}
[ $# -ge 2 ] && shift 2 || shift $#
here=$(cd "$(dirname "$0")" && pwd)
command -v mpirun >/dev/null 2>&1 || { echo "no mpirun (apt install openmpi-bin)" >&2; exit 2; }
export NNCL_TUNE=off
. "$(dirname "$0")/bench_lib.sh"
bench_blas_core
bench_cpu_line
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
flags="--device host --data $here/../datasets/mnist --epochs 1 --snapshots 0 --no-report"
pass=""
[ -n "${OPENBLAS_CORETYPE:-}" ] && pass="-x OPENBLAS_CORETYPE"
sps() { python3 -c "import json; print('%.0f' % json.load(open('$1/summary.json'))['samples_per_second'])"; }
r=1
while [ "$r" -le "$rounds" ]; do
    "$nncl" train $flags "$@" --out "$tmp/$r-one" >/dev/null
    echo "$r one-process $(sps "$tmp/$r-one")"
    mpirun --allow-run-as-root --oversubscribe --bind-to none -np 2 -x NNCL_TUNE $pass \
        "$nncl" train --distributed $flags "$@" --out "$tmp/$r-mpi" >"$tmp/$r-mpi.out"
    echo "$r mpirun-np2 $(sps "$tmp/$r-mpi") $(grep '^epoch' "$tmp/$r-mpi.out" | grep -o 'comm [0-9.]* s')"
    r=$((r + 1))
done | tee "$tmp/rows"
python3 - "$tmp/rows" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
med = {k: statistics.median(float(r[2]) for r in rows if r[1] == k) for k in ("one-process", "mpirun-np2")}
print(f"median samples/s: one process {med['one-process']:,.0f}, mpirun -np 2 {med['mpirun-np2']:,.0f}; "
      f"cost of -np 2: {med['one-process'] / med['mpirun-np2'] - 1:+.1%} (target at most +15%)")
PY
