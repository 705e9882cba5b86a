#!/bin/sh
# meson's test wrapper for the sanitized suite (tools/setup.sh sanitize):
# runs one test, and where it failed with the signature of LeakSanitizer's
# own tracer crashing at a process's exit ("Tracer caught signal 11",
# "LeakSanitizer has encountered a fatal error": the leak check never ran, a
# known intermittent fault of the runtime, google/sanitizers#1353), and with
# no report of a leak, an address error or undefined behaviour, runs it once
# more and lets that run decide. Every other failure, and a second crash,
# fails as it is. stdout and stderr pass through apart.
# usage: tools/lsan_retry.sh TEST [ARGS...]
out=$(mktemp) && err=$(mktemp) || exit 1
trap 'rm -f "$out" "$err"' EXIT
"$@" >"$out" 2>"$err"
rc=$?
cat "$out"
cat "$err" >&2
[ "$rc" -eq 0 ] && exit 0
if grep -q "LeakSanitizer has encountered a fatal error" "$err" && grep -q "Tracer caught signal" "$err" &&
    ! grep -q -e "ERROR: LeakSanitizer: detected memory leaks" -e "ERROR: AddressSanitizer" \
        -e "runtime error:" "$out" "$err"; then
    echo "lsan_retry: LeakSanitizer's tracer crashed at a process's exit (no check ran); running the test again" >&2
    exec "$@"
fi
exit "$rc"
