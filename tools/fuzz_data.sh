#!/bin/sh
# Build the fuzzers of the file readers (libFuzzer + ASan + UBSan, clang) and
# run each for a bounded time, one after the other.
#
#   tools/fuzz_data.sh [SECONDS] [csv|idx|model|checkpoint|snapshots|tune_cache|all]
#                                                  (default: 60 seconds, all)
#
# Needs clang and libclang-rt-14-dev (Debian), and libdeflate-dev and
# libjansson-dev as the build does. Works without meson: compiles the readers
# and what they call directly (csv, idx: src/data and two of src/util; model,
# checkpoint: also the layer layout of src/net, see net_srcs). Builds in
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

util="$root/src/util/status.c $root/src/util/bad_file.c $root/src/util/crc32_buf.c $root/src/util/atomic_file.c"
# The model and checkpoint readers size a network through its layer layout
# (src/net/layout.c and the layer tables). The tables also point at the
# layers' forward and backward passes, whose device ops no reader calls:
# those symbols are left unresolved (0, a SEGV if ever called) rather than
# building the OpenCL backend; that needs a non-PIE link.
net_srcs="$root/src/net/layout.c $root/src/net/layer_grammar.c $root/src/ops/conv_shape.c"
for f in "$root"/src/net/layer_*.c; do
    case $(basename "$f") in layer_grammar.c) ;; *) net_srcs="$net_srcs $f" ;; esac
done
net_link="-no-pie -Wl,--unresolved-symbols=ignore-all"
# The tuning cache's reader with the parameter tables it parses into (and
# their capability defaults, which the target's setup asks for); the OpenCL
# side of kernel_params.c is left unresolved the same way.
tune_srcs="$root/src/ops/gemm_tune_cache.c $root/src/ops/gemm_params.c $root/src/ops/fused_params.c
           $root/src/ops/kernel_params.c $root/src/util/int_fields.c $root/src/util/mkdir_p.c
           $root/src/util/cache_dir.c $util"

# safetensors.c writes the version from meson's configuration header.
[ -f "$out/nncl_config.h" ] || printf '#define NNCL_VERSION "fuzz"\n' >"$out/nncl_config.h"

status=0
for t in csv idx model checkpoint snapshots tune_cache; do
    [ "$which" = all ] || [ "$which" = "$t" ] || continue
    case $t in
    csv|idx) tsrcs="$srcs" libs="-ldeflate -lz -lm" ;;
    model) tsrcs="$root/src/model/safetensors.c $util $net_srcs" libs="$net_link -ljansson -lz -lm" ;;
    checkpoint) tsrcs="$root/src/train/checkpoint.c $util $net_srcs" libs="$net_link -lz -lm" ;;
    snapshots) tsrcs="$root/src/train/snapshot_file.c $util" libs="-lz -lm" ;;
    tune_cache) tsrcs="$tune_srcs" libs="$net_link -lm" ;;
    esac
    echo "== building fuzz_$t" >&2
    # shellcheck disable=SC2086
    "$cc" $flags -I"$out" -o "$out/fuzz_$t" "$root/tests/fuzz/fuzz_$t.c" $tsrcs $libs
    mkdir -p "$out/corpus_$t"
    # a target's dictionary (tests/fuzz/model.dict: the JSON header's words)
    dict=
    [ -f "$root/tests/fuzz/$t.dict" ] && dict="-dict=$root/tests/fuzz/$t.dict"
    echo "== running fuzz_$t for ${secs}s" >&2
    # shellcheck disable=SC2086
    (cd "$out" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
        "./fuzz_$t" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 $dict "corpus_$t" "$root/tests/fuzz/corpus_$t") 2>"$out/fuzz_$t.log" || status=1
    grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|^Done|ERROR|SUMMARY" "$out/fuzz_$t.log" >&2 || true
done
if [ $status -ne 0 ]; then
    echo "fuzz_data.sh: a fuzzer found a problem; see $out/fuzz_*.log and $out/crash-*" >&2
fi
exit $status
