#!/bin/sh
# End to end, bounded input (issue 14): every input that could make a reader
# run without bound is refused quickly (exit 2, < 5 s) with a bounded peak
# memory, measured here: /dev/zero, a 100 MB line, binary files, FIFOs, an
# IDX header claiming a petabyte, a table over the memory budget. A FIFO
# that sends a CSV is read; Ctrl-C while loading from a slow one ends nncl
# at once (130). Labels: nan is refused, a label that looks like a
# regression target is warned about, so is a stray non-number among numeric
# labels, and a --test file without the label
# column is told so. Peak memory while loading stays within 2.5x the data.
# usage: e2e_input.sh PATH/TO/nncl SOURCE_DIR
set -u
nncl=$1
src=$2
. "$(dirname "$0")/e2e_lib.sh"

# measure LIMIT_S NAME CMD...: runs CMD (output in $tmp/NAME.log), killing it
# past LIMIT_S seconds or past 1 GiB of resident memory, and sets rc, kb
# (peak RSS in KiB, from getrusage) and secs.
cat >"$tmp/measure.py" <<'PY'
import os, resource, subprocess, sys, time
limit_s, log, cmd = float(sys.argv[1]), sys.argv[2], sys.argv[3:]
t0 = time.monotonic()
why = "-"
with open(log, "w") as out:
    p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    while p.poll() is None:
        if time.monotonic() - t0 > limit_s:
            why = "timeout"
            p.kill()
        try:
            with open(f"/proc/{p.pid}/status") as st:
                for line in st:
                    if line.startswith("VmRSS:") and int(line.split()[1]) > 1 << 20:
                        why = "over-1GiB"
                        p.kill()
        except OSError:
            pass
        time.sleep(0.01)
secs = time.monotonic() - t0
kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
rc = p.returncode if p.returncode >= 0 else 128 - p.returncode
print(rc, kb, "%.2f" % secs, why)
PY
measure() {
    m_limit=$1 m_name=$2
    shift 2
    # shellcheck disable=SC2046
    set -- $(python3 "$tmp/measure.py" "$m_limit" "$tmp/$m_name.log" "$@")
    rc=$1 kb=$2 secs=$3
    [ "$4" = "-" ] || echo "$m_name: killed ($4)"
}

# The peak of a refusal that reads almost nothing: the bound for the others.
printf 'a,b,y\n1,2,0\n3,4\n' >"$tmp/ragged.csv"
measure 30 base "$nncl" train --device host --data "$tmp/ragged.csv" --epochs 1 --out "$tmp/run"
base_kb=$kb
expect "a ragged file is refused (exit $rc)" test "$rc" -eq 2
# A refusal may read one line's limit (1 MiB) through a window of 5 MiB:
# 24 MiB of headroom covers that and allocator noise, and nothing unbounded.
bound_kb=$((base_kb + 24 * 1024))

# refused DESCRIPTION PATTERN ARGS...: train exits 2 within 5 s, its message
# matches PATTERN, its peak RSS is within bound_kb. r_env: an environment
# setting for it.
r_env=NNCL_E2E_INPUT=1
refused() {
    r_d=$1 r_pat=$2
    shift 2
    rm -rf "$tmp/run"
    measure 20 refused env "$r_env" "$nncl" train --device host --epochs 1 --out "$tmp/run" "$@"
    echo "$r_d: exit $rc after $secs s, peak RSS $kb KiB"
    expect "$r_d: exits 2 (got $rc)" test "$rc" -eq 2
    expect "$r_d: within 5 s (took $secs s)" python3 -c "import sys; sys.exit(not $secs < 5)"
    expect "$r_d: peak RSS $kb KiB within $bound_kb KiB" test "$kb" -le "$bound_kb"
    grep -q -a -E -- "$r_pat" "$tmp/refused.log" || cat "$tmp/refused.log"
    expect "$r_d: message matches '$r_pat'" grep -q -a -E -- "$r_pat" "$tmp/refused.log"
}

