#!/bin/sh
# The GPU path, measured in one go on a machine lent for a few minutes (an
# NVIDIA GPU reached with nothing but the working tree: no network, maybe no
# compiler, no OpenCL loader, none of nncl's libraries). Two halves:
#
#   sh tools/gpu_check.sh --prepare
#       HERE, on the build machine: build (build/, release) and fill gpu-carry/
#       (ignored by git) with what the other machine may lack: a copy of the
#       built binaries and meson's test list (gpu-carry/build), Debian's OpenCL
#       ICD loader as a .deb (gpu-carry/debs), every shared library the
#       binaries need but glibc, and two DejaVu fonts (gpu-carry/libs.tar.xz).
#       It prints the exact command to run there and what travels.
#
#   sh tools/gpu_check.sh OUTDIR [ARCHIVE.tar.gz]
#       THERE: use the machine's own libraries where it has them and the
#       carried ones where it does not (never installing anything: the .debs are
#       unpacked into a temporary folder, LD_LIBRARY_PATH points there); register
#       the NVIDIA OpenCL library (libnvidia-opencl.so.1) in an ICD file of a
#       temporary folder (OCL_ICD_VENDORS, the only OpenCL vendor then, so the GPU
#       is device 0); then, each step with its own time limit, all within
#       GPU_CHECK_BUDGET seconds (560): nvidia-smi -q (read-only: no GPU setting
#       is ever changed), nncl --device list, nncl tune --device 0 --quick, nncl
#       check --device 0, nncl bench on device 0 (FP32 peak from the SM count,
#       the compute capability and the maximum SM clock), on host, and on
#       device 0 with K never split (NNCL_GEMM_SPLITK=off), the bare
#       `nncl train --device 0` twice (each with its start-up's parts from
#       summary.json), one epoch of it with --profile (every op waited for),
#       `--device host` once and on an OpenCL
#       CPU device if there is one, timed (wall), the full `nncl tune
#       --device 0` (every set of the table, each one's build and check
#       seconds and GFLOP/s) and nncl bench after it (bench-gpu-full), the
#       local-memory GEMM sets of tools/gemmlab/sweep_sets.txt each on its
#       own (gemm-sweep), a 2048^3 FP32 GEMM in PyTorch (cuBLAS, TF32 off)
#       as the peer, the host's tutorial step, `--preset tutorial`, the bare
#       run and a small CNN through the patch-matrix convolutions on all
#       cores and on two (host-cores), and the whole test suite with NNCL_REQUIRE_OPENCL=1, run from meson's test list
#       without meson. Every log and JSON goes to OUTDIR; OUTDIR/summary.txt has
#       each step's status and seconds and the figures. A failing step does not
#       stop the others. With ARCHIVE, OUTDIR is packed into it after each step
#       (the device tool brings back 8 files at most). Exit status 0 when every
#       step passed.
#
# Knobs (environment): GPU_CHECK_BUDGET (seconds, 560), GPU_CHECK_CARRY
# (gpu-carry), GPU_CHECK_BUILD (the build folder to run: GPU_CHECK_CARRY/build,
# else build), GPU_CHECK_VENDOR_LIB (the OpenCL driver library to register,
# instead of searching for GPU_CHECK_VENDOR_NAME, libnvidia-opencl.so.1),
# GPU_CHECK_TESTS_RESERVE (seconds the steps before the test suite leave it, 150),
# GPU_CHECK_EXPECT (the type device 0 must have: gpu), GPU_CHECK_USE_CARRIED
# (sonames to take from the carry although the machine has them, or "all": a
# rehearsal of a bare machine), GPU_CHECK_SKIP (step names), GPU_CHECK_JOBS
# (tests run at once), NNCL_PEAK_GFLOPS (the FP32 peak, if known better).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
carry=${GPU_CHECK_CARRY:-$root/gpu-carry}
vendor_name=${GPU_CHECK_VENDOR_NAME:-libnvidia-opencl.so.1}

say() { printf '%s\n' "$*" 2>/dev/null; }
now() { date +%s.%N; }
# Every library a program of the build needs but those glibc itself provides.
glibc_libs='linux-vdso.so.1|ld-linux-x86-64.so.2|libc.so.6|libm.so.6|libpthread.so.0|libdl.so.2|librt.so.1|libresolv.so.2|libutil.so.1'

lddx() {
    if command -v ldd >/dev/null 2>&1; then ldd "$@" 2>&1; else /lib64/ld-linux-x86-64.so.2 --list "$@" 2>&1; fi
}

# ELF executables and libraries of a build folder (objects excluded).
build_elves() {
    find "$1" -name '*.p' -prune -o -type f \( -perm -u+x -o -name '*.so*' \) -print 2>/dev/null |
        while read -r f; do
            [ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ] && say "$f"
        done
}

