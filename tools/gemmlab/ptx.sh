#!/bin/sh
# ptx.sh KERNEL "<-D options>" [OUT_DIR]: what an NVIDIA GPU would be asked to
# run for one entry point of cl/gemm.cl, without a GPU. cl/common.cl and
# cl/gemm.cl go through clang's OpenCL front end and NVPTX back end (linked
# with libclc's OpenCL built-ins) to PTX; where CUDA's ptxas is on the PATH
# (or in /usr/local/cuda/bin) it also assembles for sm_90 (an H100/H200) and
# says the registers and spills. Then, for every basic block of KERNEL that
# does memory or arithmetic work, its length and its FMAs, local (shared)
# loads and stores, global loads and barriers, the longest blocks first:
# the inner loop's instruction mix, e.g. 64 fma to 16 ld.shared with scalar
# local reads against 4 ld.shared.v4 with LVW=4.
#
# NVIDIA's own OpenCL compiler is a different front end on LLVM too, so this
# shows what the source lets a compiler do (a vloadn it cannot prove
# aligned stays scalar here), not NVIDIA's exact code; timings need a GPU
# (tools/gpu_check.sh).
#
# Installs what it needs that is missing: Debian's clang, llvm (llvm-link,
# opt, llc) and libclc-14. ptxas is CUDA's, not Debian's: optional.
# The options may carry NVIDIA's register cap as the program's build takes
# it (-cl-nv-maxrregcount=N, the GEMM's RC; gpu_check.sh's gemm-sweep
# strings): it goes to ptxas as -maxrregcount N, not to clang.
# Example:
#   sh tools/gemmlab/ptx.sh gemm_nn "-DUSE_LOCAL=1 -DTSM=128 -DTSN=128 -DTSK=16 -DWPTM=8 -DWPTN=8 -DLVW=4 -DPF=1 -DGVW=4"
set -eu
kernel=${1:?usage: ptx.sh KERNEL \"<-D options>\" [OUT_DIR]}
defines=
cap=
for word in ${2:-}; do
    case $word in
    -cl-nv-maxrregcount=*) cap=${word#*=} ;;
    *) defines="$defines $word" ;;
    esac
done
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${3:-$(mktemp -d /tmp/nncl-ptx.XXXXXX)}
mkdir -p "$out"
libclc=/usr/lib/clc/nvptx64--nvidiacl.bc
. "$root/tools/packages.sh"
ensure_packages ptx.sh clang llvm libclc-14
for tool in clang llvm-link opt llc; do
    command -v $tool >/dev/null || { echo "ptx.sh: no $tool (Debian: clang llvm)" >&2; exit 1; }
done
[ -r $libclc ] || { echo "ptx.sh: no $libclc (Debian: libclc-14)" >&2; exit 1; }

cat "$root/cl/common.cl" "$root/cl/gemm.cl" >"$out/gemm.cl"
# shellcheck disable=SC2086 # the defines are words
clang -x cl -cl-std=CL1.2 -target nvptx64-nvidia-nvcl -O3 -emit-llvm -c -Xclang -finclude-default-header \
    $defines -o "$out/gemm.bc" "$out/gemm.cl"
llvm-link "$out/gemm.bc" $libclc -o "$out/linked.bc" 2>/dev/null
opt -O3 "$out/linked.bc" -o "$out/opt.bc"
llc -mtriple=nvptx64-nvidia-cuda -mcpu=sm_80 -mattr=+ptx70 -O3 "$out/opt.bc" -o "$out/gemm.ptx"
awk -v k="$kernel" '$0 ~ "\\.entry " k "\\(" {on = 1} on {print} on && /^}/ {exit}' "$out/gemm.ptx" >"$out/$kernel.ptx"
[ -s "$out/$kernel.ptx" ] || { echo "ptx.sh: no entry point $kernel in $out/gemm.ptx" >&2; exit 1; }

echo "# $kernel$defines${cap:+ (registers capped at $cap)}"
echo "# PTX: $out/gemm.ptx ($kernel alone: $out/$kernel.ptx)"
ptxas=$(command -v ptxas || true)
[ -n "$ptxas" ] || [ ! -x /usr/local/cuda/bin/ptxas ] || ptxas=/usr/local/cuda/bin/ptxas
if [ -n "$ptxas" ]; then
    "$ptxas" -arch=sm_90 -v ${cap:+-maxrregcount=$cap} "$out/gemm.ptx" -o "$out/gemm.cubin" 2>&1 |
        awk -v k="$kernel" '$0 ~ "entry function .?" k ".?" {on = 1; next} on && /Used|spill/ {gsub(/ +/, " "); print "# sm_90:" $0} on && /Used/ {exit}'
else
    echo "# (no ptxas: registers and spills not known)"
fi
awk '/^\$?L?BB[0-9_]*:/ {b = $1} b == "" {b = "entry:"}
     {n[b]++} /fma\.rn\.f32/ {f[b]++} /ld\.shared/ {ls[b]++} /st\.shared/ {ss[b]++} /ld\.global/ {lg[b]++}
     /bar\.sync/ {ba[b]++}
     END {for (x in n) if (f[x] + ls[x] + ss[x] + lg[x] + ba[x] > 0)
              printf "%-12s %5d lines %4d fma %3d ld.shared %3d st.shared %3d ld.global %2d bar.sync\n",
                     x, n[x], f[x], ls[x], ss[x], lg[x], ba[x]}' "$out/$kernel.ptx" | sort -k2 -n -r | head -"${TOP:-12}"