# ---- no line breaks, binary bytes ---------------------------------------------
refused "/dev/zero" "/dev/zero: not a text file: byte 0x00 at offset 0" --data /dev/zero
head -c 100000000 /dev/zero | tr '\0' '7' >"$tmp/line.csv"
refused "a 100 MB line" "line.csv: line 1: the header line is longer than 1048576 bytes" \
    --data "$tmp/line.csv"
rm -f "$tmp/line.csv"
# a table with a NUL at byte 20 (line 4), as a corrupted or binary file has
printf 'a,b,y\n1,2,0\n3,4,1\n5,\0,1\n7,8,0\n' >"$tmp/nul.csv"
refused "a NUL byte" "nul.csv: not a text file: byte 0x00 at offset 20 \(line 4\)" --data "$tmp/nul.csv"
head -c 3000000 /dev/urandom >"$tmp/random.bin"
refused "random bytes" "random.bin: not a text file: byte 0x[0-9a-f]{2} at offset [0-9]+" \
    --data "$tmp/random.bin"
refused "an IDX file given as a CSV" "not a text file.*an IDX file: pass the folder" \
    --data "$src/datasets/mnist/train-labels-idx1-ubyte.gz"

# ---- pipes ----------------------------------------------------------------------
mkfifo "$tmp/fifo"
# feed FIFO FILE|-: writes FILE (or, with -, digits without a line break until
# the reader goes away) into the FIFO once a reader opens it; gives up after
# 30 s without one, so that `wait` never hangs on a writer nobody reads.
cat >"$tmp/feed.py" <<'PY'
import errno, os, sys, time
fifo, what = sys.argv[1], sys.argv[2]
deadline = time.monotonic() + 30
while True:
    try:
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        break
    except OSError as e:
        if e.errno != errno.ENXIO or time.monotonic() > deadline:
            sys.exit(1)
        time.sleep(0.01)
os.set_blocking(fd, True)
data = open(what, "rb").read() if what != "-" else b"7" * 65536
try:
    while True:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        if what != "-":
            break
except BrokenPipeError:
    pass
PY
python3 -c "
import random; r = random.Random(3)
print('a,b,y')
for i in range(400):
    k = i % 2; print('%.3f,%.3f,%d' % (r.gauss(2 * k, 0.5), r.gauss(-k, 0.5), k))" >"$tmp/two.csv"
python3 "$tmp/feed.py" "$tmp/fifo" "$tmp/two.csv" &
measure 60 fifo-ok "$nncl" train --device host --data "$tmp/fifo" --epochs 2 --layers 8 --out "$tmp/fifo-run"
wait
expect "a FIFO sending a CSV is read and trained on (exit $rc)" test "$rc" -eq 0
expect "...all 400 rows of it" python3 -c "
import json; d = json.load(open('$tmp/fifo-run/config.json'))['data']
assert d['train_rows'] + d['val_rows'] + d['test_rows'] == 400, d"
python3 "$tmp/feed.py" "$tmp/fifo" - &
refused "a FIFO without line breaks" "fifo: line 1: the header line is longer than" --data "$tmp/fifo"
wait

# The data loads while the device opens: a device that cannot be had is
# said at once, not after a load that may never end (a FIFO nobody writes).
measure 20 nodev "$nncl" train --device 99 --data "$tmp/fifo" --epochs 1 --out "$tmp/nodev-run"
expect "no device 99 with an unfed FIFO: exits 2 (got $rc)" test "$rc" -eq 2
expect "...within 5 s (took $secs s)" python3 -c "import sys; sys.exit(not $secs < 5)"
expect "...naming the device" grep -q -- "--device: no device 99" "$tmp/nodev.log"
expect "...and no run directory" test ! -e "$tmp/nodev-run"

# Ctrl-C while loading from a FIFO that a slow writer feeds: nncl ends at
# once (SIGINT's default action while loading: exit status 130).
cat >"$tmp/sigint.py" <<'PY'
import os, signal, subprocess, sys, time
nncl, fifo, run = sys.argv[1:4]
writer = subprocess.Popen(["sh", "-c", '{ printf "a,b,y\\n"; while :; do printf "1,2,0\\n"; sleep 0.05; done; } >"$0"', fifo],
                          stderr=subprocess.DEVNULL)
