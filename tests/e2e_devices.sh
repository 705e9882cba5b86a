#!/bin/sh
# End to end: the real nncl binary lists devices (table and JSON), copes with
# no OpenCL at all, and rejects a bad --device with the listing.
# usage: e2e_devices.sh PATH/TO/nncl PATH/TO/libfake_icd_crash.so
set -u
nncl=$1
fake_icd=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
. "$(dirname "$0")/e2e_lib.sh"
# A cache of its own: the suite's shared one (XDG_CACHE_HOME) changes while
# this runs, as other tests bench and tune in parallel, and the listings below
# show what it holds (train_samples_per_second, the default device), so two
# listings a moment apart could differ (seen once on a fresh machine).
export XDG_CACHE_HOME="$tmp/cache"

"$nncl" --version >"$tmp/v" 2>&1
expect "--version exits 0" test $? -eq 0
expect "--version prints the version" grep -q '^nncl [0-9]' "$tmp/v"
"$nncl" --help >"$tmp/h" 2>&1
expect "--help exits 0" test $? -eq 0
expect "--help shows usage" grep -q 'usage: nncl' "$tmp/h"
"$nncl" help >"$tmp/h2" 2>&1
expect "nncl help shows the same usage" sh -c "test $? -eq 0 && cmp -s '$tmp/h' '$tmp/h2'"
"$nncl" version >"$tmp/v2" 2>&1
expect "nncl version prints the version" sh -c "test $? -eq 0 && cmp -s '$tmp/v' '$tmp/v2'"

# The table: a header, host last, one default.
"$nncl" --device list >"$tmp/list" 2>&1
expect "--device list exits 0" test $? -eq 0
expect "the list has a header" grep -q '^#  *backend  *type  *name' "$tmp/list"
expect "the list ends with host" sh -c "grep -E '^[ *][0-9]+ ' '$tmp/list' | tail -n 1 | grep -q ' host '"
expect "exactly one default" test "$(grep -c -E '^\*[0-9]+ ' "$tmp/list")" -eq 1
if [ "${NNCL_REQUIRE_OPENCL:-0}" = 1 ]; then
    expect "an OpenCL device is listed (NNCL_REQUIRE_OPENCL=1)" grep -q -E '^[ *][0-9]+ +opencl ' "$tmp/list"
fi

# JSON: valid, the keys the issue names, host last.
"$nncl" --device list --json >"$tmp/json" 2>"$tmp/json.err"
expect "--json exits 0" test $? -eq 0
python3 - "$tmp/json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert isinstance(d, list) and d, "not a non-empty array"
keys = {"index", "backend", "type", "name", "platform", "compute_units",
        "global_mem_bytes", "max_alloc_bytes", "default"}
for i, row in enumerate(d):
    missing = keys - set(row)
    assert not missing, f"row {i} lacks {missing}"
    assert row["index"] == i
assert d[-1]["backend"] == "host"
assert sum(1 for r in d if r["default"]) == 1
PY
expect "JSON has the required keys" test $? -eq 0