# ------------------------------------------------------------------ prepare
prepare() {
    cd "$root" || exit 1
    build=${GPU_CHECK_SRC_BUILD:-build}
    command -v xz >/dev/null 2>&1 || { say "gpu_check: --prepare needs xz" >&2; exit 1; }
    if [ ! -f "$build/build.ninja" ]; then
        meson setup "$build" --buildtype=release >/dev/null || exit 1
    fi
    ninja -C "$build" >/dev/null || { say "gpu_check: the build failed (ninja -C $build)" >&2; exit 1; }
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    new="$carry.new"
    rm -rf "$new"
    mkdir -p "$new/build" "$new/debs" "$tmp/pack/lib" "$tmp/pack/fonts"

    # The build: binaries, libnncl, meson's introspection (the test list).
    tar -C "$build" --exclude='*.p' --exclude=meson-private --exclude=meson-logs --exclude=cache \
        --exclude='*.ninja' --exclude='.ninja*' --exclude=compile_commands.json --exclude='*.c' \
        --exclude='*.h' --exclude=.gitignore --exclude=.hgignore -cf - . | tar -C "$new/build" -xf - || exit 1

    # The libraries they need, but glibc's own and the build's own.
    build_elves "$new/build" >"$tmp/elves"
    # shellcheck disable=SC2046
    for f in $(cat "$tmp/elves"); do lddx "$f"; done |
        awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}' | sort -u |
        grep -Ev "^($glibc_libs|libnncl\.so[.0-9]*) " >"$tmp/libs"
    ocl_deb=""
    for d in /var/cache/apt/archives "$tmp"; do
        ocl_deb=$(ls "$d"/ocl-icd-libopencl1_*_amd64.deb 2>/dev/null | tail -1)
        [ -n "$ocl_deb" ] && break
        [ "$d" = "$tmp" ] || (cd "$tmp" && apt-get download ocl-icd-libopencl1 >/dev/null 2>&1)
    done
    if [ -n "$ocl_deb" ]; then
        cp "$ocl_deb" "$new/debs/"
    fi
    : >"$tmp/manifest-libs"
    while read -r soname path; do
        # The loader travels as Debian's package, where one was found.
        [ "$soname" = libOpenCL.so.1 ] && [ -n "$ocl_deb" ] && continue
        cp -L "$path" "$tmp/pack/lib/$soname" || exit 1
        pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null || dpkg -S "$path" 2>/dev/null)
        pkg=${pkg%%:*}
        ver=$( [ -n "$pkg" ] && dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null)
        say "  $soname  ${pkg:-?} ${ver:-}" >>"$tmp/manifest-libs"
    done <"$tmp/libs"
    # The report's frames are drawn in DejaVu Sans (cairo's toy font API, through
    # fontconfig): used there only when the machine has no fontconfig set-up.
    for f in DejaVuSans.ttf DejaVuSans-Bold.ttf; do
        [ -f "/usr/share/fonts/truetype/dejavu/$f" ] && cp "/usr/share/fonts/truetype/dejavu/$f" "$tmp/pack/fonts/"
    done
    say "packing $(wc -l <"$tmp/libs") libraries (xz, about a minute)..."
    tar -C "$tmp/pack" -cf - lib fonts | xz -T0 -6 >"$new/libs.tar.xz" || exit 1

    {
        say "prepared $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -n) ($(. /etc/os-release && say "$PRETTY_NAME"), glibc $(ldd --version | head -1 | awk '{print $NF}'))"
        if git rev-parse HEAD >/dev/null 2>&1; then
            dirty=$(git status --porcelain --untracked-files=no | wc -l)
            say "commit $(git rev-parse HEAD)$( [ "$dirty" -gt 0 ] && say " + $dirty changed files, diff sha256 $(git diff HEAD | sha256sum | cut -c1-16)")"
        fi
        say "build $(cd "$build" && pwd) (source $root)"
        if [ -n "$ocl_deb" ]; then
            say "OpenCL ICD loader: debs/$(basename "$ocl_deb") (used there only where the machine has none)"
        else
            say "OpenCL ICD loader: no ocl-icd-libopencl1 .deb found; libOpenCL.so.1 is in libs.tar.xz"
        fi
        say "libraries in libs.tar.xz (used there only where the machine lacks them):"
        cat "$tmp/manifest-libs"
    } >"$new/MANIFEST"
    rm -rf "$carry"
    mv "$new" "$carry"
    cat "$carry/MANIFEST"
    carried=$(du -sk "$carry" | cut -f1)
    tree=$(git ls-files -z --cached --others --exclude-standard 2>/dev/null | xargs -0 du -ck 2>/dev/null | tail -1 | cut -f1)
    [ -d shared ] && tree=$((tree + $(du -sk shared | cut -f1)))
    say ""
    say "gpu-carry/: $((carried / 1024)) MiB; with the working tree that travels: about $(((carried + tree) / 1024)) MiB (limit 64)"
    say "run there (device tool), carry [\"gpu-carry\"], timeout_s 600:"
    say "  sh tools/gpu_check.sh /tmp/gpu-check \$OUT/gpu-check.tar.gz; cp /tmp/gpu-check/summary.txt \$OUT/"
}

