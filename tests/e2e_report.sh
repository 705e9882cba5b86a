#!/bin/sh
# End to end, what a learner looks at: small runs (MNIST on host and on the
# first OpenCL device, a table, a regression, the tutorial's 784-10-10) get
# their snapshots and report.html; each page is opened in a real headless
# Chromium (tests/report_browser.py: no console error, no network request,
# the expected elements, a slider that changes the drawing); the video as
# GIF (decoded with PIL), MP4 and WebM (counted with ffprobe), the still;
# bad input, which exits 2 naming the file and changes nothing; and a small
# CNN, whose page shows its layer table and its first convolution's filters
# (the model file's own numbers) instead of the dense pictures, with or
# without its model file. NNCL_SHOTS=DIR keeps the CNN page's screenshots.
# usage: e2e_report.sh PATH/TO/nncl SOURCE_DIR
set -u
nncl=$1
src=$2
. "$(dirname "$0")/e2e_lib.sh"

# Debian's python3 has the Debian packages (selenium, PIL), whatever else is on PATH.
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
browser() { $py "$src/tests/report_browser.py" "$@" >"$tmp/browser.log" 2>&1; rc=$?; cat "$tmp/browser.log"; return $rc; }
have_browser=1
if ! command -v chromedriver >/dev/null 2>&1 || ! $py -c "import selenium" 2>/dev/null; then
    echo "SKIPPED: the browser checks need chromium, chromium-driver and python3-selenium (tools/setup.sh test installs them)"
    have_browser=0
fi

pick_devices
small="--limit 1500 --epochs 2 --layers 24 --batch 50 --seed 3 --quiet --snapshots 12"

# ---- MNIST on every device ------------------------------------------------------
for dev in $devices; do
    run="$tmp/mnist-$dev"
    "$nncl" train --device "$dev" $small --out "$run" >"$tmp/train.log" 2>&1
    expect "$dev: train exits 0" test $? -eq 0
    for f in snapshots.bin evaluation.json report.html; do
        expect "$dev: $f written" test -s "$run/$f"
    done
    expect "$dev: 12 snapshots from step 0 to the last, the right network" python3 -c "
import struct
b = open('$run/snapshots.bin', 'rb').read()
assert b[:8] == b'NNCLSNP1'
hb, layers, bins, rb = struct.unpack('<4I', b[8:24])
n, = struct.unpack('<Q', b[24:32])
sizes = struct.unpack('<%dQ' % (layers + 1), b[32:32 + 8 * (layers + 1)])
assert sizes == (784, 24, 10) and n == 24 * 785 + 10 * 25, (sizes, n)
assert (len(b) - hb) % rb == 0 and (len(b) - hb) // rb == 12, (len(b), hb, rb)
steps = [struct.unpack('<Q', b[hb + k * rb + 8:hb + k * rb + 16])[0] for k in range(12)]
import json; last = json.load(open('$run/summary.json'))['steps']
assert steps[0] == 0 and steps[-1] == last and steps == sorted(set(steps)), (steps, last)"
    expect "$dev: evaluation.json's confusion matrix sums to the 10,000 test rows" python3 -c "
import json; d = json.load(open('$run/evaluation.json'))
m = d['classify']['confusion']; assert len(m) == 10 and all(len(r) == 10 for r in m)
assert sum(map(sum, m)) == 10000 == d['rows']
w = d['classify']['wrong']; assert 0 < len(w) <= 24
assert all(a['confidence'] >= b['confidence'] for a, b in zip(w, w[1:]))
assert all(x['true'] != x['pred'] and len(x['pixels']) == 1048 for x in w)"
    if [ $have_browser -eq 1 ]; then
        browser "$run/report.html" --layers 2 --tiles 24 --classes 10 --test-rows 10000 --screenshot-dir "$tmp/shots-$dev"
        expect "$dev: the page passes in headless Chromium" test $? -eq 0
    fi
done
run="$tmp/mnist-host"

