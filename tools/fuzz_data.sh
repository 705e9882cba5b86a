#!/bin/sh
# Build the data-layer fuzzers (libFuzzer + ASan + UBSan, clang) and run each
# for a bounded time.
#
#   tools/fuzz_data.sh [SECONDS] [csv|idx|all]     (default: 60 seconds, all)
#
# Needs clang and libclang-rt-14-dev (Debian), and libdeflate-dev as the build does. Works without meson: compiles
# src/data, src/util/status.c and src/util/atomic_file.c directly. Builds in
# $NNCL_FUZZ_DIR (default build-fuzz/ in the source tree); the growing
# corpora live there too, seeded from tests/fuzz/corpus_*; crashes land there
# as crash-* files.
set -eu

secs=${1:-60}
which=${2:-all}
root=$(cd "$(dirname "$0")/.." && pwd)
out=${NNCL_FUZZ_DIR:-$root/build-fuzz}
cc=${CC_FUZZ:-clang}
mkdir -p "$out"

if ! command -v "$cc" >/dev/null 2>&1; then
    echo "fuzz_data.sh: $cc not found (apt-get install clang libclang-rt-14-dev)" >&2
    exit 2
fi

flags="-std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -I$root/include -I$root/src"
# Everything but the dataset lookup (resolve.c, sha256.c: config header, OpenSSL).
srcs="$root/src/util/status.c $root/src/util/atomic_file.c"
for f in "$root"/src/data/*.c; do
    case $(basename "$f") in resolve.c|sha256.c) ;; *) srcs="$srcs $f" ;; esac
done

status=0
for t in csv idx; do
    [ "$which" = all ] || [ "$which" = "$t" ] || continue
    echo "== building fuzz_$t" >&2
    # shellcheck disable=SC2086
    "$cc" $flags -o "$out/fuzz_$t" "$root/tests/fuzz/fuzz_$t.c" $srcs -ldeflate -lz -lm
    mkdir -p "$out/corpus_$t"
    echo "== running fuzz_$t for ${secs}s" >&2
    (cd "$out" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
        "./fuzz_$t" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 "corpus_$t" "$root/tests/fuzz/corpus_$t") 2>"$out/fuzz_$t.log" || status=1
    grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|^Done|ERROR|SUMMARY" "$out/fuzz_$t.log" >&2 || true
done
if [ $status -ne 0 ]; then
    echo "fuzz_data.sh: a fuzzer found a problem; see $out/fuzz_*.log and $out/crash-*" >&2
fi
exit $status