case "${1:-}" in
--prepare) prepare; exit $? ;;
"" | -h | --help)
    sed -n '2,/^set -u/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
    [ $# -eq 0 ] && exit 2
    exit 0 ;;
esac

# ------------------------------------------------------------------ the check
out=$1
archive=${2:-}
mkdir -p "$out" || exit 2
out=$(cd "$out" && pwd)
rm -f "$out/summary.txt" "$out/steps.tsv"
budget=${GPU_CHECK_BUDGET:-560}
start=$(now)
T=$(mktemp -d /tmp/nncl-gpu-check.XXXXXX)
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM HUP
trap '' PIPE        # a closed stdout must not stop the check: everything is in OUTDIR
mkdir -p "$T/pool" "$T/lib" "$T/icd" "$T/cache" "$T/work" "$T/root"

# ---- helpers (Python 3, standard library only), written out once
cat >"$T/ar_extract.py" <<'END_AR_EXTRACT'
# Unpack a .deb's files without dpkg: ar_extract.py DEB DIR.
import io, sys, tarfile
data = open(sys.argv[1], 'rb').read()
assert data[:8] == b'!<arch>\n', 'not an ar archive'
pos = 8
while pos < len(data):
    name = data[pos:pos + 16].decode().strip().rstrip('/')
    size = int(data[pos + 48:pos + 58].decode().strip())
    body = data[pos + 60:pos + 60 + size]
    if name.startswith('data.tar'):
        tarfile.open(fileobj=io.BytesIO(body)).extractall(sys.argv[2])
    pos += 60 + size + (size & 1)
END_AR_EXTRACT
cat >"$T/peak.py" <<'END_PEAK'
# The FP32 peak from nvidia-smi's CSV line and nncl's device list: peak.py GPU_CSV DEVICES_JSON.
import json, sys
name, cc, max_mhz = [s.strip() for s in open(sys.argv[1]).readline().split(',')][:3]
cus = json.load(open(sys.argv[2]))[0]['compute_units']
major, minor = (int(x) for x in cc.split('.'))
# FP32 lanes per SM: GP100, GV100, GA100 and Turing have 64; GP10x, GA10x, AD10x, Hopper, Blackwell 128.
lanes = {(6, 0): 64, (7, 0): 64, (7, 2): 64, (7, 5): 64, (8, 0): 64}.get((major, minor), 128)
print('%.0f %d SMs x %d FP32 lanes x 2 x %s MHz (compute capability %s, %s)' % (cus * lanes * 2 * float(max_mhz) / 1000, cus, lanes, max_mhz, cc, name))
END_PEAK
cat >"$T/torch_gemm.py" <<'END_TORCH_GEMM'
# The peer: a 2048^3 FP32 GEMM through cuBLAS (PyTorch, TF32 off).
import json, time, torch
assert torch.cuda.is_available(), 'torch sees no CUDA device'
torch.backends.cuda.matmul.allow_tf32 = False
torch.set_float32_matmul_precision('highest')
n = 2048
a = torch.randn(n, n, device='cuda')
b = torch.randn(n, n, device='cuda')
for _ in range(20):
    c = a @ b
torch.cuda.synchronize()
rounds = []
for _ in range(5):
    reps = 0
    t0 = time.perf_counter()
    while True:
        for _ in range(20):
            c = a @ b
        reps += 20
        torch.cuda.synchronize()
        if time.perf_counter() - t0 > 0.25:
            break
    rounds.append((time.perf_counter() - t0) / reps)
sec = sorted(rounds)[len(rounds) // 2]
print(json.dumps({'op': 'torch.matmul fp32 (TF32 off)', 'n': n, 'seconds': sec,
                  'gflops': 2 * n ** 3 / sec * 1e-9, 'device': torch.cuda.get_device_name(0),
                  'torch': torch.__version__}))
END_TORCH_GEMM
cat >"$T/run_tests.py" <<'END_RUN_TESTS'
"""Run meson's tests (BUILD/meson-info/intro-tests.json) as `meson test`
does, with the paths of the machine that built them mapped to this one's:
run_tests.py BUILD SOURCE LOGDIR SECONDS [JOBS]."""
import json, os, shutil, signal, subprocess, sys, threading, time
from concurrent.futures import ThreadPoolExecutor

build, src, logdir, seconds = sys.argv[1:5]
jobs = sys.argv[5] if len(sys.argv) > 5 else ''
deadline = time.monotonic() + float(seconds)
info = json.load(open(os.path.join(build, 'meson-info', 'meson-info.json')))['directories']
old_build, old_src = os.path.normpath(info['build']), os.path.normpath(info['source'])
tests = json.load(open(os.path.join(build, 'meson-info', 'intro-tests.json')))
os.makedirs(logdir, exist_ok=True)
print('%d tests from %s (built in %s from %s)' % (len(tests), build, old_build, old_src), flush=True)


def here(s):
    """A path (or a PATH-like list) of the building machine, as it is here."""
    parts = s.split(':')
    for i, p in enumerate(parts):
        if p.startswith('/'):
            n = os.path.normpath(p)
            for old, new in ((old_build, build), (old_src, src)):
                if n == old or n.startswith(old + '/'):
                    parts[i] = new + n[len(old):]
                    break
    return ':'.join(parts)


lock = threading.Lock()
done = []


def run(t):
    name = t['name']
    log = os.path.join(logdir, name + '.log')
    cmd = [here(c) for c in t['cmd']]
    if cmd[0].startswith('/') and not os.path.exists(cmd[0]):
        cmd[0] = shutil.which(os.path.basename(cmd[0])) or cmd[0]     # /usr/bin/sh elsewhere
    env = dict(os.environ)
    for k, v in (t.get('env') or {}).items():
        v = here(v)
        if k.endswith('PATH') and os.environ.get(k) and v:
            v = v + ':' + os.environ[k]       # keep the carried libraries' folder
        env[k] = v
    cwd = here(t['workdir']) if t.get('workdir') else build
    timeout = float(t.get('timeout') or 30)
    limit = min(timeout, deadline - time.monotonic())
    start = time.monotonic()
    rc, status = None, None
    if limit < 1:
        status = 'NOT RUN'
    else:
        with open(log, 'w') as f:
            f.write('$ cd %s && %s\n' % (cwd, ' '.join(cmd)))
            f.flush()
            try:
                p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=f, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
                try:
                    rc = p.wait(timeout=limit)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGTERM)     # its traps remove its files
                    try:
                        p.wait(timeout=5)
                    except subprocess.TimeoutExpired:
                        pass
                    try:
                        os.killpg(p.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    p.wait()
                    status = 'TIMEOUT' if limit >= timeout else 'OUT OF TIME'
            except OSError as e:
                f.write('cannot start: %s\n' % e)
                status = 'ERROR'
        if status is None:
            status = 'OK' if rc == 0 else 'SKIP' if rc == 77 else 'FAIL'
    sec = time.monotonic() - start
    lines = []
    if status not in ('OK', 'SKIP', 'NOT RUN') and os.path.exists(log):
        words = ('FAIL', ':F:', ':E:', 'Assertion', 'error', 'Error', 'failed', 'Timeout', 'not found', 'cannot')
        for line in open(log, errors='replace'):
            if line.startswith('ok:') or ' 0 failed' in line or 'Failures: 0, Errors: 0' in line:
                continue
            if any(w in line for w in words):
                lines.append(line.rstrip()[:300])
        lines.sort(key=lambda l: 0 if 'FAIL' in l or ':F:' in l or ':E:' in l else 1)   # stable
    with lock:
        done.append({'name': name, 'status': status, 'rc': rc, 'seconds': round(sec, 2),
                     'fail_lines': lines[:8]})
        print('%2d/%d %-18s %-11s %7.1f s' % (len(done), len(tests), name, status, sec), flush=True)


n = int(jobs) if jobs else min(os.cpu_count() or 1, 12)
tests.sort(key=lambda t: -float(t.get('timeout') or 30))     # the long ones first
with ThreadPoolExecutor(max(1, n)) as pool:
    list(pool.map(run, [t for t in tests if t.get('is_parallel', True)]))
for t in tests:
    if not t.get('is_parallel', True):
        run(t)
json.dump(done, open(os.path.join(logdir, 'results.json'), 'w'), indent=1)
counts = {}
for d in done:
    counts[d['status']] = counts.get(d['status'], 0) + 1
print('; '.join('%s %d' % kv for kv in sorted(counts.items())))
sys.exit(0 if all(d['status'] in ('OK', 'SKIP') for d in done) else 1)
END_RUN_TESTS
cat >"$T/summary.py" <<'END_SUMMARY'
"""OUTDIR/summary.txt from the step table and the logs: summary.py OUTDIR BUDGET ELAPSED."""
import json, os, re, sys

out, budget, elapsed = sys.argv[1], sys.argv[2], sys.argv[3]


def load(name):
    try:
        with open(os.path.join(out, name)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def text(name):
    try:
        with open(os.path.join(out, name), errors='replace') as f:
            return f.read()
    except OSError:
        return ''


steps = [l.rstrip('\n').split('\t') for l in text('steps.tsv').splitlines() if l.strip()]
secs = {s[0]: float(s[2]) for s in steps}
status = {s[0]: s[1] for s in steps}
L = ['nncl tools/gpu_check.sh: %d of %s s used' % (int(elapsed), budget)]
for line in text('machine.log').splitlines():
    if line.startswith(('date ', 'host ', 'os ', 'cpus ', 'commit ', 'prepared ')):
        L.append('  ' + line)
L += ['', '%-14s %-8s %8s  %s' % ('step', 'status', 'seconds', 'note')]
for s in steps:
    L.append('%-14s %-8s %8s  %s' % tuple((s + ['', '', '', ''])[:4]))
L.append('')

devs = load('devices.json')
if devs:
    d = devs[0]
    L.append('device 0: %s (%s, %s; %s; %s CUs at %s MHz, %.1f GiB; driver %s)' % (
        d['name'], d['type'], d['backend'], d.get('platform_version', ''), d['compute_units'],
        d['max_clock_mhz'], d['global_mem_bytes'] / 2 ** 30, d.get('driver_version', '')))
peak_line = text('peak.txt').strip()
peak = float(peak_line.split()[0]) if peak_line else 0
if peak_line:
    L.append('FP32 peak: %s GFLOP/s = %s' % (peak_line.split(' ', 1)[0], peak_line.split(' ', 1)[1:] and peak_line.split(' ', 1)[1]))

chk = load('check.json')
if chk:
    bad = [c for c in chk.get('checks', chk.get('results', [])) if isinstance(c, dict) and c.get('result') != 'pass']
    L.append('nncl check --device 0: %s passed, %s failed%s' % (chk.get('passed'), chk.get('failed'),
             '' if not bad else ': ' + '; '.join('%s %s %s' % (c.get('check'), c.get('shape'), c.get('part', '')) for c in bad[:6])))

# the report (sets, the large products' set, GFLOP/s per shape, the fused
# ops), without the progress lines
# (each GEMM candidate's build and check seconds and GFLOP/s among them)
for name, title in (('tune', 'nncl tune --quick (what first use runs)'), ('tune-full', 'nncl tune (the full search)')):
    tune = [l for l in text(name + '.log').strip().splitlines() if l.strip() and not l.startswith('tune: [') and '\r' not in l]
    if tune:
        L.append(title + ':')
        L += ['  ' + l for l in tune[-80:]]


def gemm_rows(name):
    rows = load(name) or []
    return [r for r in rows if r.get('op') == 'gemm'], [r for r in rows if r.get('op') == 'train_step']


g, gstep = gemm_rows('bench-gpu.json')
h, hstep = gemm_rows('bench-host.json')
g_nosplit = {r['shape']: r for r in gemm_rows('bench-gpu-nosplit.json')[0]}
torch = None
for line in text('torch-gemm.log').splitlines():
    if line.startswith('{'):
        torch = json.loads(line)
if g or h:
    L.append('nncl bench, GFLOP/s (device 0 | device 0 with K never split | host):')
    hh = {r['shape']: r for r in h}
    for r in g or h:
        gr = r if g else None
        hr = hh.get(r['shape'])
        nr = g_nosplit.get(r['shape'])
        L.append('  %-14s %5d %5d %5d  %10s %s | %10s | %10s' % (
            r['shape'], r['m'], r['n'], r['k'],
            '%.1f' % gr['gflops'] if gr else '-',
            '(%4.1f%% of peak)' % (100 * gr['peak_fraction']) if gr and gr.get('peak_fraction') else '',
            '%.1f' % nr['gflops'] if nr else '-',
            '%.1f' % hr['gflops'] if hr else '-'))
    sq = [r for r in g if r['shape'] == 'square 2048']
    if sq:
        r = sq[0]
        line = 'GEMM 2048^3 on device 0: %.0f GFLOP/s' % r['gflops']
        frac = r['gflops'] / peak if peak else r.get('peak_fraction')
        if frac:
            line += ' = %.1f%% of the FP32 peak %.0f (target 40%%: %s)' % (100 * frac, r['gflops'] / frac, 'met' if frac >= 0.4 else 'NOT met')
        else:
            line += ' (FP32 peak unknown: no nvidia-smi compute capability; NNCL_PEAK_GFLOPS sets it)'
        if torch:
            line += '; cuBLAS through torch %.0f GFLOP/s, nncl/cuBLAS %.2f' % (torch['gflops'], r['gflops'] / torch['gflops'])
        L.append(line)
    # what the GPU's own multiply-add chains (nncl bench's fma_peak row) reach
    # against the peak computed from the SM count and the maximum clock
    fp = [r for r in (load('bench-gpu.json') or []) if r.get('op') == 'fma_peak']
    if fp and fp[0].get('chains_gflops'):
        c = fp[0]['chains_gflops']
        L.append('FP32 multiply-add chains on device 0 (nncl bench): %.0f GFLOP/s%s' % (
            c, ' = %.1f%% of the computed peak %.0f' % (100 * c / peak, peak) if peak else ''))
    for name, rows in (('device 0', gstep), ('host', hstep)):
        for r in rows:
            L.append('train step 784-128-10 b128 adam on %s: %.3f ms, %.0f samples/s' % (name, r['seconds'] * 1e3, r['samples_per_second']))
if torch and not g:
    L.append('cuBLAS 2048^3 FP32 through torch: %.0f GFLOP/s' % torch['gflops'])
# After the full search (`nncl tune`, every local-memory set timed at 2048^3
# too): what a user who runs it gets.
full = [r for r in gemm_rows('bench-gpu-full.json')[0] if r['shape'] in ('square 1024', 'square 2048')]
for r in full:
    frac = r['gflops'] / peak if peak else r.get('peak_fraction')
    line = 'GEMM %s on device 0 after nncl tune (full): %.0f GFLOP/s' % (r['shape'][7:] + '^3', r['gflops'])
    if frac:
        line += ' = %.1f%% of the FP32 peak' % (100 * frac)
        if r['shape'] == 'square 2048':
            line += ' (target 40%%: %s)' % ('met' if frac >= 0.4 else 'NOT met')
    if torch and r['shape'] == 'square 2048':
        line += '; nncl/cuBLAS %.2f' % (r['gflops'] / torch['gflops'])
    L.append(line)
sweep = [l for l in text('gemm-sweep.log').splitlines() if ' 2048 ' in l]
if sweep:
    def gf(l):
        try:
            return float(l.split()[-2])
        except (ValueError, IndexError):
            return 0.0
    sweep.sort(key=gf, reverse=True)
    L.append('gemm-sweep, 2048^3 (gemm_harness, each set on its own), best first%s:' % (
        ' (FP32 peak %.0f)' % peak if peak else ''))
    L += ['  %s%s' % (l, ' = %.1f%% of peak' % (100 * gf(l) / peak) if peak and gf(l) else '') for l in sweep]

walls = {}
for name in ('train-gpu-1', 'train-gpu-2', 'train-host', 'train-cpu-opencl'):
    log = text(name + '.log')
    m = re.search(r'^test accuracy .*$', log, re.M)
    if name in secs and status.get(name) == 'ok':
        walls[name] = secs[name]
        L.append('bare nncl train (%s): %.2f s wall; %s' % (name, secs[name], m.group(0) if m else 'no final line'))
# Where each bare run's start-up went (summary.json's "startup", in run order).
for f in sorted(os.listdir(out)):
    if not (f.startswith('train-') and f.endswith('.summary.json')):
        continue
    try:
        d = json.load(open(os.path.join(out, f)))
        u = d['startup']
        parts = ', '.join('%s %.2f' % (p['what'], p['seconds']) for p in u.get('listing', []))
        parts = parts or 'none, OpenCL not asked'  # the host chosen by name lists nothing
        L.append('  start-up of %s (%s): %.2f s to the first step: devices listed and one opened %.2f s '
                 '(listing %.2f: %s; opening %.2f), kernels %.2f s (tuning %.2f s), data %.2f s beside them; '
                 'training %.2f s' % (
                     f[6:-13], d['device'], u['seconds'], u['device_seconds'], u.get('listing_seconds', 0), parts,
                     u.get('opening_seconds', 0), u['kernels_seconds'], u['tuning_seconds'], u['data_seconds'],
                     d['seconds']))
    except (OSError, ValueError, KeyError, TypeError):
        pass
prof = text('train-gpu-profile.log').splitlines()
prof = [l for l in prof if l.startswith(('start-up', 'finish'))] + \
    [l for i, l in enumerate(prof) if l.startswith('profile') or (i and prof[i - 1].startswith('profile'))] + \
    [l for l in prof if l.startswith('  ') and re.search(r'\d%$', l)][:10] + \
    [l for l in prof if l.startswith('  total')]
if prof:
    L.append('one epoch on device 0 with every op waited for (train-gpu-profile):')
    L += ['  ' + l for l in prof]
gpu_wall = min([walls[k] for k in ('train-gpu-1', 'train-gpu-2') if k in walls] or [0])
cpus = [(walls[k], k[6:]) for k in ('train-host', 'train-cpu-opencl') if k in walls]
if gpu_wall and cpus:
    best = min(cpus)
    x = best[0] / gpu_wall
    L.append('bare run: best CPU device (%s) %.2f s / device 0 %.2f s = %.2fx (target 3x: %s)' % (
        best[1], best[0], gpu_wall, x, 'met' if x >= 3 else 'NOT met'))
if gpu_wall:
    L.append('bare run on device 0 within 5 s: %s' % ('yes' if gpu_wall <= 5 else 'NO'))
hc = [l for l in text('host-cores.log').splitlines() if l.startswith('threads')]
if hc:
    L.append('the host on all cores against two (host-cores):')
    L += ['  ' + l for l in hc]

res = None
try:
    res = json.load(open(os.path.join(out, 'tests', 'results.json')))
except (OSError, ValueError):
    pass
if res is not None:
    counts = {}
    for r in res:
        counts[r['status']] = counts.get(r['status'], 0) + 1
    L.append('tests (NNCL_REQUIRE_OPENCL=1): %d, %s' % (len(res), ', '.join('%s %d' % kv for kv in sorted(counts.items()))))
    for r in res:
        if r['status'] not in ('OK',):
            L.append('  %-18s %s %.1f s' % (r['name'], r['status'], r['seconds']))
            for l in r.get('fail_lines', []):
                L.append('      ' + l)
smi = text('gpu.csv').strip()
if smi:
    L.append('nvidia-smi: ' + smi)
open(os.path.join(out, 'summary.txt'), 'w').write('\n'.join(L) + '\n')
END_SUMMARY

write_summary() {
    python3 "$T/summary.py" "$out" "$budget" "$(elapsed)" 2>>"$out/summary.err" ||
        { say "(python3 failed: the step table alone)"; cat "$out/steps.tsv"; } >"$out/summary.txt"
}

if [ -n "${GPU_CHECK_BUILD:-}" ]; then
    build=$GPU_CHECK_BUILD
elif [ -x "$carry/build/nncl" ]; then
    build=$carry/build
else
    build=$root/build
fi
build=$(cd "$build" 2>/dev/null && pwd) || build=$root/build
nncl=$build/nncl

elapsed() { awk -v a="$start" -v b="$(now)" 'BEGIN {printf "%d", b - a}'; }
remaining() { echo $((budget - $(elapsed))); }

# record NAME STATUS SECONDS NOTE
record() {
    printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$out/steps.tsv"
    say "   -> $2 ${3}s${4:+  ($4)}"
    write_summary
    pack
}
pack() {
    [ -n "$archive" ] || return 0
    tar -C "$(dirname "$out")" -czf "$archive.tmp" "$(basename "$out")" 2>/dev/null && mv "$archive.tmp" "$archive"
}
skipped() {
    case " ${GPU_CHECK_SKIP:-} " in *" $1 "*) return 0 ;; esac
    return 1
}

# step NAME MAX_SECONDS COMMAND...: run it with its output in OUTDIR/NAME.log,
# within MAX_SECONDS and what is left of the budget.
step() {
    name=$1 max=$2
    shift 2
    if skipped "$name"; then
        say "== $name"
        record "$name" SKIP 0 "GPU_CHECK_SKIP"
        return 0
    fi
    # The steps before the tests leave them GPU_CHECK_TESTS_RESERVE seconds (150).
    left=$(($(remaining) - 5))
    [ "$name" = tests ] || left=$((left - ${GPU_CHECK_TESTS_RESERVE:-150}))
    lim=$max
    [ "$left" -lt "$lim" ] && lim=$left
    say "== $name (limit ${lim}s): $*"
    if [ "$lim" -lt 5 ]; then
        record "$name" NOTRUN 0 "out of time: the budget is ${budget}s"
        return 1
    fi
    s=$(now)
    timeout -k 5 "$lim" "$@" >"$out/$name.log" 2>&1
    rc=$?
    secs=$(awk -v a="$s" -v b="$(now)" 'BEGIN {printf "%.2f", b - a}')
    case $rc in
    0) record "$name" ok "$secs" "" ;;
    124 | 137) record "$name" TIMEOUT "$secs" "killed after ${lim}s" ;;
    *) record "$name" FAIL "$secs" "exit $rc; see $name.log" ;;
    esac
    return $rc
}

