#!/bin/sh
# The GEMM's GPU sets (tools/gemmlab/sweep_sets.txt, the sets gpu_check.sh
# times) under Oclgrind's checks, before a GPU runs them: build/tools/
# gemm_harness's correctness cases on shapes a simulator can run
# (HARNESS_SMALL: sides 1 to 200, full and partial 128-wide tiles, K over
# several tiles, every transpose, bias, activations, alpha and beta, NaN),
# each set built for Oclgrind's simulated GPU and run with --data-races:
# any wrong element, out-of-bounds access, invalid barrier or race between
# work-items fails the set. The CI job (tools/oclgrind_check.sh) runs the
# capability table's GPU set only; these are the candidates a GPU's search
# and the sweep may pick. About 80 s a set on one core (the last 128x128
# set with LVW=4 PF=1 GVW=4 KU=1: 81 s).
#
#   tools/oclgrind_gemm_sets.sh BUILD_DIR [FIRST [LAST]]   (set numbers, 1-based)
set -u
build=${1:?usage: tools/oclgrind_gemm_sets.sh BUILD_DIR [FIRST [LAST]]}
first=${2:-1}
last=${3:-1000}
root=$(cd "$(dirname "$0")/.." && pwd)
harness="$build/tools/gemm_harness"
[ -x "$harness" ] || { echo "oclgrind_gemm_sets.sh: no $harness (ninja -C $build tools/gemm_harness)" >&2; exit 2; }
command -v oclgrind >/dev/null 2>&1 || { echo "oclgrind_gemm_sets.sh: no oclgrind (apt-get install oclgrind)" >&2; exit 2; }
logs=$(mktemp -d "${TMPDIR:-/tmp}/nncl-oclgrind-sets.XXXXXX")
status=0
i=0
grep -v '^#' "$root/tools/gemmlab/sweep_sets.txt" | {
while read -r tsm tsn tsk wm wn lvw pf gvw ku db rc wl; do
    [ -n "$wl" ] || continue
    i=$((i + 1))
    [ "$i" -ge "$first" ] && [ "$i" -le "$last" ] || continue
    # RC (a register cap) is NVIDIA's build option: the code is the same
    set="TSM=$tsm TSN=$tsn TSK=$tsk WPTM=$wm WPTN=$wn LVW=$lvw PF=$pf GVW=$gvw KU=$ku DB=$db RC=$rc WL=$wl"
    defs="-DUSE_LOCAL=1 -DTSM=$tsm -DTSN=$tsn -DTSK=$tsk -DWPTM=$wm -DWPTN=$wn -DLVW=$lvw -DPF=$pf -DGVW=$gvw -DKU=$ku -DDB=$db -DWL=$wl"
    start=$(date +%s)
    HARNESS_SMALL=1 oclgrind --data-races --max-errors 20 --log "$logs/$i.log" \
        "$harness" -t -k "$root/cl/gemm.cl" "$defs" >"$logs/$i.out" 2>&1 </dev/null
    rc=$?
    secs=$(($(date +%s) - start))
    summary=$(tail -1 "$logs/$i.out")
    if [ "$rc" -ne 0 ] && grep -q 'clEnqueueNDRangeKernel.*-> -5$' "$logs/$i.out" && [ ! -s "$logs/$i.log" ]; then
        # CL_OUT_OF_RESOURCES: its local tiles exceed the simulated GPU's
        # 32 KiB (an H200 gives a work-group up to 227 KiB); the same code
        # with a smaller tile is another set of the list
        echo "set $i ($set): skipped: more local memory than Oclgrind's device has"
    elif [ "$rc" -ne 0 ] || [ -s "$logs/$i.log" ]; then
        echo "set $i ($set): FAILED (exit $rc, $secs s): $summary"
        grep -m 5 FAIL "$logs/$i.out"
        [ -s "$logs/$i.log" ] && sed -n '1,40p' "$logs/$i.log"
        status=1
    else
        echo "set $i ($set): clean, $summary ($secs s)"
    fi
done
[ "$status" -eq 0 ] && rm -rf "$logs" || echo "logs: $logs"
exit "$status"
}
