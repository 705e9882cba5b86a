#!/bin/sh
# The kernels on a simulated GPU: the op, head, GEMM, gradient and batch-norm
# tests, on small shapes (NNCL_TEST_SMALL=1), under Oclgrind (Debian's
# `oclgrind`).
# Oclgrind reports itself as an OpenCL 1.2 GPU with on-chip local memory, so
# nncl builds the GPU form of the kernels there (the capability table's
# local-memory GEMM tiles, launches with the driver's work-group sizes), a
# form no CPU device runs; and it checks every work-item's accesses: out of
# bounds reads and writes, invalid barriers (always on) and, with
# --data-races, races between work-items. Any such report fails the check,
# as does any failing test. Exit 77 (meson's "skipped") without oclgrind.
#
#   tools/oclgrind_check.sh BUILD_DIR [TEST ...]
#
# TEST names test binaries in BUILD_DIR/tests (default: test_ops test_head
# test_gemm test_linear_u8_head test_grad test_batchnorm). A few minutes on
# 2 cores (test_batchnorm: 95 s).
#
# --uninitialized is not used: Oclgrind 21.10's plugin crashes (SIGSEGV in
# Uninitialized::instructionExecuted) on linear_u8_fwd and head_xent.
set -u
build=${1:?usage: tools/oclgrind_check.sh BUILD_DIR [TEST ...]}
shift
if [ "${NNCL_SANITIZED:-0}" = 1 ]; then
    # ASan's runtime must come first; oclgrind preloads its own library.
    echo "oclgrind-kernels: not under the sanitizers: skipped"
    exit 77
fi
if ! command -v oclgrind >/dev/null 2>&1; then
    echo "oclgrind-kernels: oclgrind is not installed (apt-get install oclgrind): skipped"
    exit 77
fi
[ $# -gt 0 ] || set -- test_ops test_head test_gemm test_linear_u8_head test_grad test_batchnorm
logs=$(mktemp -d "${TMPDIR:-/tmp}/nncl-oclgrind.XXXXXX")
# The tests' own settings (tests/meson.build), plus: the simulator must be
# there (NNCL_REQUIRE_OPENCL), small shapes, and check's per-test timeout
# raised for a simulator 1,000 times slower.
export NNCL_TUNE=off NNCL_KERNEL_PATH='' NNCL_REQUIRE_OPENCL=1 NNCL_TEST_SMALL=1
export CK_DEFAULT_TIMEOUT="${CK_DEFAULT_TIMEOUT:-1200}" CK_TIMEOUT_MULTIPLIER=1
export XDG_CACHE_HOME="$logs/cache"
status=0
for t in "$@"; do
    exe="$build/tests/$t"
    if [ ! -x "$exe" ]; then
        echo "oclgrind-kernels: $exe not found"
        status=1
        continue
    fi
    log="$logs/$t.oclgrind"
    # test_ops and test_grad: the cases that run on OpenCL devices.
    case $t in
    test_ops) run_case=devices ;;
    test_grad) run_case=network ;;
    *) run_case= ;;
    esac
    start=$(date +%s)
    if [ -n "$run_case" ]; then export CK_RUN_CASE="$run_case"; else unset CK_RUN_CASE; fi
    oclgrind --data-races --max-errors 20 --log "$log" "$exe" >"$logs/$t.out" 2>&1
    rc=$?
    secs=$(($(date +%s) - start))
    # Oclgrind writes its reports to the log and may still exit 0.
    if [ "$rc" -ne 0 ] || [ -s "$log" ]; then
        echo "oclgrind-kernels: $t FAILED (exit $rc, ${secs} s)"
        sed -n '1,60p' "$logs/$t.out"
        [ -s "$log" ] && { echo "--- oclgrind reports ($log):"; sed -n '1,80p' "$log"; }
        status=1
    else
        echo "oclgrind-kernels: $t passed (${secs} s): $(grep -E '^[0-9]+%:' "$logs/$t.out" | tail -1)"
    fi
done
[ "$status" -eq 0 ] && rm -rf "$logs"
exit "$status"