# note NAME STATUS NOTE: a step done by the script itself.
note() {
    say "== $1"
    record "$1" "$2" 0 "$3"
}

# ---- the machine
{
    say "date       $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    say "host       $(uname -a)"
    say "os         $( (. /etc/os-release && say "$PRETTY_NAME") 2>/dev/null)"
    say "glibc      $(ldd --version 2>/dev/null | head -1)"
    say "cpus       $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
    say "memory     $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
    say "user       $(id)"
    say "python3    $(command -v python3) $(python3 --version 2>&1)"
    say "tools      $(for t in meson ninja cc gcc pkg-config dpkg dpkg-deb ldconfig nvidia-smi clinfo xz; do command -v $t >/dev/null 2>&1 && printf '%s ' $t; done)"
    say "repo       $root"
    say "build      $build"
    say "carry      $carry"
    say "env        LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-} OCL_ICD_VENDORS=${OCL_ICD_VENDORS:-} NVIDIA_VISIBLE_DEVICES=${NVIDIA_VISIBLE_DEVICES:-} NVIDIA_DRIVER_CAPABILITIES=${NVIDIA_DRIVER_CAPABILITIES:-}"
    say ""
    [ -f "$carry/MANIFEST" ] && cat "$carry/MANIFEST"
} >"$out/machine.log" 2>&1
note machine ok "machine.log"