# nncl report rebuilds the same page from the run directory, changing nothing else.
ls -l --time-style=+%s.%N "$run" | grep -v report.html >"$tmp/before"
cp "$run/report.html" "$tmp/first.html"
"$nncl" report "$run" >"$tmp/report.log" 2>&1
expect "nncl report exits 0" test $? -eq 0
expect "...rebuilds the same page" cmp -s "$run/report.html" "$tmp/first.html"
ls -l --time-style=+%s.%N "$run" | grep -v report.html >"$tmp/after"
expect "...and changes nothing else in the run directory" cmp -s "$tmp/before" "$tmp/after"
"$nncl" report "$run" --out "$tmp/elsewhere.html" >/dev/null 2>&1
expect "--out writes the page elsewhere" test -s "$tmp/elsewhere.html"
# The frames are encoded on the host's workers, each on its own: one worker
# or three write the same page.
NNCL_HOST_THREADS=1 "$nncl" report "$run" --out "$tmp/one.html" >/dev/null 2>&1
NNCL_HOST_THREADS=3 "$nncl" report "$run" --out "$tmp/three.html" >/dev/null 2>&1
expect "...the same page on one worker and on three" sh -c "cmp -s '$tmp/one.html' '$tmp/three.html' && cmp -s '$tmp/one.html' '$tmp/first.html'"

# ---- the video -------------------------------------------------------------------------
"$nncl" report "$run" --no-html --video "$tmp/train.gif" --png "$tmp/final.png" >"$tmp/video.log" 2>&1
expect "--video .gif and --png exit 0" test $? -eq 0
# The frames are drawn a batch at a time on the host's workers, a drawer
# each: one worker, two or five (batches that do not divide the 12
# snapshots' frames) write the same GIF.
for w in 1 2 5; do
    NNCL_HOST_THREADS=$w "$nncl" report "$run" --no-html --video "$tmp/train-$w.gif" >/dev/null 2>&1
done
expect "...the same GIF on one, two and five workers" \
    sh -c "cmp -s '$tmp/train.gif' '$tmp/train-1.gif' && cmp -s '$tmp/train.gif' '$tmp/train-2.gif' && cmp -s '$tmp/train.gif' '$tmp/train-5.gif'"
# PIL from Debian's python3-pil, or any python3 on PATH that has it
pil_py=""
for p in $py python3; do
    if $p -c "import PIL" 2>/dev/null; then pil_py=$p; break; fi
done
if [ -z "$pil_py" ]; then
    echo "SKIPPED: decoding the GIF needs python3-pil (tools/setup.sh test installs it)"
else
expect "the GIF has one 960x540 frame per snapshot, and they change" $pil_py -c "
from PIL import Image, ImageChops
im = Image.open('$tmp/train.gif'); assert im.size == (960, 540), im.size
assert im.n_frames == 12, im.n_frames
im.seek(0); first = im.convert('RGB'); im.seek(11); last = im.convert('RGB')
assert ImageChops.difference(first, last).getbbox() is not None
png = Image.open('$tmp/final.png'); assert png.size == (960, 540)
assert len(set(png.convert('RGB').getdata())) > 50, 'the still is nearly blank'"
fi
if command -v ffmpeg >/dev/null 2>&1; then
    for ext in mp4 webm; do
        "$nncl" report "$run" --no-html --video "$tmp/train.$ext" >/dev/null 2>&1
        expect "--video .$ext exits 0" test $? -eq 0
        frames=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames,width,height \
            -of csv=p=0 "$tmp/train.$ext")
        expect ".$ext has 12 frames of 960x540 (ffprobe: $frames)" test "$frames" = "960,540,12"
    done
else
    echo "SKIPPED: MP4 and WebM need ffmpeg (tools/setup.sh test installs it)"
fi
# Ctrl-C in the middle of a video (NNCL_TEST_INT=frame:3 raises SIGINT after
# the third frame): exit 130, the file already there kept byte for byte, no
# temporary left beside it, and no ffmpeg left running.
exts=gif
command -v ffmpeg >/dev/null 2>&1 && exts="gif mp4"
for ext in $exts; do
    mkdir -p "$tmp/stop-$ext"
    echo "the user's own file" >"$tmp/stop-$ext/v.$ext"
    NNCL_TEST_INT=frame:3 "$nncl" report "$run" --no-html --video "$tmp/stop-$ext/v.$ext" >/dev/null 2>"$tmp/err"
    rc=$?
    expect "Ctrl-C during a .$ext exits 130 (got $rc)" test $rc -eq 130
    expect "...saying nothing was written and the old file is kept" grep -q "stopped by a signal.*nothing was written.*kept" \
        "$tmp/err"
    expect "...the old file as it was, nothing beside it" sh -c \
        "test \"\$(cat '$tmp/stop-$ext/v.$ext')\" = \"the user's own file\" && test \$(ls -A '$tmp/stop-$ext' | wc -l) -eq 1"
    expect "...no ffmpeg left writing there" sh -c "! pgrep -a ffmpeg | grep -q 'stop-$ext'"