# No OpenCL at all: host only, a hint, exit 0. An empty vendors folder hides
# every OpenCL driver from ocl-icd (Debian's loader, always checked); the
# Khronos loader that CUDA ships reads /etc/OpenCL/vendors all the same (seen
# on an H200 machine), and there the case cannot be made: said, and skipped.
mkdir -p "$tmp/no-vendors"
OCL_ICD_VENDORS="$tmp/no-vendors" "$nncl" --device list >"$tmp/none" 2>&1
expect "no-OpenCL list exits 0" test $? -eq 0
loader=$(readlink -f "$(ldd "$nncl" 2>/dev/null | awk '$1 == "libOpenCL.so.1" {print $3}')")
case "$loader" in /usr/lib/* | /lib/*) system_loader=1 ;; *) system_loader=0 ;; esac
if [ "$system_loader" = 0 ] && grep -q ' opencl ' "$tmp/none"; then
    echo "note: this machine's OpenCL loader ($loader, not the system's) ignores OCL_ICD_VENDORS: the no-OpenCL case is not checked here"
else
    expect "no-OpenCL list shows host" grep -q -E '^\*0 +host ' "$tmp/none"
    expect "no-OpenCL list has no OpenCL row" sh -c "! grep -q ' opencl ' '$tmp/none'"
    expect "no-OpenCL list says how to get PoCL" grep -q 'pocl-opencl-icd' "$tmp/none"
    OCL_ICD_VENDORS="$tmp/no-vendors" "$nncl" --device list --json >"$tmp/none.json" 2>/dev/null
    expect "no-OpenCL JSON is host only" python3 -c "import json,sys; d=json.load(open('$tmp/none.json')); sys.exit(not (len(d)==1 and d[0]['backend']=='host'))"
fi

"$nncl" devices --json >"$tmp/json2" 2>&1
expect "nncl devices --json prints the same JSON as --device list --json" cmp -s "$tmp/json" "$tmp/json2"
"$nncl" devices --frob >/dev/null 2>&1
expect "nncl devices with another argument exits 2" test $? -eq 2

# Bad choices: exit 2 and the listing.
"$nncl" train --device 99 >"$tmp/bad" 2>&1
expect "train --device 99 exits 2" test $? -eq 2
expect "train --device 99 names the choice" grep -q 'no device 99' "$tmp/bad"
expect "train --device 99 lists the devices" grep -q 'host' "$tmp/bad"
"$nncl" --device no-such-thing train >"$tmp/bad2" 2>&1
expect "an unknown name exits 2" test $? -eq 2
expect "an unknown name is quoted" grep -q "no-such-thing" "$tmp/bad2"
NNCL_DEVICE=no-such-thing "$nncl" --device list >"$tmp/bad3" 2>&1
expect "a bad NNCL_DEVICE exits 2" test $? -eq 2
expect "a bad NNCL_DEVICE is named" grep -q "NNCL_DEVICE" "$tmp/bad3"
"$nncl" --device >"$tmp/bad4" 2>&1
expect "--device without a value exits 2" test $? -eq 2
"$nncl" frobnicate >"$tmp/bad5" 2>&1
expect "an unknown command exits 2" test $? -eq 2

# Selecting host by name, and by NNCL_DEVICE.
NNCL_DEVICE=host "$nncl" --device list >"$tmp/envhost" 2>&1
expect "NNCL_DEVICE=host makes host the default" grep -q -E '^\*[0-9]+ +host ' "$tmp/envhost"

# ---- "host" never asks OpenCL ------------------------------------------------------------
# A driver that crashes as it starts (tests/fake_icd_crash.c, named in an ICD
# file) kills whatever lists the OpenCL platforms; a choice of "host" (or
# NNCL_DEVICE=host) opens the host alone, so every command that trains or
# runs on it still works. Under CUDA's loader (which ignores OCL_ICD_VENDORS)
# the fake is never loaded: said, and skipped.
echo "$fake_icd" >"$tmp/crash.icd"
crash() { OCL_ICD_VENDORS="$tmp/crash.icd" "$@"; }
crash "$nncl" --device list >"$tmp/crash-list" 2>&1
crash_rc=$?
if [ "$system_loader" = 0 ] && [ "$crash_rc" -eq 0 ]; then
    echo "note: this machine's OpenCL loader ($loader) ignores OCL_ICD_VENDORS: the crashing driver is not checked here"
else
    expect "the crashing driver kills --device list (the case can fail)" \
        sh -c "test $crash_rc -ne 0 && grep -q 'fake OpenCL driver' '$tmp/crash-list'"
    h="$tmp/crash-host"
    crash "$nncl" train --device host --limit 2000 --epochs 1 --layers 16 --no-report --profile --out "$h" >"$tmp/crash-train" 2>&1
    expect "train --device host beside it exits 0" test $? -eq 0
    expect "...and says the device is the host, with no index" grep -q '^device     host: host (plain C' "$tmp/crash-train"
    expect "...its --profile says no listing was made" grep -q 'no listing (the host chosen: OpenCL not asked)' "$tmp/crash-train"
    expect "...config.json's device index is null, summary.json's listing empty" python3 -c "
import json; c = json.load(open('$h/config.json'))['device']; s = json.load(open('$h/summary.json'))['startup']
assert c['index'] is None and c['backend'] == 'host', c
assert s['listing'] == [] and s['listing_seconds'] < 0.05, s"
    NNCL_DEVICE=host crash "$nncl" train --limit 2000 --epochs 1 --layers 16 --no-report --out "$tmp/crash-env" >"$tmp/crash-env.log" 2>&1
    expect "NNCL_DEVICE=host train beside it exits 0" test $? -eq 0
    crash "$nncl" train --resume "$h" --epochs 2 >"$tmp/crash-resume" 2>&1
    expect "resuming a host run (its own device) beside it exits 0" test $? -eq 0
    crash "$nncl" eval "$h" --device host >"$tmp/crash-eval" 2>&1
    expect "eval --device host beside it exits 0" sh -c "test $? -eq 0 && grep -q '^device   host: host' '$tmp/crash-eval'"
    crash "$nncl" bench --device host >"$tmp/crash-bench" 2>&1
    expect "bench --device host beside it exits 0" sh -c "test $? -eq 0 && grep -q '^device host: host' '$tmp/crash-bench'"
    crash "$nncl" check --device host --quick >"$tmp/crash-check" 2>&1
    expect "check --device host beside it exits 0, checking the host alone" sh -c "test $? -eq 0 &&
        grep -q '^device host: host' '$tmp/crash-check' && grep -q '^host grad .*PASS' '$tmp/crash-check' &&
        grep -q '2 checks on 1 device: all passed' '$tmp/crash-check'"
    crash "$nncl" check --device host --quick --json >"$tmp/crash-check.json" 2>&1
    expect "...its JSON gives the host no index" python3 -c "
import json, sys
o = json.load(open(sys.argv[1]))
assert o['ok'] and [d['index'] for d in o['devices']] == [None], o['devices']
assert all(c['device'] is None for c in o['checks']), o['checks']" "$tmp/crash-check.json"
    crash "$nncl" eval "$h" >"$tmp/crash-eval2" 2>&1
    expect "eval choosing its own device does list OpenCL (and meets the crash)" test $? -ne 0
fi

# Words for a kind of device: a type or a platform's usual name.
if grep -q 'Portable Computing Language' "$tmp/list"; then
    for w in pocl PoCL cpu; do
        NNCL_DEVICE=$w "$nncl" --device list >"$tmp/word" 2>&1
        expect "the word '$w' picks PoCL's CPU device" grep -q -E '^\*[0-9]+ +opencl +cpu .*Portable Computing Language' "$tmp/word"
    done
fi
for w in gpu accelerator nvidia; do
    if ! grep -q -i -E " $w " "$tmp/list" && ! { [ $w = nvidia ] && grep -q -i nvidia "$tmp/list"; }; then
        NNCL_DEVICE=$w "$nncl" --device list >"$tmp/word" 2>&1
        expect "the word '$w' with no such device exits 2 naming it" sh -c "test $? -eq 2 && grep -q \"'$w'\" '$tmp/word'"
    fi
done

# ---- the default follows the measured training speed ------------------------------------
# nncl bench keeps each device's training speed in the cache folder; once two
# or more devices are measured, the fastest is the default (an unmeasured
# device ranked before it keeps the first place); entries for another driver,
# or that do not add up, are ignored; NNCL_DEVICE still wins.
speed="$tmp/speed-cache"
XDG_CACHE_HOME="$speed" NNCL_TUNE=off "$nncl" bench --device host >"$tmp/bench.log" 2>&1
expect "bench --device host exits 0" test $? -eq 0
expect "...and keeps its training speed" sh -c "grep -q '^train_samples_per_second=' '$speed'/nncl/speed-*.txt"
XDG_CACHE_HOME="$speed" "$nncl" --device list --json >"$tmp/speed.json" 2>&1
expect "--device list --json gives host's train_samples_per_second" python3 -c "
import json; d = json.load(open('$tmp/speed.json'))
assert d[-1]['train_samples_per_second'] > 0 and all(r['train_samples_per_second'] is None for r in d[:-1]), d"
if grep -q -E '^[ *]0 +opencl ' "$tmp/list"; then
    # bench's own entries, then chosen speeds written into them (keeping
    # their names and keys, with a checksum that adds up unless broken)
    # every OpenCL device (an unmeasured one ranked before host would keep its place)
    for i in $(grep -E '^[ *][0-9]+ +opencl ' "$tmp/list" | sed 's/^.//' | awk '{print $1}'); do
        XDG_CACHE_HOME="$speed" NNCL_TUNE=off "$nncl" bench --device "$i" >/dev/null 2>&1
    done
    names=$(ls "$speed"/nncl/speed-*.txt)
    default_of() { XDG_CACHE_HOME="$speed" "$nncl" --device list 2>&1 | grep -E '^\*[0-9]+ ' | awk '{print $2}'; }
    # keep bench's file names: write the chosen speeds into them in place
    set_speed() {  # set_speed FILE SPEED [BREAK]
        python3 - "$1" "$2" "${3:-}" <<'PY'
import sys, zlib
p, sps, brk = sys.argv[1:4]
t = open(p).read().split('crc=')[0]
lines = [l for l in t.splitlines() if not l.startswith('train_samples_per_second=')]
if brk == 'driver':
    lines = [('driver=older ' + l[7:]) if l.startswith('driver=') else l for l in lines]
t = '\n'.join(lines) + '\ntrain_samples_per_second=%s\n' % sps
crc = zlib.crc32(t.encode()) ^ (1 if brk == 'crc' else 0)
open(p, 'w').write(t + 'crc=%08x\n' % crc)
PY
    }
    host_file=$(grep -l '^device=host' $names)
    set_speed "$host_file" 99999.0
    for other_file in $(grep -L '^device=host' $names); do
        set_speed "$other_file" 1000.0
    done
    expect "host measured fastest: host is the default" test "$(default_of)" = host
    expect "...and the listing says why" sh -c "XDG_CACHE_HOME='$speed' '$nncl' --device list | grep -q 'the fastest for training as measured'"
    expect "...and NNCL_DEVICE=0 still wins" sh -c "XDG_CACHE_HOME='$speed' NNCL_DEVICE=0 '$nncl' --device list | grep -q -E '^\*0 '"
    set_speed "$host_file" 99999.0 crc
    expect "an entry that does not add up is ignored: the first device is the default" test "$(default_of)" = opencl
    set_speed "$host_file" 99999.0 driver
    expect "an entry for another driver is ignored" test "$(default_of)" = opencl
    set_speed "$host_file" 500.0
    expect "the OpenCL device measured faster stays the default" test "$(default_of)" = opencl

    # nncl train left to choose its device measures, once, every device with
    # no figure, and then trains on the fastest; NNCL_TUNE=off, NNCL_DEVICE
    # and --device skip that
    rm -f "$speed"/nncl/speed-*.txt
    small_train() { "$nncl" train --limit 2000 --epochs 1 --layers 16 --quiet --no-report "$@"; }
    XDG_CACHE_HOME="$speed" NNCL_TUNE=off small_train --out "$tmp/t-off" >"$tmp/t-off.log" 2>&1
    expect "NNCL_TUNE=off: nncl train measures nothing" sh -c "! grep -q 'measuring the training speed' '$tmp/t-off.log' && ! ls '$speed'/nncl/speed-*.txt 2>/dev/null"
    XDG_CACHE_HOME="$speed" NNCL_TUNE=cached small_train --device host --out "$tmp/t-dev" >"$tmp/t-dev.log" 2>&1
    expect "--device: nncl train measures nothing" sh -c "! grep -q 'measuring the training speed' '$tmp/t-dev.log'"
    XDG_CACHE_HOME="$speed" NNCL_TUNE=cached small_train --out "$tmp/t-first" >"$tmp/t-first.log" 2>&1
    expect "a bare nncl train exits 0 after measuring" test $? -eq 0
    expect "...says it measures every device once" grep -q "measuring the training speed of $(grep -c -E '^[ *][0-9]+ ' "$tmp/list") devices once" "$tmp/t-first.log"
    expect "...and keeps a figure for each" test "$(ls "$speed"/nncl/speed-*.txt | wc -l)" -eq "$(grep -c -E '^[ *][0-9]+ ' "$tmp/list")"
    XDG_CACHE_HOME="$speed" "$nncl" --device list --json >"$tmp/measured.json" 2>&1
    expect "...and the default is the fastest of them, the device that run trained on" python3 -c "
import json; d = json.load(open('$tmp/measured.json')); s = json.load(open('$tmp/t-first/summary.json'))
best = max(d, key=lambda r: r['train_samples_per_second'])
assert best['default'] and all(r['train_samples_per_second'] > 0 for r in d), d
assert json.dumps(s).find(best['name']) >= 0, (best['name'], s)"
    XDG_CACHE_HOME="$speed" NNCL_TUNE=cached small_train --out "$tmp/t-second" >"$tmp/t-second.log" 2>&1
    expect "a second bare run measures nothing" sh -c "! grep -q 'measuring the training speed' '$tmp/t-second.log'"
fi

# ---- OpenBLAS's kernels: the host row names them, and a wrong choice is said --------------
# (OpenBLAS takes its kernels from CPUID when it loads, or from
# OPENBLAS_CORETYPE; on some VMs it has taken an AVX-512 Xeon for a Prescott)
if "$nncl" --device list --json | python3 -c "import json,sys; sys.exit(0 if 'openblas' in json.load(sys.stdin)[-1]['driver_version'] else 1)"; then
    if grep -q -E ' avx512f| avx2' /proc/cpuinfo; then
        OPENBLAS_CORETYPE=Prescott "$nncl" --device list >"$tmp/blas-bad" 2>&1
        expect "OpenBLAS on Prescott kernels on this CPU: --device list says so and names OPENBLAS_CORETYPE" \
            grep -q "note: host: OpenBLAS runs its Prescott kernels on this CPU.*OPENBLAS_CORETYPE=" "$tmp/blas-bad"
        expect "...and the host row's driver names them" grep -q "openblas Prescott" "$tmp/blas-bad"
        right=$(grep -q ' avx512f' /proc/cpuinfo && echo SkylakeX || echo Haswell)
        OPENBLAS_CORETYPE=$right "$nncl" --device list >"$tmp/blas-good" 2>&1
        expect "with OPENBLAS_CORETYPE=$right: no note" sh -c "! grep -q 'note: host: OpenBLAS' '$tmp/blas-good'"
    fi
fi

finish
