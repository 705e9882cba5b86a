#!/bin/sh
# tools/lsan_retry.sh, the sanitized suite's wrapper: it runs a test once
# more only where the first run failed with LeakSanitizer's tracer crash and
# nothing else; every other outcome passes through.
# usage: lsan_retry_test.sh TOOLS/lsan_retry.sh
set -u
wrap=$1
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
fail=0
expect() { # WHAT WANT GOT
    if [ "$2" != "$3" ]; then echo "FAIL: $1: expected $2, got $3"; fail=1; else echo "ok: $1"; fi
}
crash='echo "Tracer caught signal 11: addr=0x300000898" >&2; echo "==1==LeakSanitizer has encountered a fatal error." >&2; exit 1'

# a test that crashes the tracer on its first run and passes on its second
cat >"$dir/once.sh" <<EOS
if [ ! -f "$dir/ran" ]; then touch "$dir/ran"; echo first; $crash; fi
echo second
EOS
sh "$wrap" sh "$dir/once.sh" >"$dir/out" 2>"$dir/err"
expect "a tracer crash, then a pass" 0 $?
expect "both runs' output kept" "first second" "$(tr '\n' ' ' <"$dir/out" | sed 's/ $//')"
grep -q "running the test again" "$dir/err"
expect "the retry said on stderr" 0 $?

# crashing twice fails
printf '%s\n' "$crash" >"$dir/always.sh"
sh "$wrap" sh "$dir/always.sh" >/dev/null 2>"$dir/err"
expect "two tracer crashes" 1 $?
expect "two runs" 2 "$(grep -c "Tracer caught" "$dir/err")"

# a real finding beside the crash is not retried
printf 'echo "ERROR: AddressSanitizer: heap-use-after-free" >&2\n%s\n' "$crash" >"$dir/asan.sh"
sh "$wrap" sh "$dir/asan.sh" >/dev/null 2>"$dir/err"
expect "an address error beside the crash" 1 $?
expect "run once" 1 "$(grep -c "Tracer caught" "$dir/err")"
printf 'echo "ERROR: LeakSanitizer: detected memory leaks" >&2\nexit 1\n' >"$dir/leak.sh"
sh "$wrap" sh "$dir/leak.sh" >/dev/null 2>&1
expect "a leak" 1 $?

# other exits pass through: a plain failure (once), a skip, a pass
printf 'echo x >>"%s/count"\nexit 3\n' "$dir" >"$dir/three.sh"
sh "$wrap" sh "$dir/three.sh" >/dev/null 2>&1
expect "a plain failure's status" 3 $?
expect "a plain failure run once" 1 "$(wc -l <"$dir/count" | tr -d ' ')"
sh "$wrap" sh -c 'exit 77' >/dev/null 2>&1
expect "a skip" 77 $?
sh "$wrap" true
expect "a pass" 0 $?
exit $fail