child = subprocess.Popen([nncl, "train", "--device", "host", "--data", fifo, "--epochs", "1", "--out", run],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
time.sleep(1.0)
loading = child.poll() is None
t0 = time.monotonic()
child.send_signal(signal.SIGINT)
try:
    child.wait(timeout=5)
except subprocess.TimeoutExpired:
    child.kill()
    child.wait()
dt = time.monotonic() - t0
writer.kill()
writer.wait()
rc = child.returncode if child.returncode >= 0 else 128 - child.returncode
print(1 if loading else 0, rc, "%.3f" % dt)
PY
# shellcheck disable=SC2046
set -- $(python3 "$tmp/sigint.py" "$nncl" "$tmp/fifo" "$tmp/sigint-run")
expect "still loading from the slow FIFO after 1 s" test "$1" -eq 1
expect "Ctrl-C while loading exits 130 (got $2)" test "$2" -eq 130
expect "...within 0.5 s (took $3 s)" python3 -c "import sys; sys.exit(not $3 < 0.5)"

# ---- the memory budget ------------------------------------------------------------
python3 - "$src/datasets/mnist" "$tmp" <<'PY'
import gzip, os, struct, sys
src, d = sys.argv[1], sys.argv[2]
imgs = gzip.open(f"{src}/train-images-idx3-ubyte.gz").read()[:16 + 784 * 300]
labs = gzip.open(f"{src}/train-labels-idx1-ubyte.gz").read()[:8 + 300]
os.makedirs(f"{d}/small", exist_ok=True)
open(f"{d}/small/train-images-idx3-ubyte", "wb").write(imgs[:4] + struct.pack(">I", 300) + imgs[8:])
open(f"{d}/small/train-labels-idx1-ubyte", "wb").write(labs[:4] + struct.pack(">I", 300) + labs[8:])
# a 60-byte gzip file whose header claims 10^9 images of 1000x1000 (a petabyte)
os.makedirs(f"{d}/huge", exist_ok=True)
open(f"{d}/huge/train-images-idx3-ubyte.gz", "wb").write(
    gzip.compress(struct.pack(">IIII", 0x803, 10**9, 1000, 1000)))
open(f"{d}/huge/train-labels-idx1-ubyte.gz", "wb").write(gzip.compress(labs))
with open(f"{d}/table.csv", "w") as f:
    f.write(",".join(f"x{j}" for j in range(20)) + ",y\n")
    for i in range(1000):
        f.write(",".join(str((i * j) % 97) for j in range(20)) + f",{i % 3}\n")
PY
refused "an IDX header claiming a petabyte" \
    "train-images-idx3-ubyte.gz: the header's 1000000000 images of 1000x1000 would take .* more than the data memory budget" \
    --data "$tmp/huge"
r_env=NNCL_MEMORY_LIMIT=100K
refused "IDX files over NNCL_MEMORY_LIMIT" \
    "train-images-idx3-ubyte: the header's 300 images of 28x28 would take 230 KiB .*NNCL_MEMORY_LIMIT=100K" \
    --data "$tmp/small"
# 1000 rows of 20 floats and a label take 96 bytes a row: 64 KiB hold 682
r_env=NNCL_MEMORY_LIMIT=64K
refused "a table over NNCL_MEMORY_LIMIT" \
    "table.csv: line 684: 683 rows of 20 features would take .* more than the data memory budget of 64 KiB" \
    --data "$tmp/table.csv"
r_env=NNCL_E2E_INPUT=1

# ---- labels -------------------------------------------------------------------------
for v in nan NaN inf -Infinity; do
    printf 'a,b,y\n1,2,0\n3,4,1\n5,6,%s\n7,8,0\n' "$v" >"$tmp/nan.csv"
    refused "label $v" "nan.csv: line 4, column 3 \('y'\): the label '$v' is a missing or non-finite value" \
        --data "$tmp/nan.csv"
done
# One integer value per row: guessed as 200 classes, with a warning that
# names the column; --task classify (the user's word) silences it.
python3 -c "
print('a,b,price')
for i in range(200): print('%d,%d,%d' % (i % 7, i % 11, 100 + 3 * i))" >"$tmp/price.csv"
"$nncl" train --device host --data "$tmp/price.csv" --epochs 1 --layers 8 --out "$tmp/price-run" \
    >"$tmp/price.log" 2>&1
expect "a one-class-per-row label still trains (exit $?)" test $? -eq 0
expect "...with a warning to use --task regress" grep -q -E \
    "warning: .*price.csv: column 'price' has 200 distinct values for 200 rows.*regression target\? Use --task regress" \
    "$tmp/price.log"
"$nncl" train --device host --data "$tmp/price.csv" --task classify --epochs 1 --layers 8 \
    --out "$tmp/price-run2" >"$tmp/price2.log" 2>&1
expect "--task classify: no such warning" sh -c "! grep -q 'regression target' '$tmp/price2.log'"
# A stray label among numbers (a typo at data row 50): trained, with a
# warning naming the label, its row and the column.
python3 -c "
print('a,b,label')
for i in range(1, 201): print('%d,%d,%s' % (i % 7, i % 11, 'cat' if i == 50 else i % 2))" >"$tmp/stray.csv"
"$nncl" train --device host --data "$tmp/stray.csv" --epochs 1 --layers 8 --out "$tmp/stray-run" \
    >"$tmp/stray.log" 2>&1
expect "a stray label still trains (exit $?)" test $? -eq 0
expect "...with a warning naming it, its row and the column" grep -q -F \
    "warning: $tmp/stray.csv: column 'label': 'cat' (1 row: data row 50) is not a number like the other 2 classes" \
    "$tmp/stray.log"
# --test without the label column
head -n 201 "$tmp/two.csv" >"$tmp/train2.csv"
cut -d, -f1,2 "$tmp/two.csv" | sed -n '1p;202,$p' >"$tmp/test2.csv"
refused "--test without the label column" \
    "test2.csv: line 1: the file lacks the label column 'y' that the training data has" \
    --data "$tmp/train2.csv" --test "$tmp/test2.csv"

# ---- peak memory while loading: within 2.5x the data ----------------------------------
# 30000 Kaggle rows, gzipped: 23.5 MB of pixels. The peak of a whole (tiny)
# training on them, less that of the same on 100 rows, is the loading's.
python3 "$src/tools/mnist_to_kaggle_csv.py" --mnist-dir "$src/datasets/mnist" --out-dir "$tmp/kaggle" \
    --train-rows 30000 --test-rows 10 >/dev/null 2>&1
head -n 101 "$tmp/kaggle/train.csv" >"$tmp/kaggle/small.csv"
gzip -1 "$tmp/kaggle/train.csv"
measure 60 small "$nncl" train --device host --data "$tmp/kaggle/small.csv" --epochs 1 --layers 8 \
    --out "$tmp/k-small"
small_kb=$kb
measure 120 big "$nncl" train --device host --data "$tmp/kaggle/train.csv.gz" --epochs 1 --layers 8 \
    --out "$tmp/k-big"
expect "30000 gzipped Kaggle rows train (exit $rc)" test "$rc" -eq 0
data_kb=$((30000 * 784 / 1024))
echo "30000 gzipped Kaggle rows: peak RSS $kb KiB; 100 rows: $small_kb KiB; the pixels: $data_kb KiB"
# Under AddressSanitizer (the sanitizer job sets NNCL_SANITIZED) every
# allocation carries shadow memory and a quarantine: the bound is not
# measurable there.
if [ -z "${NNCL_SANITIZED:-}" ]; then
    expect "loading them peaks at $((kb - small_kb)) KiB over the baseline, within 2.5 x $data_kb KiB" \
        test $((kb - small_kb)) -le $((data_kb * 5 / 2))
fi

finish
