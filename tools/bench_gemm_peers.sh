#!/bin/sh
# GEMM GFLOP/s of nncl's gemm op against its peers, on the shapes of
# `nncl bench`: nncl on an OpenCL device (default: the first, PoCL here),
# CLBlast on that same device, and OpenBLAS cblas_sgemm on the host, both with
# OpenBLAS's own CPU detection (OPENBLAS_CORETYPE unset) and with
# OPENBLAS_CORETYPE=SkylakeX (only on a CPU with AVX-512), and as inherited when the environment sets
# OPENBLAS_CORETYPE (a wrong core type, such as Haswell on an AVX-512 CPU,
# costs about half the speed). A benchmark, not a
# test: on a shared machine compare the ratios, which come from one
# invocation with the libraries interleaved.
#
# usage: tools/bench_gemm_peers.sh [--rounds N] [--min-time SECONDS] [--device DEVICE]
#   --rounds N        processes per library, alternated; the table shows medians (3)
#   --min-time S      seconds of calls per measurement (0.2)
#   --device DEVICE   nncl's --device for nncl and CLBlast (default: the first OpenCL device)
#
# Builds tools/bench_gemm_peers.c into build/tools/ against build/libnncl.so,
# installing libclblast-dev and libopenblas-dev first where missing.
set -eu
cd "$(dirname "$0")/.."
root=$PWD
rounds=3
min_time=0.2
device=""
while [ $# -gt 0 ]; do
    case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --min-time) min_time=$2; shift 2 ;;
    --device) device=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -eu/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench_gemm_peers.sh: unknown option $1" >&2; exit 2 ;;
    esac
done

# ---- packages, library, binary --------------------------------------------
. tools/packages.sh
ensure_packages bench_gemm_peers gcc libc6-dev ocl-icd-opencl-dev opencl-c-headers libclblast-dev libopenblas-dev pocl-opencl-icd
if [ ! -f build/build.ninja ]; then
    sh tools/setup.sh >&2
fi
# Bring the library up to date; a half-edited test elsewhere must not stop us
# when a library is already there.
ninja -C build nncl >&2 || [ -f build/libnncl.so ] || { echo "bench_gemm_peers: no build/libnncl.so" >&2; exit 1; }
mkdir -p build/tools
bin=build/tools/bench_gemm_peers
gcc -std=c11 -O2 -Wall -Wextra -I include -I src -I build -o "$bin" tools/bench_gemm_peers.c \
    -L build -Wl,-rpath,"$root/build" -lnncl -lclblast -lopenblas -lOpenCL -lm

# ---- runs --------------------------------------------------------------------
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OPENBLAS_NUM_THREADS=2
devopt=""
[ -n "$device" ] && devopt="--device $device"
inherited=${OPENBLAS_CORETYPE:-}
inherited_l2=${OPENBLAS_L2_SIZE:-}
avx512=no
grep -q -w avx512f /proc/cpuinfo && avx512=yes

run() { # TAG COMMAND...: run one process, tag its rows with TAG
    tag=$1; shift
    "$@" >"$tmp/out" || { echo "bench_gemm_peers: failed ($tag): $*" >&2; exit 1; }
    awk -v tag="$tag" -F'\t' 'BEGIN{OFS="\t"} $1=="time"&&tag!="pocl"{$2=tag} $1=="info"{$2=tag": "$2} {print}' \
        "$tmp/out" >>"$tmp/rows"
}

echo "bench_gemm_peers: $rounds rounds, $min_time s per measurement" >&2
for r in $(seq 1 "$rounds"); do
    echo "round $r/$rounds" >&2
    # shellcheck disable=SC2086
    run pocl env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$bin" --libs nncl,clblast $devopt --reps 1 --min-time "$min_time"
    run "openblas-default" env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$bin" --libs openblas --reps 1 --min-time "$min_time"
    # SkylakeX's kernels are AVX-512: on a CPU without it they die of an
    # illegal instruction, and the auto-detected core is the right one there.
    if [ "$avx512" = yes ]; then
        run "openblas-skylakex" env -u OPENBLAS_L2_SIZE OPENBLAS_CORETYPE=SkylakeX "$bin" --libs openblas --reps 1 --min-time "$min_time"
    fi
    if [ -n "$inherited" ]; then
        run "openblas-env" "$bin" --libs openblas --reps 1 --min-time "$min_time"
    fi
done
# The sanity check: all three on the same inputs, against a double reference.
# shellcheck disable=SC2086
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$bin" --check $devopt >"$tmp/check"


# ---- the table -----------------------------------------------------------------
AVX512="$avx512" INHERITED="$inherited" INHERITED_L2="$inherited_l2" ROUNDS="$rounds" /usr/bin/python3 - "$tmp/rows" "$tmp/check" <<'EOF'
import os, statistics, sys
times, infos, order = {}, [], []
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    if f[0] == "info":
        if f[1:] not in infos:
            infos.append(f[1:])
    elif f[0] == "time":
        key = (f[2], f[3], f[4], f[5], f[6])
        if key not in order:
            order.append(key)
        times.setdefault((key, f[1]), []).append(float(f[9]))

inh = os.environ.get("INHERITED", "")
cols = [("nncl", "nncl"), ("clblast", "CLBlast"), ("openblas-default", "OpenBLAS default")]
# The peer the ratio is taken against: OpenBLAS's best core on this CPU
# (Debian's 0.3.21 misdetects some AVX-512 CPUs, so there SkylakeX by hand).
best = "openblas-default"
if os.environ.get("AVX512") == "yes":
    cols.append(("openblas-skylakex", "OpenBLAS SkylakeX"))
    best = "openblas-skylakex"
if inh:
    cols.append(("openblas-env", "OpenBLAS env (%s)" % inh))

def med(key, lib):
    v = times.get((key, lib))
    return statistics.median(v) if v else float("nan")

print("GEMM GFLOP/s, median of %s interleaved rounds (row-major, C = op(A) op(B))\n" % os.environ["ROUNDS"])
print("| shape | M | N | K | op | " + " | ".join(c[1] for c in cols) + " | nncl/CLBlast | nncl/OpenBLAS-%s |" % ("SkylakeX" if best == "openblas-skylakex" else "default"))
print("|---|---:|---:|---:|---|" + "---:|" * len(cols) + "---:|---:|")
for key in order:
    g = {lib: med(key, lib) for lib, _ in cols}
    print("| %s | %s | %s | %s | %s | " % key + " | ".join("%.1f" % g[lib] for lib, _ in cols) +
          " | %.1fx | %.2fx |" % (g["nncl"] / g["clblast"], g["nncl"] / g[best]))
print()
for i in infos:
    print("- %s %s" % (i[0], " ".join(i[1:])))
if inh:
    print("- the environment had OPENBLAS_CORETYPE=%s OPENBLAS_L2_SIZE=%s: 'default' and 'SkylakeX' ran with them"
          " removed (env -u), 'env' with them as inherited" % (inh, os.environ.get("INHERITED_L2", "")))
print("\nSanity check, same inputs in one process (max |C - ref| / max |ref|, ref in double on the host):\n")
checks = {}
for line in open(sys.argv[2]):
    f = line.rstrip("\n").split("\t")
    if f[0] == "check":
        checks.setdefault(tuple(f[2:7]), {})[f[1]] = f[8]
print("| shape | M | N | K | op | nncl | CLBlast | OpenBLAS |")
print("|---|---:|---:|---:|---|---:|---:|---:|")
for key, v in checks.items():
    print("| %s | %s | %s | %s | %s | " % key + " | ".join(v.get(l, "-") for l in ("nncl", "clblast", "openblas")) + " |")
EOF