# ---- nvidia-smi, read-only
if command -v nvidia-smi >/dev/null 2>&1; then
    step nvidia-smi 30 sh -c 'nvidia-smi; nvidia-smi -q' &&
        timeout 20 nvidia-smi --query-gpu=name,compute_cap,clocks.max.sm,clocks.sm,driver_version,memory.total \
            --format=csv,noheader,nounits >"$out/gpu.csv" 2>/dev/null
else
    note nvidia-smi SKIP "no nvidia-smi on this machine"
fi

# ---- the build
if [ ! -x "$nncl" ]; then
    # No carried build: build here if the machine can (it rarely can: the -dev packages).
    if command -v meson >/dev/null 2>&1 && command -v ninja >/dev/null 2>&1 && command -v cc >/dev/null 2>&1; then
        build=$root/build-gpu-check
        nncl=$build/nncl
        step build 240 sh -c "cd '$root' && { [ -f '$build/build.ninja' ] || meson setup '$build' --buildtype=release; } && ninja -C '$build'"
    else
        note build FAIL "no $nncl and no meson/ninja/cc to build one: run tools/gpu_check.sh --prepare and carry gpu-carry"
    fi
fi

# ---- the runtime libraries: the machine's own first, the carried ones where it has none
{
    say "pool of carried libraries:"
    if [ -f "$carry/libs.tar.xz" ]; then
        tar -C "$T/pool" -xJf "$carry/libs.tar.xz" 2>/dev/null ||
            python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$carry/libs.tar.xz" "$T/pool"
        say "  $carry/libs.tar.xz: $(ls "$T/pool/lib" 2>/dev/null | wc -l) libraries"
    else
        say "  no $carry/libs.tar.xz"
    fi
    mkdir -p "$T/pool/lib"
    for deb in "$carry"/debs/*.deb; do
        [ -f "$deb" ] || continue
        # Unpacked, never installed: dpkg-deb -x, else Python reads the ar archive.
        if ! dpkg-deb -x "$deb" "$T/root" 2>/dev/null; then
            python3 "$T/ar_extract.py" "$deb" "$T/root" || say "  could not unpack $deb"
        fi
        say "  $deb: unpacked into $T/root"
    done
    for f in "$T"/root/usr/lib/x86_64-linux-gnu/*.so.* "$T"/root/lib/x86_64-linux-gnu/*.so.*; do
        [ -e "$f" ] && ln -sf "$(readlink -f "$f")" "$T/pool/lib/$(basename "$f")"
    done
    say ""
    export LD_LIBRARY_PATH="$T/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    elves=$(build_elves "$build")
    # Rehearsal: take these from the carry although the machine has them.
    use=$(say "${GPU_CHECK_USE_CARRIED:-}" | tr ',' ' ')
    [ "$use" = all ] && use=$(ls "$T/pool/lib")
    for so in $use; do
        if [ -e "$T/pool/lib/$so" ]; then
            ln -sf "$(readlink -f "$T/pool/lib/$so")" "$T/lib/$so"
            say "carried (GPU_CHECK_USE_CARRIED): $so"
        fi
    done
    # Missing libraries from the pool, until none is missing or the pool has none of them.
    i=0
    while [ $i -lt 8 ]; do
        i=$((i + 1))
        # shellcheck disable=SC2086
        missing=$(for f in $elves; do lddx "$f"; done | awk '/=> not found/ {print $1}' | sort -u)
        [ -n "$missing" ] || break
        progress=0
        for so in $missing; do
            if [ -e "$T/pool/lib/$so" ] && [ ! -e "$T/lib/$so" ]; then
                ln -sf "$(readlink -f "$T/pool/lib/$so")" "$T/lib/$so"
                say "carried (missing here): $so"
                progress=1
            fi
        done
        [ $progress -eq 1 ] || break
    done
    # shellcheck disable=SC2086
    missing=$(for f in $elves; do lddx "$f"; done | awk '/=> not found/ {print $1}' | sort -u | tr '\n' ' ')
    say ""
    say "ldd $nncl:"
    lddx "$nncl"
    say ""
    say "still missing: ${missing:-none}"
    say "$missing" >"$T/missing"
} >"$out/runtime.log" 2>&1
missing=$(cat "$T/missing")
taken=$(ls "$T/lib" | tr '\n' ' ')
loader=$(lddx "$nncl" | awk '$1 == "libOpenCL.so.1" {print $3}')
case "$loader" in
"$T"/lib/*) loader_note="carried ocl-icd ($(basename "$(ls "$carry"/debs/ocl-icd-libopencl1_*.deb 2>/dev/null | tail -1)" 2>/dev/null))" ;;
"" | not) loader_note="none" ;;
*) loader_note="the machine's own: $(readlink -f "$loader")" ;;
esac
nncl_ok=1
if [ ! -x "$nncl" ]; then
    nncl_ok=0
    note runtime FAIL "no nncl binary at $nncl: run tools/gpu_check.sh --prepare and carry gpu-carry"
elif [ -n "${missing% }" ]; then
    note runtime FAIL "MISSING libraries, neither on this machine nor carried: ${missing% }; see runtime.log"
else
    note runtime ok "$(say "$taken" | wc -w) libraries taken from the carry: ${taken:-none}; OpenCL loader: $loader_note"
fi
if [ $nncl_ok -eq 1 ] && ! "$nncl" --version >>"$out/runtime.log" 2>&1; then
    nncl_ok=0
    note nncl FAIL "$nncl does not start here (runtime.log says why); every nncl step is skipped"
fi

# Fonts: only where the machine has no fontconfig set-up.
if [ ! -e /etc/fonts/fonts.conf ] && [ -z "${FONTCONFIG_FILE:-}" ] && [ -d "$T/pool/fonts" ]; then
    mkdir -p "$T/fontcache"
    printf '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig><dir>%s</dir><cachedir>%s</cachedir></fontconfig>\n' \
        "$T/pool/fonts" "$T/fontcache" >"$T/fonts.conf"
    export FONTCONFIG_FILE="$T/fonts.conf"
    say "(no /etc/fonts/fonts.conf here: FONTCONFIG_FILE points to the carried DejaVu fonts)" >>"$out/runtime.log"
fi

# ---- the OpenCL driver: its library in an ICD file of our own, the only vendor
find_vendor() {
    if [ -n "${GPU_CHECK_VENDOR_LIB:-}" ]; then
        [ -e "$GPU_CHECK_VENDOR_LIB" ] && say "$GPU_CHECK_VENDOR_LIB"
        return
    fi
    stem=${vendor_name%%.so*}
    {
        # ICD files the system already has, then ld.so's cache, then the usual folders.
        cat /etc/OpenCL/vendors/*.icd 2>/dev/null | grep "$stem"
        ldconfig -p 2>/dev/null | awk -v n="$stem" 'index($1, n) == 1 {print $NF}'
        for d in $(say "${LD_LIBRARY_PATH:-}" | tr ':' ' ') /usr/local/nvidia/lib64 /usr/local/nvidia/lib \
            /usr/lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/nvidia/current /usr/lib64 /usr/lib /lib64 \
            /lib/x86_64-linux-gnu /usr/local/cuda/compat /usr/local/cuda/lib64 /usr/local/lib /opt/nvidia; do
            ls "$d/$vendor_name" "$d/$stem".so* 2>/dev/null
        done
        timeout 20 find /usr /opt /lib /lib64 -name "$stem.so*" 2>/dev/null
    } | while read -r p; do
        case "$p" in
        /*) [ -e "$p" ] && say "$p" ;;
        *) [ -n "$p" ] && say "$p" ;;   # a bare name from an ICD file: dlopen finds it
        esac
    done | awk '!seen[$0]++' | head -1
}
vendor=$(find_vendor)
opencl_ok=0
if [ $nncl_ok -eq 0 ]; then
    note opencl SKIP "no nncl to run"
elif [ -z "$vendor" ]; then
    {
        say "$vendor_name: NOT FOUND"
        say "searched: GPU_CHECK_VENDOR_LIB, /etc/OpenCL/vendors, ldconfig -p, LD_LIBRARY_PATH,"
        say "  /usr/local/nvidia/lib64, /usr/lib/x86_64-linux-gnu, /usr/lib64, /usr/local/cuda/..., find /usr /opt /lib"
        say ""
        say "NVIDIA libraries this machine has (the driver's OpenCL part may not be mounted into it):"
        timeout 20 find / -xdev \( -name 'libnvidia*.so*' -o -name 'libcuda.so*' \) 2>/dev/null | head -60
        timeout 10 find /usr/local/nvidia -name '*.so*' 2>/dev/null | head -60
    } >"$out/opencl.log" 2>&1
    note opencl FAIL "NO NVIDIA OPENCL LIBRARY: $vendor_name is not on this machine, so nncl has no GPU device; the OpenCL steps are skipped (opencl.log lists the NVIDIA libraries found)"
else
    say "$vendor" >"$T/icd/${GPU_CHECK_ICD_NAME:-nvidia}.icd"
    export OCL_ICD_VENDORS="$T/icd"
    # The driver's other libraries (the PTX JIT compiler...) sit beside it.
    case "$vendor" in /*) LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$(dirname "$vendor")" ;; esac
    probe() {
        "$nncl" --device list --json >"$T/probe.json" 2>>"$out/opencl.log"
        python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); sys.exit(0 if d[0]["backend"] == "opencl" else 1)' "$T/probe.json" 2>/dev/null
    }
    {
        say "vendor library: $vendor ($(readlink -f "$vendor" 2>/dev/null))"
        say "ICD file: $T/icd/${GPU_CHECK_ICD_NAME:-nvidia}.icd -> OCL_ICD_VENDORS=$T/icd"
        say "OpenCL loader: $loader_note"
        say ""
        say "ldd $vendor:"
        case "$vendor" in /*) lddx "$vendor" ;; *) say "  (a bare name: found by dlopen)" ;; esac
        say ""
    } >"$out/opencl.log" 2>&1
    if probe; then
        opencl_ok=1
    elif [ -e "$T/pool/lib/libOpenCL.so.1" ] && [ ! -e "$T/lib/libOpenCL.so.1" ]; then
        # The machine's loader found nothing (an old Khronos loader ignores
        # OCL_ICD_VENDORS): try the carried ocl-icd instead.
        say "no OpenCL device through the machine's loader; trying the carried ocl-icd" >>"$out/opencl.log"
        ln -sf "$(readlink -f "$T/pool/lib/libOpenCL.so.1")" "$T/lib/libOpenCL.so.1"
        loader_note="carried ocl-icd (the machine's loader found no device)"
        if probe; then opencl_ok=1; else rm -f "$T/lib/libOpenCL.so.1"; fi
    fi
    if [ $opencl_ok -eq 1 ]; then
        note opencl ok "$vendor registered; loader: $loader_note"
    else
        {
            say "NO OPENCL DEVICE through $vendor. nncl --device list:"
            "$nncl" --device list 2>&1
            say ""
            say "the loader's own account (OCL_ICD_DEBUG=15, ocl-icd only):"
            OCL_ICD_DEBUG=15 "$nncl" --device list --json 2>&1 | head -80
        } >>"$out/opencl.log" 2>&1
        note opencl FAIL "$vendor was registered but gave no OpenCL device; see opencl.log"
    fi
fi

# ---- nncl itself
# The binaries were built elsewhere: their built-in data folder may not exist here.
export NNCL_DATA="${NNCL_DATA:-$root/datasets}"
export XDG_CACHE_HOME="$T/cache"     # a fresh tuning and kernel cache: what a new user has
unset NNCL_DEVICE NNCL_TUNE 2>/dev/null
if [ $nncl_ok -eq 1 ]; then
    step devices 60 sh -c "'$nncl' --device list --json >'$out/devices.json' && '$nncl' --device list"
else
    note devices SKIP "no nncl to run"
fi
expect=${GPU_CHECK_EXPECT:-gpu}
dev0=$(python3 -c 'import json, sys; d = json.load(open(sys.argv[1]))[0]; print(d["type"], d["backend"], d["name"], sep="\t")' "$out/devices.json" 2>/dev/null)
case "$dev0" in
"") note device-0 SKIP "no device list" ;;
"$expect	opencl	"*) note device-0 ok "device 0 is the $expect: $(say "$dev0" | cut -f3)" ;;
*) note device-0 FAIL "device 0 is not an OpenCL $expect but: $(say "$dev0" | tr '\t' ' ')" ;;
esac

# The FP32 peak: SMs x FP32 lanes per SM (by compute capability) x 2 x the maximum SM clock.
peak=${NNCL_PEAK_GFLOPS:-}
peak_note="NNCL_PEAK_GFLOPS"
if [ -z "$peak" ] && [ -s "$out/gpu.csv" ]; then
    peak_line=$(python3 "$T/peak.py" "$out/gpu.csv" "$out/devices.json" 2>/dev/null)
    peak=${peak_line%% *}
    peak_note=${peak_line#* }
fi
if [ -n "$peak" ]; then say "$peak $peak_note" >"$out/peak.txt"; fi

gpu_step() {
    if [ $opencl_ok -eq 1 ]; then step "$@"; else note "$1" SKIP "no OpenCL device"; fi
}
# The host's figures are worth device minutes only beside the GPU's.
host_step() {
    if [ $nncl_ok -eq 1 ] && { [ $opencl_ok -eq 1 ] || [ "${GPU_CHECK_CONTINUE:-0}" = 1 ]; }; then
        step "$@"
    else
        note "$1" SKIP "no GPU to compare with (GPU_CHECK_CONTINUE=1 runs it)"
    fi
}
gpu_step tune 120 "$nncl" tune --device 0 --quick
cp -r "$T/cache/nncl" "$out/tune-cache" 2>/dev/null
gpu_step check 150 sh -c "'$nncl' check --device 0 --json >'$out/check.json'"
if [ -n "$peak" ]; then
    gpu_step bench-gpu 120 env NNCL_PEAK_GFLOPS="$peak" sh -c "'$nncl' bench --device 0 --json >'$out/bench-gpu.json'"
else
    gpu_step bench-gpu 120 sh -c "'$nncl' bench --device 0 --json >'$out/bench-gpu.json'"
fi
host_step bench-host 120 sh -c "'$nncl' bench --device host --json >'$out/bench-host.json'"
# The same GEMMs with K never split (the A/B of gemm_split_*, in this invocation).
gpu_step bench-gpu-nosplit 120 env NNCL_GEMM_SPLITK=off sh -c "'$nncl' bench --device 0 --json >'$out/bench-gpu-nosplit.json'"
# The bare run, twice (the first compiles the kernels into the cache), in a
# folder of its own (it writes runs/ where it is started).
gpu_step train-gpu-1 120 sh -c "cd '$T/work' && '$nncl' train --device 0"
gpu_step train-gpu-2 120 sh -c "cd '$T/work' && '$nncl' train --device 0"
# Where a training step's time goes on the GPU: one epoch with every op
# waited for (--profile: calls, us per call; launch-bound ops show as a few
# us each), and the start-up's parts.
# (With its report and snapshots, as the bare run writes them: the finish
# line says what writing the run took after the last step.)
gpu_step train-gpu-profile 60 sh -c "cd '$T/work' && '$nncl' train --device 0 --epochs 1 --profile --quiet \
    --out '$T/work/profile-run'"
host_step train-host 150 sh -c "cd '$T/work' && '$nncl' train --device host"
# An OpenCL CPU device beside the GPU (a loader that reads /etc/OpenCL/vendors
# whatever OCL_ICD_VENDORS says finds the machine's PoCL): the best CPU device
# may be that one.
cpu_cl=$(python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(next((r["index"] for r in d if r["backend"] == "opencl" and r["type"] == "cpu"), ""))' "$out/devices.json" 2>/dev/null)
if [ -n "$cpu_cl" ]; then
    host_step train-cpu-opencl 150 sh -c "cd '$T/work' && '$nncl' train --device $cpu_cl"
else
    note train-cpu-opencl SKIP "no OpenCL CPU device here"
fi
for r in "$T"/work/runs/*; do
    [ -f "$r/summary.json" ] && cp "$r/summary.json" "$out/train-$(basename "$r").summary.json"
done

# The full search (`nncl tune`, the explicit one: every local-memory set of
# the table built, checked and timed, 2048^3 included, about two minutes
# here), then the GEMMs again with its winners: the quick search of first
# use tries six sets, so this is the run that can find what the sweep finds.
# After the steps that time what first use gives (they would use its entry),
# before the sweep's and the host's figures (neither reads the entry): the
# product's own way to the 40% target goes first.
gpu_step tune-full 240 "$nncl" tune --device 0
gpu_step bench-gpu-full 120 env ${peak:+NNCL_PEAK_GFLOPS="$peak"} sh -c "'$nncl' bench --device 0 --json >'$out/bench-gpu-full.json'"

# The GEMM's local-memory sets at 1024^3 and 2048^3, each on its own
# (build/tools/gemm_harness, tools/gemmlab), from tools/gemmlab/sweep_sets.txt
# (what each column means is there), so that one run says which set the 40%
# target needs.
cat >"$T/gemm_sweep.sh" <<'END_GEMM_SWEEP'
# gemm_sweep.sh BUILD ROOT: each set's GFLOP/s at 1024^3 and 2048^3
# (RC, a register cap, is NVIDIA's build option -cl-nv-maxrregcount)
grep -v '^#' "${ROOT:?}/tools/gemmlab/sweep_sets.txt" | while read -r tsm tsn tsk wm wn lvw pf gvw ku db rc wl; do
    [ -n "$wl" ] || continue
    cap=
    [ "$rc" -eq 0 ] || cap=" -cl-nv-maxrregcount=$rc"
    "${BUILD:?}/tools/gemm_harness" -b -s square -r 3 -k "$ROOT/cl/gemm.cl" \
        "-DUSE_LOCAL=1 -DTSM=$tsm -DTSN=$tsn -DTSK=$tsk -DWPTM=$wm -DWPTN=$wn -DLVW=$lvw -DPF=$pf -DGVW=$gvw -DKU=$ku -DDB=$db -DWL=$wl$cap" 2>&1 |
        awk -v s="TSM=$tsm TSN=$tsn TSK=$tsk WPTM=$wm WPTN=$wn LVW=$lvw PF=$pf GVW=$gvw KU=$ku DB=$db RC=$rc WL=$wl" \
            '/^square/ {print s ": " $1 " " $2 " " $NF " GFLOP/s"} /rror|fail/ {print s ": " $0}'
done
END_GEMM_SWEEP
if [ -x "$build/tools/gemm_harness" ]; then
    gpu_step gemm-sweep 150 env BUILD="$build" ROOT="$root" sh "$T/gemm_sweep.sh"
else
    note gemm-sweep SKIP "no $build/tools/gemm_harness"
fi

# The peer: the same 2048^3 FP32 GEMM through cuBLAS (PyTorch, TF32 off).
if python3 -c 'import torch' >/dev/null 2>&1; then
    step torch-gemm 120 python3 "$T/torch_gemm.py"
else
    note torch-gemm SKIP "no PyTorch here"
fi


# After the GEMM's figures (the 40% target's data first): the host on all
# of this machine's cores against two (nncl_host_for's pool
# of workers; the build machines have two cores): the tutorial's fused step
# alone (build/tools/bench_u8_head) and the whole `--preset tutorial`.
cat >"$T/host_cores.sh" <<'END_HOST_CORES'
# host_cores.sh (BUILD NNCL ROOT WORK in the environment)
cd "${ROOT:?}" || exit 1
for t in 2 all; do
    if [ "$t" = all ]; then unset NNCL_HOST_THREADS; else NNCL_HOST_THREADS=$t; export NNCL_HOST_THREADS; fi
    echo "threads $t: the tutorial's step $("${BUILD:?}/tools/bench_u8_head" 41000 20 2>&1 | tail -1)"
    t0=$(date +%s.%N)
    "${NNCL:?}" train --preset tutorial --device host --quiet --no-report --snapshots 0 --out "${WORK:?}/tutorial-$t" \
        >"${WORK:?}/tutorial-$t.log" 2>&1 || { echo "threads $t: --preset tutorial failed"; tail -3 "${WORK:?}/tutorial-$t.log"; exit 1; }
    t1=$(date +%s.%N)
    echo "threads $t: --preset tutorial on the host $(echo "$t0 $t1" | awk '{printf "%.2f", $2 - $1}') s wall; $(tail -1 "${WORK:?}/tutorial-$t.log")"
    # the bare run (its optimiser, gather and ReLU take every worker since
    # 2026-12-05) and a CNN through the patch-matrix convolutions (every
    # host convolution on a CPU without AVX-512): seconds of training
    for run in "bare:" "cnn-im2col:--preset cnn --limit 5000 --epochs 1"; do
        name=${run%%:*}
        t0=$(date +%s.%N)
        # shellcheck disable=SC2086 # the flags are words
        NNCL_CONV_DIRECT=off "${NNCL:?}" train --device host --quiet --no-report --snapshots 0 ${run#*:} \
            --out "${WORK:?}/$name-$t" >"${WORK:?}/$name-$t.log" 2>&1 ||
            { echo "threads $t: $name failed"; tail -3 "${WORK:?}/$name-$t.log"; exit 1; }
        t1=$(date +%s.%N)
        echo "threads $t: $name on the host $(echo "$t0 $t1" | awk '{printf "%.2f", $2 - $1}') s wall, $(python3 -c "import json; print('%.2f' % json.load(open('${WORK:?}/$name-$t/summary.json'))['seconds'])" 2>/dev/null) s training"
    done
done
END_HOST_CORES
if [ -x "$build/tools/bench_u8_head" ]; then
    host_step host-cores 150 env BUILD="$build" NNCL="$nncl" ROOT="$root" WORK="$T/work" sh "$T/host_cores.sh"
else
    note host-cores SKIP "no $build/tools/bench_u8_head"
fi

# ---- the whole test suite, from meson's test list, without meson
if [ $opencl_ok -eq 1 ]; then
    # The tests use the first OpenCL device: the GPU, the only vendor registered.
    # They set their own cache folder and NNCL_TUNE=off (the capability defaults).
    tests_left=$(($(remaining) - 15))
    step tests "$tests_left" env NNCL_REQUIRE_OPENCL=1 python3 "$T/run_tests.py" "$build" "$root" "$out/tests" \
        "$((tests_left - 10))" "${GPU_CHECK_JOBS:-}"
else
    note tests SKIP "no OpenCL device (with NNCL_REQUIRE_OPENCL=1 every test would fail)"
fi

write_summary
[ -s "$out/summary.err" ] || rm -f "$out/summary.err"
pack
say ""
cat "$out/summary.txt"
awk -F '\t' '$2 != "ok" && $2 != "SKIP" {bad = 1} END {exit bad}' "$out/steps.tsv"
