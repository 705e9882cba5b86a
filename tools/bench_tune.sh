#!/bin/sh
# GEMM GFLOP/s before and after tuning, in one invocation with the runners
# interleaved: `nncl bench --device DEVICE` with NNCL_TUNE=off (the
# capability table's parameters) and with NNCL_TUNE=cached (the tuning
# cache's entry: run `nncl tune` first), and numpy's OpenBLAS on the same
# shapes. Prints the medians per shape, the CPU model and its vector ISA.
# A benchmark, not a test: on a shared machine read the ratios.
#
# usage: tools/bench_tune.sh [--rounds N] [--device DEVICE]
set -eu
cd "$(dirname "$0")/.."
rounds=3
device=0
while [ $# -gt 0 ]; do
    case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --device) device=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -eu/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench_tune.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
nncl=build/nncl
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for r in $(seq 1 "$rounds"); do
    echo "round $r/$rounds" >&2
    NNCL_TUNE=off "$nncl" bench --device "$device" --json >"$tmp/off.$r.json"
    NNCL_TUNE=cached "$nncl" bench --device "$device" --json >"$tmp/tuned.$r.json"
    OPENBLAS_NUM_THREADS=2 /usr/bin/python3 - "$tmp/off.$r.json" >"$tmp/numpy.$r.tsv" <<'PY'
import json, sys, time
try:
    import numpy as np
except ImportError:  # no numpy (apt-get install python3-numpy): no column
    sys.exit(0)
rows = [r for r in json.load(open(sys.argv[1])) if r["op"] == "gemm"]
for r in rows:
    m, n, k = r["m"], r["n"], r["k"]
    rng = np.random.default_rng(1)
    a = rng.random((k, m) if r["transa"] else (m, k), dtype=np.float32)
    b = rng.random((n, k) if r["transb"] else (k, n), dtype=np.float32)
    A = a.T if r["transa"] else a
    B = b.T if r["transb"] else b
    A @ B
    best = 1e9
    for _ in range(3):
        t0 = time.perf_counter(); reps = 0
        while True:
            A @ B; reps += 1
            t = time.perf_counter() - t0
            if t > 0.25: break
        best = min(best, t / reps)
    print("%s\t%.1f" % (r["shape"], 2.0 * m * n * k / best * 1e-9))
PY
done
cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
isa=$(grep -m1 '^flags' /proc/cpuinfo | grep -o -w -E 'avx512f|avx2|fma|sse4_2' | tr '\n' ' ')
ROUNDS=$rounds CPU="$cpu" ISA="$isa" /usr/bin/python3 - "$tmp" <<'PY'
import glob, json, os, statistics, sys
d = sys.argv[1]
def med(kind):
    acc = {}
    for f in glob.glob("%s/%s.*.json" % (d, kind)):
        for r in json.load(open(f)):
            if r["op"] == "gemm":
                acc.setdefault(r["shape"], []).append(r["gflops"])
    return {k: statistics.median(v) for k, v in acc.items()}
off, tuned = med("off"), med("tuned")
npy = {}
for f in glob.glob("%s/numpy.*.tsv" % d):
    for line in open(f):
        s, g = line.rstrip("\n").split("\t")
        npy.setdefault(s, []).append(float(g))
npy = {k: statistics.median(v) for k, v in npy.items()}
order = [r["shape"] for r in json.load(open(glob.glob("%s/off.1.json" % d)[0])) if r["op"] == "gemm"]
print("CPU: %s; ISA: %s; median of %s interleaved rounds, GFLOP/s\n" % (os.environ["CPU"], os.environ["ISA"], os.environ["ROUNDS"]))
print("| shape | defaults (NNCL_TUNE=off) | tuned | tuned / defaults | numpy OpenBLAS | tuned / OpenBLAS |")
print("|---|---:|---:|---:|---:|---:|")
for s in order:
    o = npy.get(s)
    print("| %s | %.1f | %.1f | %.2fx | %s | %s |" % (s, off[s], tuned[s], tuned[s] / off[s],
          "%.1f" % o if o else "-", "%.2fx" % (tuned[s] / o) if o else "-"))
PY