done
env PATH="$tmp/nothing" "$nncl" report "$run" --no-html --video "$tmp/no.mp4" >/dev/null 2>"$tmp/err"
rc=$?
expect "without ffmpeg, .mp4 fails (status $rc) and names the package" \
    sh -c "test $rc -ne 0 && grep -q 'ffmpeg' '$tmp/err' && test ! -e '$tmp/no.mp4'"

# ---- bad input: exit 2, the file named, nothing changed ----------------------------------
"$nncl" report "$run" --video "$tmp/x.avi" >/dev/null 2>"$tmp/err"
expect "--video x.avi exits 2 naming the extension" sh -c "test $? -eq 2 && grep -q '.avi' '$tmp/err' && test ! -e '$tmp/x.avi'"
"$nncl" report "$tmp/nowhere" >/dev/null 2>"$tmp/err"
expect "a missing run directory exits 2 naming it" sh -c "test $? -ne 0 && grep -q nowhere '$tmp/err'"
bad="$tmp/bad"
for f in snapshots.bin metrics.csv config.json summary.json evaluation.json; do
    rm -rf "$bad"; cp -r "$run" "$bad"; rm -f "$bad/report.html"
    # Cut at an odd length two thirds in, never at a line break: a whole
    # number of records or lines would be a shorter valid file.
    python3 -c "
import sys; p = sys.argv[1]; b = open(p, 'rb').read(); n = len(b) * 2 // 3 | 1
while b[n - 1:n] == b'\\n': n -= 2
open(p, 'wb').write(b[:n])" "$bad/$f"
    "$nncl" report "$bad" >/dev/null 2>"$tmp/err"
    rc=$?
    expect "a truncated $f exits 2 (got $rc) naming it" sh -c "test $rc -eq 2 && grep -q '$f' '$tmp/err'"
    expect "...and writes no report" test ! -e "$bad/report.html"
done
rm -rf "$bad"; cp -r "$run" "$bad"; rm "$bad/config.json"
"$nncl" report "$bad" >/dev/null 2>"$tmp/err"
expect "a run directory without config.json exits 2 naming it" sh -c "test $? -eq 2 && grep -q config.json '$tmp/err'"

"$nncl" train --device host --snapshots 1 --out "$tmp/one" >/dev/null 2>"$tmp/err"
expect "--snapshots 1 exits 2" sh -c "test $? -eq 2 && grep -q snapshots '$tmp/err' && test ! -e '$tmp/one'"

# ---- no snapshots: a report of what exists, saying what is missing --------------------------
"$nncl" train --device host $small --snapshots 0 --out "$tmp/nosnap" >/dev/null 2>&1
expect "--snapshots 0 trains and writes no snapshots.bin" sh -c "test -s '$tmp/nosnap/report.html' && test ! -e '$tmp/nosnap/snapshots.bin'"
expect "...and its report says why there is no slider" grep -q 'No snapshots: the run was made with --snapshots 0' "$tmp/nosnap/report.html"
"$nncl" train --device host $small --no-report --out "$tmp/norep" >/dev/null 2>&1
expect "--no-report writes no report.html" sh -c "test -s '$tmp/norep/model.safetensors' && test ! -e '$tmp/norep/report.html'"
if [ $have_browser -eq 1 ]; then
    browser "$tmp/nosnap/report.html" --layers 2 --tiles 24 --classes 10 --test-rows 10000
    expect "the page without snapshots passes in headless Chromium" test $? -eq 0
fi

# ---- a crashed run: its report says so, and how to continue it ---------------------------------
NNCL_TEST_KILL=epoch:1 "$nncl" train --device host $small --out "$tmp/crashed" >/dev/null 2>&1
"$nncl" report "$tmp/crashed" >/dev/null 2>&1
expect "a run killed with -9 gets a report" test -s "$tmp/crashed/report.html"
expect "...which says it crashed and how to resume it" grep -q "crashed: its process (pid [0-9]* on .*) is gone; continue it with: nncl train --resume" "$tmp/crashed/report.html"
"$nncl" compare "$tmp/crashed" "$run" --no-html --force >"$tmp/cmp.txt" 2>&1
expect "...and nncl compare lists it as crashed" grep -q crashed "$tmp/cmp.txt"

