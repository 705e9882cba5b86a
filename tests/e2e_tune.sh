#!/bin/sh
# End to end: `nncl tune --device 0 --quick` searches, writes the tuning
# cache, and `nncl --device list` then says the device is tuned; a damaged
# entry is reported and ignored; NNCL_TUNE=off ignores a good one. Runs in
# a cache folder of its own (PoCL's compiled kernels stay in the tests'
# cache, so a rerun compiles nothing).
# usage: e2e_tune.sh PATH/TO/nncl
set -u
nncl=$1
. "$(dirname "$0")/e2e_lib.sh"

if ! "$nncl" --device list --json | python3 -c "import json,sys; sys.exit(0 if json.load(sys.stdin)[0]['backend']=='opencl' else 1)"; then
    echo "no OpenCL device: nothing to tune"
    exit 77
fi
export POCL_CACHE_DIR="${POCL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pocl}"
export XDG_CACHE_HOME="$tmp/cache"
unset NNCL_TUNE

tuned() { # the "tuned" field of device 0 in the JSON listing
    "$nncl" --device list --json | python3 -c "import json,sys; print(json.load(sys.stdin)[0]['tuned'])"
}
expect "device 0 starts untuned" test "$(tuned)" = no
"$nncl" --device list >"$tmp/list0" 2>&1
expect "the table has a tuned column saying no" sh -c "head -1 '$tmp/list0' | grep -q ' tuned\$' && grep -E '^[ *]0 ' '$tmp/list0' | grep -q ' no\$'"

start=$(date +%s)
"$nncl" tune --device 0 --quick >"$tmp/tune.out" 2>"$tmp/tune.err"
rc=$?
took=$(($(date +%s) - start))
expect "nncl tune --quick exits 0" test $rc -eq 0
# (Not under the sanitizers, NNCL_SANITIZED: they slow the host side 2-3x.)
if [ -z "${NNCL_SANITIZED:-}" ]; then
    expect "...within 40 s on a busy 2-core machine (took $took s)" test "$took" -le 40
fi
expect "...printing old and new GFLOP/s per shape" sh -c "grep -q 'old GF/s *new GF/s' '$tmp/tune.out' && test \$(grep -c -E '^  (784->[0-9]+ (fwd|dX|dW) |square)' '$tmp/tune.out') -eq 7"
expect "...and the fused ops' old and new microseconds" sh -c "grep -q 'old us *new us' '$tmp/tune.out' && grep -q 'fused ops new: U8_VW=' '$tmp/tune.out' && test \$(grep -c -E '^  (tutorial step|784->256 bytes|Adam|SGD)' '$tmp/tune.out') -ge 5"
expect "...and the progress on stderr" grep -q 'building and checking' "$tmp/tune.err"
entry=$(ls "$XDG_CACHE_HOME"/nncl/tune-*.txt 2>/dev/null | head -1)
expect "the cache entry is written" test -s "$entry"
expect "...with the fused ops' parameters" grep -q '^fused=U8_VW=[0-9]* U8_DM=[0-9]* U8_DN=[0-9]* U8_TM=[0-9]* OPTIM_VW=[0-9]*$' "$entry"
expect "...named in the output" grep -q "saved in $entry" "$tmp/tune.out"
expect "device 0 is now tuned" test "$(tuned)" = yes
"$nncl" --device list >"$tmp/list1" 2>&1
expect "...in the table too" sh -c "grep -E '^[ *]0 ' '$tmp/list1' | grep -q ' yes\$'"
expect "NNCL_TUNE=off says off" test "$(NNCL_TUNE=off tuned)" = off

# A damaged entry: reported, ignored, and the device still computes.
cp "$entry" "$tmp/good"
head -c 100 "$tmp/good" >"$entry"
expect "a truncated entry is reported as corrupt" test "$(tuned)" = corrupt
NNCL_TUNE=cached NNCL_NO_CACHE=1 "$nncl" check --device 0 --quick >"$tmp/check.out" 2>"$tmp/check.err"
rc=$?
expect "...and nncl check passes on the defaults (exit $rc)" test $rc -eq 0
expect "...with a warning naming the entry" grep -q "warning: ignored the tuning cache entry $entry" "$tmp/check.err"

"$nncl" tune --device host >/dev/null 2>"$tmp/host.err"
expect "tuning host is refused with exit 2" sh -c "test $? -eq 2 && grep -q 'nothing to tune' '$tmp/host.err'"
finish
