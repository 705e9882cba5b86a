#!/bin/sh
# Rehearse tools/gpu_check.sh on PoCL as if on a bare GPU machine (as root, on
# Linux with overlayfs): in a private mount namespace, the OpenCL loader,
# nncl's runtime libraries and /etc/fonts are hidden behind overlay
# whiteouts, then the check runs with PoCL registered as the "vendor" and a
# CPU expected as device 0. Nothing outside the namespace changes.
#   sh tools/gpu_check.sh --prepare
#   sh tools/gpu_check_rehearse.sh OUTDIR [ARCHIVE]     (GPU_CHECK_* knobs pass through)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 1 ] || { echo "usage: tools/gpu_check_rehearse.sh OUTDIR [ARCHIVE]" >&2; exit 2; }
pocl=$(cat /etc/OpenCL/vendors/pocl.icd 2>/dev/null || true)
case "$pocl" in /*) ;; ?*) pocl=/usr/lib/x86_64-linux-gnu/$pocl ;; *) echo "no PoCL (pocl-opencl-icd)" >&2; exit 1 ;; esac
export GPU_CHECK_VENDOR_LIB="${GPU_CHECK_VENDOR_LIB:-$pocl}" GPU_CHECK_ICD_NAME=pocl GPU_CHECK_EXPECT="${GPU_CHECK_EXPECT:-cpu}"
u=$(mktemp -d)
trap 'rm -rf "$u"' EXIT
unshare -m sh -c '
set -e
u=$1 root=$2
shift 2
mkdir -p "$u/up" "$u/work" "$u/etc-up" "$u/etc-work"
cd /usr/lib/x86_64-linux-gnu
for f in libOpenCL.so* libjansson.so* libcairo.so* libgif.so* libsubunit.so* libgfortran.so* libquadmath.so* \
    libpixman-1.so* libX11.so* libxcb.so* libxcb-render.so* libxcb-shm.so* libXrender.so* libXext.so* libXau.so* \
    libXdmcp.so* libfontconfig.so* libopenblas*.so*; do
    [ -e "$f" ] && mknod "$u/up/$f" c 0 0
done
# OpenBLAS itself, but not the libblas.so.3 beside it that ffmpeg needs
mkdir -p "$u/up/openblas-pthread"
mknod "$u/up/openblas-pthread/libopenblas.so.0" c 0 0
mount -t overlay overlay -o "lowerdir=/usr/lib/x86_64-linux-gnu,upperdir=$u/up,workdir=$u/work" /usr/lib/x86_64-linux-gnu
mknod "$u/etc-up/fonts" c 0 0
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$u/etc-up,workdir=$u/etc-work" /etc
echo "hidden: $(ls "$u/up" | tr "\n" " ")openblas-pthread/libopenblas.so.0 /etc/fonts"
cd "$root"
exec sh tools/gpu_check.sh "$@"' sh "$u" "$root" "$@"