# ---- a convolutional network: its layers and first filters, no dense pictures -------------------
cnn="--device host --data $src/datasets/mnist --limit 600 --layers conv:4:5,maxpool:2,16 --epochs 1 --batch 32 --quiet"
"$nncl" train $cnn --out "$tmp/cnn" >"$tmp/cnn.log" 2>&1
expect "a CNN (conv:4:5,maxpool:2,16) trains and gets a report" sh -c "test $? -eq 0 && test -s '$tmp/cnn/report.html'"
# The page's filters must be the model file's layers.0 tensors, read here
# straight from the safetensors bytes: a filter read at a dense-form offset
# (sizes[1] x sizes[0]) would not match.
expect "...whose page holds its 4 layers and the model's own 4x1x5x5 filters and biases, no frames" python3 -c "
import json, re, struct
t = open('$tmp/cnn/report.html').read()
d = json.loads(re.search(r'<script id=\"nncl-data\" type=\"application/json\">(.*?)</script>', t, re.S).group(1))
assert re.search(r'<script id=\"nncl-weights\" type=\"text/plain\"></script>', t), 'weight codes for a CNN'
n = d['net']; L = n['layer_list']
assert n['form'] == 'layers' and n['layers'] == [] and d['frames'] is None, n
assert [r['layer'] for r in L['rows']] == ['conv:4:5', 'maxpool:2', '16', '10'], L['rows']
assert L['rows'][0]['in'] == [1, 28, 28] and L['rows'][0]['out'] == [4, 28, 28] and L['rows'][0]['params'] == 104, L['rows'][0]
assert L['rows'][2]['in'] == [4, 14, 14] and L['rows'][2]['out'] == [16, 1, 1], L['rows'][2]
assert n['n_params'] == L['n_params'] == 104 + 4 * 14 * 14 * 16 + 16 + 170, n['n_params']
b = open('$tmp/cnn/model.safetensors', 'rb').read()
hl, = struct.unpack('<Q', b[:8]); head = json.loads(b[8:8 + hl]); body = b[8 + hl:]
def tensor(name):
    s, e = head[name]['data_offsets']; return head[name]['shape'], struct.unpack('<%df' % ((e - s) // 4), body[s:e])
shape, w = tensor('layers.0.weight'); _, bias = tensor('layers.0.bias')
F = L['filters']
assert F['dims'] == shape == [4, 1, 5, 5] and F['name'] == 'layers.0.weight', (F['dims'], shape)
A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
v = [(A.index(ch) - 32) * F['scale'] for ch in F['codes']]
assert len(v) == len(w) == 100
top = 31 * F['scale']
for x, y in zip(v, w):
    want = max(-top, min(top, y))
    assert abs(x - want) <= F['scale'] / 2 + 1e-6, (x, y, F['scale'])
assert all(abs(x - y) <= 1e-6 * max(1, abs(y)) for x, y in zip(F['bias'], bias)), (F['bias'], bias)
assert 0 < F['clamp'] <= max(map(abs, w)), F['clamp']"
expect "...and it says why there are no snapshots" grep -q 'No snapshots: nncl records the weights through time for dense networks only' "$tmp/cnn/report.html"
cp "$tmp/cnn/report.html" "$tmp/cnn-first.html"
"$nncl" report "$tmp/cnn" >/dev/null 2>&1
expect "nncl report rebuilds the CNN's page the same" sh -c "test $? -eq 0 && cmp -s '$tmp/cnn/report.html' '$tmp/cnn-first.html'"
"$nncl" report "$tmp/cnn" --no-html --png "$tmp/cnn.png" >/dev/null 2>"$tmp/err"
expect "--png of a CNN exits non-zero saying the pictures draw dense networks only, writing nothing" \
    sh -c "test $? -ne 0 && grep -q 'dense networks only' '$tmp/err' && test ! -e '$tmp/cnn.png'"
# Without its model file the network comes from config.json: the same layers, no filters.
rm -rf "$tmp/cnn-nomodel"; cp -r "$tmp/cnn" "$tmp/cnn-nomodel"; rm "$tmp/cnn-nomodel/model.safetensors" "$tmp/cnn-nomodel/report.html"
"$nncl" report "$tmp/cnn-nomodel" >/dev/null 2>"$tmp/err"
expect "a CNN run without its model gets a report" sh -c "test $? -eq 0 && test -s '$tmp/cnn-nomodel/report.html'"
expect "...with its layers from config.json and a note instead of filters" python3 -c "
import json, re
t = open('$tmp/cnn-nomodel/report.html').read()
d = json.loads(re.search(r'<script id=\"nncl-data\" type=\"application/json\">(.*?)</script>', t, re.S).group(1))
n = d['net']; L = n['layer_list']
assert n['sizes'] == [784, 3136, 784, 16, 10] and n['form'] == 'layers', n['sizes']
assert [r['layer'] for r in L['rows']] == ['conv:4:5', 'maxpool:2', '16', '10'] and n['n_params'] == 12834, L
assert L['filters'] is None and 'no model' in L['filters_note'], L['filters_note']"
if [ $have_browser -eq 1 ]; then
    browser "$tmp/cnn/report.html" --filters 4 --layer-rows 4 --classes 10 --test-rows 10000 --frames 0 \
        --screenshot-dir "${NNCL_SHOTS:-$tmp}/shots-cnn"
    expect "the CNN's page passes in headless Chromium (4 filter tiles, the layer table)" test $? -eq 0
    browser "$tmp/cnn-nomodel/report.html" --filters 0 --layer-rows 4 --classes 10 --test-rows 10000 --frames 0
    expect "the page of a CNN without its model passes" test $? -eq 0
fi

# ---- a table, a regression, the tutorial ------------------------------------------------------
python3 - "$tmp" <<'EOF'
import math, random, sys
random.seed(5)
tmp = sys.argv[1]
with open(tmp + '/flowers.csv', 'w') as f:
    f.write('sepal_length,sepal_width,petal_length,petal_width,species\n')
    for i in range(150):
        c = i % 3
        v = [5 + c + random.gauss(0, .4), 3 + .3 * c + random.gauss(0, .3), 1.5 + 2 * c + random.gauss(0, .4), .2 + .9 * c + random.gauss(0, .2)]
        f.write(','.join('%.2f' % x for x in v) + ',' + ['setosa', 'versicolor', 'virginica'][c] + '\n')
with open(tmp + '/houses.csv', 'w') as f:
    f.write('rooms,age,distance,price\n')
    for i in range(300):
        r, a, d = random.uniform(1, 8), random.uniform(0, 80), random.uniform(1, 30)
        f.write('%.2f,%.1f,%.2f,%.3f\n' % (r, a, d, 50 * r - .5 * a - 2 * d + random.gauss(0, 5)))
EOF
"$nncl" train --device host --data "$tmp/flowers.csv" --layers 8 --epochs 30 --batch 16 --quiet --snapshots 20 \
    --out "$tmp/flowers" >/dev/null 2>&1
expect "a table (4-8-3) trains and gets a report" test -s "$tmp/flowers/report.html"
"$nncl" train --device host --data "$tmp/houses.csv" --layers 16 --epochs 40 --lr 0.01 --batch 32 --quiet --snapshots 20 \
    --out "$tmp/houses" >/dev/null 2>&1
expect "a regression (3-16-1) trains and gets a report" test -s "$tmp/houses/report.html"
expect "...whose evaluation.json holds predicted against true" python3 -c "
import json; d = json.load(open('$tmp/houses/evaluation.json'))['regress']
assert len(d['true']) == len(d['pred']) > 0 and d['r2'] > 0.9, d['r2']"
"$nncl" train --device host --preset tutorial --epochs 30 --snapshots 16 --quiet --out "$tmp/tutorial" >/dev/null 2>&1
expect "the tutorial preset (784-10-10) gets a report" test -s "$tmp/tutorial/report.html"
if [ $have_browser -eq 1 ]; then
    browser "$tmp/flowers/report.html" --layers 2 --classes 3 --test-rows "$(json "$tmp/flowers/evaluation.json" "d['rows']")"
    expect "the table's page passes in headless Chromium" test $? -eq 0
    browser "$tmp/houses/report.html" --layers 2 --regress
    expect "the regression's page passes in headless Chromium" test $? -eq 0
    browser "$tmp/tutorial/report.html" --layers 2 --tiles 10 --classes 10 --test-rows 10000
    expect "the tutorial's page passes in headless Chromium" test $? -eq 0
fi

finish
