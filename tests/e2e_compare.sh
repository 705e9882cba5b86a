#!/bin/sh
# End to end: `nncl compare` over small real runs (MNIST subsets on host,
# lr x seed), a hand-written sweep.json, a folder of runs, a tiny CSV
# classification set and a regression set. We check the table shows only
# the differing flags, folds seeds into mean ± std (n) with the right
# numbers, sorts and marks the best; every format parses; mixed data and
# tasks, non-runs, runs without metrics and bad sweep files are refused
# with exit 2 naming the path; and nothing in any run directory changes.
# Then compare.html: a real sweep's page in headless Chromium
# (tests/compare_browser.py), where pages go, and the pages of folded seeds,
# a failed trial, regression runs, a single run, and a dense run with a CNN
# (NNCL_SHOTS=DIR keeps that page's screenshot).
# usage: e2e_compare.sh PATH/TO/nncl SOURCE_DIR
set -u
nncl=$1
src=$2
. "$(dirname "$0")/e2e_lib.sh"

small="--device host --limit 600 --epochs 2 --layers 16 --batch 50 --quiet --snapshots 0 --no-report"
r="$tmp/r"
mkdir -p "$r/grid" "$r/other" "$r/sweep" "$r/sweep2" "$r/badsweep" "$r/badsweep2" "$r/notarun/sub" "$r/empty"

# ---- the runs ------------------------------------------------------------------------
for lr in 0.002 0.01; do
    for seed in 1 2; do
        "$nncl" train $small --lr $lr --seed $seed --out "$r/grid/lr$lr-s$seed" >/dev/null 2>&1
        expect "train lr $lr seed $seed exits 0" test $? -eq 0
    done
done
# A tiny classification CSV (other data), and a regression CSV.
python3 - "$r" <<'EOF'
import random, sys
d = sys.argv[1]
rnd = random.Random(5)
with open(f"{d}/tiny.csv", "w") as f:
    f.write("a,b,c,label\n")
    for i in range(150):
        k = i % 3
        f.write(f"{k + rnd.gauss(0, 0.5):.4f},{rnd.gauss(0, 1):.4f},{-k + rnd.gauss(0, 0.5):.4f},{'xyz'[k]}\n")
with open(f"{d}/reg.csv", "w") as f:
    f.write("x1,x2,x3,y\n")
    for i in range(300):
        a, b, c = (rnd.uniform(-1, 1) for _ in range(3))
        f.write(f"{a:.4f},{b:.4f},{c:.4f},{2 * a - b + 0.5 * c * c + rnd.gauss(0, 0.05):.4f}\n")
EOF
csvs="--device host --epochs 3 --layers 8 --batch 16 --quiet --snapshots 0 --no-report"
"$nncl" train $csvs --data "$r/tiny.csv" --out "$r/other/tiny" >/dev/null 2>&1
expect "train on a tiny CSV exits 0" test $? -eq 0
for lr in 0.002 0.02; do
    "$nncl" train $csvs --data "$r/reg.csv" --lr $lr --out "$r/other/reg-$lr" >/dev/null 2>&1
    expect "regression run lr $lr exits 0" test $? -eq 0
done
expect "the regression runs are regression" test "$(json "$r/other/reg-0.002/config.json" "d['data']['task']")" = regress

# Broken runs: no metrics.csv, a metrics.csv with the header only.
cp -r "$r/grid/lr0.002-s1" "$r/other/nometrics" && rm "$r/other/nometrics/metrics.csv"
cp -r "$r/grid/lr0.002-s1" "$r/other/headeronly" && head -n 1 "$r/grid/lr0.002-s1/metrics.csv" >"$r/other/headeronly/metrics.csv"
echo "not a run" >"$r/notarun/readme.txt"
mkdir -p "$r/mixed/zz" && cp -r "$r/grid/lr0.01-s1" "$r/mixed/run"

# A sweep over the grid (trial dirs relative to the sweep folder), with a
# pending trial that must be skipped; a second one with a failed trial that
# left no run; and bad sweep files.
python3 - "$r" <<'EOF'
import json, sys
d = sys.argv[1]
trials = [{"index": i + 1, "dir": f"../grid/lr{lr}-s{s}", "values": {"--lr": lr, "--seed": str(s)}, "status": "ok"}
          for i, (lr, s) in enumerate([(lr, s) for lr in ("0.002", "0.01") for s in (1, 2)])]
pending = {"index": 5, "dir": "005_lr-0.05_seed-1", "values": {"--lr": "0.05", "--seed": "1"}, "status": "pending"}
json.dump({"format": 1, "trials": trials + [pending]}, open(f"{d}/sweep/sweep.json", "w"), indent=1)
failed = {"index": 5, "dir": "005_lr-0.05_seed-1", "values": {"--lr": "0.05", "--seed": "1"}, "status": "failed"}
json.dump({"format": 1, "trials": trials + [failed]}, open(f"{d}/sweep2/sweep.json", "w"), indent=1)
text = json.dumps({"format": 1, "trials": trials}, indent=1)
open(f"{d}/badsweep/sweep.json", "w").write(text[:len(text) // 2])
json.dump({"format": 1, "trials": [{"status": "ok"}]}, open(f"{d}/badsweep2/sweep.json", "w"))
EOF

listing() { ls -lR --time-style=+%s.%N "$r"; }
listing >"$tmp/before.txt"

# ---- the table -----------------------------------------------------------------------
# cells TABLE_FILE: the rows as JSON lists of cells (mark first), heading first.
cells() {
    python3 -c "
import json, re, sys
lines = open(sys.argv[1]).read().split('\n')
rows = [l for l in lines[1:] if l.startswith('  ') or (l.startswith('* ') and not l.startswith('* the'))]
print(json.dumps([[l[0]] + re.split(' {2,}', l[2:].strip()) for l in rows]))" "$1"
}
"$nncl" compare --no-html "$r/sweep" >"$tmp/table.txt" 2>"$tmp/table.err"
expect "compare SWEEP exits 0" test $? -eq 0
cells "$tmp/table.txt" >"$tmp/table.json"
expect "the table shows exactly the differing flags (--lr, --seed)" python3 -c "
import json; rows = json.load(open('$tmp/table.json')); h = rows[0]
flags = [c for c in h if c.startswith('--')]
assert flags == ['--lr', '--seed'], h
assert 'best val acc (%)' in h and 'test acc (%)' in h and 'status' in h and 'samples/s' in h, h"
expect "the pending trial is skipped: 4 runs in 2 rows" grep -q "^4 runs in 2 rows" "$tmp/table.txt"
expect "seeds are folded into mean ± std (n) with the right numbers" python3 -c "
import csv, json, math
rows = json.load(open('$tmp/table.json')); h = rows[0][1:]
assert len(rows) == 3, rows
# best val acc: the highest validation accuracy of any epoch (metrics.csv)
best = lambda d: max(float(e['val_accuracy']) for e in csv.DictReader(open(d + '/metrics.csv')))
for row in rows[1:]:
    c = dict(zip(h, row[1:]))
    lr = c['--lr']
    v = [best('$r/grid/lr%s-s%d' % (lr, s)) for s in (1, 2)]
    t = [json.load(open('$r/grid/lr%s-s%d/summary.json' % (lr, s)))['test_accuracy'] for s in (1, 2)]
    for vals, col in ((v, 'best val acc (%)'), (t, 'test acc (%)')):
        m = (vals[0] + vals[1]) / 2
        sd = math.sqrt((vals[0] - m) ** 2 + (vals[1] - m) ** 2)
        want = '%.2f ± %.2f (2)' % (100 * m, 100 * sd)
        assert c[col] == want, (lr, col, c[col], want)
    assert c['--seed'] == '1,2', c
    assert c['status'] == 'ok', c"
expect "the best row (highest mean validation accuracy) is marked, once, and the legend says so" python3 -c "
import json
rows = json.load(open('$tmp/table.json')); h = rows[0][1:]; col = h.index('best val acc (%)') + 1
means = [float(r[col].split()[0]) for r in rows[1:]]
marks = [r[0] for r in rows[1:]]
assert marks.count('*') == 1 and marks[means.index(max(means))] == '*', (marks, means)
assert means == sorted(means, reverse=True), means
assert '* the best validation accuracy' in open('$tmp/table.txt').read()"

# --sort: by a flag (ascending), by name, by time (ascending); bad keys.
order() { "$nncl" compare --no-html "$r/sweep" --format json "$@" | python3 -c "import json,sys; print(' '.join(g['values']['--lr'] for g in json.load(sys.stdin)))"; }
expect "--sort --lr: ascending" test "$(order --sort --lr)" = "0.002 0.01"
expect "--sort lr (without dashes) too" test "$(order --sort lr)" = "0.002 0.01"
expect "--sort name: by run name" test "$(order --sort name)" = "0.002 0.01"
expect "--sort time: fastest first" sh -c "\"$nncl\" compare --no-html \"$r/sweep\" --format json --sort time | python3 -c \"
import json, sys; t = [g['metrics']['time'] for g in json.load(sys.stdin)]; assert t == sorted(t), t\""
expect "--sort test_accuracy: highest first" sh -c "\"$nncl\" compare --no-html \"$r/sweep\" --format json --sort test_accuracy | python3 -c \"
import json, sys; t = [g['metrics']['test_accuracy'] for g in json.load(sys.stdin)]; assert t == sorted(t, reverse=True), t\""
"$nncl" compare --no-html "$r/sweep" --sort bogus >/dev/null 2>"$tmp/sort.err"
expect "--sort bogus exits 2" test $? -eq 2
expect "...naming the key and the choices" grep -q "'bogus'.*val_accuracy" "$tmp/sort.err"
"$nncl" compare --no-html "$r/sweep" --format xml >/dev/null 2>&1
expect "--format xml exits 2" test $? -eq 2
"$nncl" compare --no-html >/dev/null 2>&1
expect "no run exits 2" test $? -eq 2
"$nncl" compare --no-html --help >"$tmp/help.txt"
expect "--help says which sorts are descending and ascending" sh -c "grep -q descending '$tmp/help.txt' && grep -q ascending '$tmp/help.txt'"

# "best val acc" is the highest validation accuracy any epoch reached, not
# summary.json's best_val_accuracy (the accuracy at the lowest validation
# loss, which a run whose accuracy still climbs while its loss rises leaves
# far below): a copy of a run whose last epoch is made the most accurate
# but not the lowest in loss shows that epoch's accuracy, and ranks first.
cp -r "$r/grid/lr0.002-s1" "$r/climb"
python3 -c "
import csv
p = '$r/climb/metrics.csv'; rows = list(csv.reader(open(p))); h = rows[0]
rows[-1][h.index('val_accuracy')] = '0.9987'
rows[-1][h.index('val_loss')] = str(float(rows[-1][h.index('val_loss')]) + 5)
csv.writer(open(p, 'w', newline=''), lineterminator='\n').writerows(rows)"
"$nncl" compare --no-html "$r/climb" "$r/grid/lr0.01-s1" --format json >"$tmp/climb.json"
expect "best val acc: the highest of any epoch (99.87), not the accuracy at the lowest loss, and first" python3 -c "
import json
g = json.load(open('$tmp/climb.json'))
s = json.load(open('$r/climb/summary.json'))
assert s['best_val_accuracy'] < 0.99, s['best_val_accuracy']
assert abs(g[0]['metrics']['val_accuracy'] - 0.9987) < 1e-12 and g[0]['best'], g[0]"
rm -rf "$r/climb"

# ---- the other formats ---------------------------------------------------------------
"$nncl" compare --no-html "$r/sweep" --format csv >"$tmp/out.csv"
expect "csv exits 0" test $? -eq 0
expect "csv parses: one row per group, raw means, std and n" python3 -c "
import csv, json
rows = list(csv.DictReader(open('$tmp/out.csv')))
assert len(rows) == 2, rows
for row in rows:
    assert row['n'] == '2' and row['--seed'] == '1,2' and row['status'] == 'ok', row
    v = [max(float(e['val_accuracy']) for e in csv.DictReader(open('$r/grid/lr%s-s%d/metrics.csv' % (row['--lr'], s))))
         for s in (1, 2)]
    assert abs(float(row['val_accuracy']) - sum(v) / 2) < 1e-9, row
    assert float(row['val_accuracy_std']) >= 0 and '±' not in ''.join(row.values()), row
    assert len(row['dirs'].split(';')) == 2, row
assert sorted(r['best'] for r in rows) == ['0', '1'], rows
assert '--act' not in rows[0], rows[0].keys()"
"$nncl" compare --no-html "$r/sweep" --format json >"$tmp/out.json"
expect "json parses: groups with values, metrics, std, n, dirs" python3 -c "
import json
d = json.load(open('$tmp/out.json'))
assert isinstance(d, list) and len(d) == 2, d
for g in d:
    assert set(g['values']) == {'--lr', '--seed'}, g['values']
    assert g['n'] == 2 and len(g['dirs']) == 2 and 0 <= g['metrics']['val_accuracy'] <= 1, g
    assert 'val_accuracy' in g['std'] and g['status'] == 'ok', g
assert [g['best'] for g in d].count(True) == 1"
"$nncl" --json compare --no-html "$r/sweep" >"$tmp/out2.json"
expect "the global --json is --format json" cmp -s "$tmp/out.json" "$tmp/out2.json"
"$nncl" compare --no-html "$r/sweep" --format markdown >"$tmp/out.md"
expect "markdown: a header, its separator and the rows" python3 -c "
import re
lines = open('$tmp/out.md').read().split('\n')
assert lines[0].startswith('| run | --lr | --seed |'), lines[0]
assert re.fullmatch(r'\|( ---:? \|)+', lines[1]), lines[1]
assert len([l for l in lines if l.startswith('|')]) == 4, lines
bold = [l for l in lines[2:4] if l.startswith('| **')]
assert len(bold) == 1, lines"

# ---- what it accepts as a path -------------------------------------------------------
"$nncl" compare --no-html "$r/grid" --format json >"$tmp/grid.json"
expect "a folder of runs expands to its runs, in name order" python3 -c "
import json
d = json.load(open('$tmp/grid.json'))
dirs = [x for g in d for x in g['dirs']]
assert sorted(dirs) == sorted('$r/grid/lr%s-s%d' % (lr, s) for lr in ('0.002', '0.01') for s in (1, 2)), dirs
assert all(g['dirs'] == sorted(g['dirs']) for g in d), d"
"$nncl" compare --no-html "$r/grid/lr0.002-s1" "$r/grid/lr0.01-s1" --format json >"$tmp/two.json"
expect "two run directories: two rows, only --lr differs" python3 -c "
import json
d = json.load(open('$tmp/two.json'))
assert len(d) == 2 and all(list(g['values']) == ['--lr'] and g['n'] == 1 for g in d), d"
"$nncl" compare --no-html "$r/sweep" "$r/grid/lr0.002-s1" --format json >"$tmp/dup.json"
expect "a run named twice (directly and in its sweep) counts once" python3 -c "
import json; assert sum(g['n'] for g in json.load(open('$tmp/dup.json'))) == 4"
"$nncl" compare --no-html "$r/sweep2" >"$tmp/sweep2.txt" 2>&1
expect "a failed trial that left no run is shown with its status" sh -c "grep -q '^5 runs in 3 rows' '$tmp/sweep2.txt' && grep -q '005_lr-0.05_seed-1 .*0.05 .* failed' '$tmp/sweep2.txt'"

# ---- refusals ------------------------------------------------------------------------
refuse() { # DESCRIPTION PATTERN ARGS...: exit 2 and stderr matching PATTERN
    rd=$1; rp=$2; shift 2
    "$nncl" compare --no-html "$@" >"$tmp/refuse.out" 2>"$tmp/refuse.err"
    rrc=$?
    expect "$rd: exits 2 (got $rrc)" test $rrc -eq 2
    expect "$rd: the message names it" grep -q -- "$rp" "$tmp/refuse.err"
    expect "$rd: prints nothing on stdout" test ! -s "$tmp/refuse.out"
}
refuse "different data" "different data: $r/grid/lr0.002-s1 (mnist, .*) and $r/other/tiny (.*tiny.csv" \
    "$r/grid/lr0.002-s1" "$r/other/tiny"
"$nncl" compare --no-html "$r/grid/lr0.002-s1" "$r/other/tiny" --force >"$tmp/force.txt" 2>"$tmp/force.err"
expect "--force compares them anyway" test $? -eq 0
expect "...showing --data as a differing flag, with a note" sh -c "grep -q -- '--data' '$tmp/force.txt' && grep -q 'different data' '$tmp/force.err'"
refuse "a regression run with classification" "different tasks: $r/grid/lr0.002-s1 (classify) and $r/other/reg-0.002 (regress)" \
    "$r/grid/lr0.002-s1" "$r/other/reg-0.002"
refuse "a directory that is not a run" "$r/notarun: not a run or a sweep" "$r/notarun"
refuse "an empty directory" "$r/empty: not a run or a sweep" "$r/empty"
refuse "a missing path" "$r/nothere: no such directory" "$r/grid/lr0.002-s1" "$r/nothere"
refuse "a run without metrics.csv" "$r/other/nometrics: the run has no metrics to compare: metrics.csv is missing" \
    "$r/grid/lr0.002-s1" "$r/other/nometrics"
refuse "a run whose metrics.csv has no rows" "$r/other/headeronly: .*no epoch rows" "$r/other/headeronly"
refuse "a truncated sweep.json" "$r/badsweep/sweep.json: half-written or not a sweep file" "$r/badsweep"
refuse "a sweep.json whose trial has no dir" "$r/badsweep2/sweep.json: half-written or not a sweep file: trials\[0\]" "$r/badsweep2"
refuse "a folder with a non-run among its runs" "$r/mixed: not a run or a sweep.*its subfolder zz is not a run" "$r/mixed"

# ---- regression ----------------------------------------------------------------------
"$nncl" compare --no-html "$r/other/reg-0.002" "$r/other/reg-0.02" >"$tmp/reg.txt" 2>&1
expect "two regression runs compare" test $? -eq 0
cells "$tmp/reg.txt" >"$tmp/reg.json"
expect "regression: MAE, RMSE and R² columns, no accuracy" python3 -c "
import json
rows = json.load(open('$tmp/reg.json')); h = rows[0][1:]
for col in ('best val MAE', 'final val MAE', 'test RMSE', 'test MAE', 'test R²'):
    assert col in h, h
assert not any('acc' in c for c in h) and [c for c in h if c.startswith('--')] == ['--lr'], h
i = h.index('test RMSE') + 1
for row in rows[1:]:
    lr = row[h.index('--lr') + 1]
    s = json.load(open('$r/other/reg-%s/summary.json' % lr))
    assert abs(float(row[i]) - s['test_rmse']) <= 0.0006 * max(1, abs(s['test_rmse'])), (row, s)
    assert abs(float(row[h.index('test R²') + 1]) - s['test_r2']) < 0.001, (row, s)
best = [r for r in rows[1:] if r[0] == '*']
assert len(best) == 1 and float(best[0][h.index('best val MAE') + 1]) == min(float(r[h.index('best val MAE') + 1]) for r in rows[1:])
assert 'lowest validation MAE' in open('$tmp/reg.txt').read()"
"$nncl" compare --no-html "$r/other/reg-0.002" "$r/other/reg-0.02" --format csv >"$tmp/reg.csv"
expect "regression csv has test_r2 and val_mae, no accuracy" python3 -c "
import csv
rows = list(csv.DictReader(open('$tmp/reg.csv')))
assert len(rows) == 2 and 'test_r2' in rows[0] and 'val_mae' in rows[0] and 'test_accuracy' not in rows[0], rows"
"$nncl" compare --no-html "$r/other/reg-0.002" "$r/other/reg-0.02" --sort test_accuracy >/dev/null 2>&1
expect "regression: --sort test_accuracy exits 2" test $? -eq 2

# ---- nothing changed -----------------------------------------------------------------
listing >"$tmp/after.txt"
expect "no file in any run or sweep directory changed" cmp -s "$tmp/before.txt" "$tmp/after.txt"

# ---- the page: compare.html ----------------------------------------------------------
# A real sweep of 4 runs (lr x act): its page in headless Chromium, where the page
# goes (SWEEP_DIR/compare.html, ./compare.html, --html, --no-html), and that no run
# directory changes.
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
have_browser=1
if ! command -v chromedriver >/dev/null 2>&1 || ! $py -c "import selenium" 2>/dev/null; then
    echo "SKIPPED: the browser checks need chromium, chromium-driver and python3-selenium (tools/setup.sh test installs them)"
    have_browser=0
fi
browser() { $py "$src/tests/compare_browser.py" "$@" >"$tmp/browser.log" 2>&1; brc=$?; cat "$tmp/browser.log"; return $brc; }
pg="$tmp/pg"
mkdir -p "$pg/cwd" "$pg/out"
"$nncl" sweep --device host --lr 0.002,0.02 --act relu,tanh --limit 600 --epochs 2 --layers 16 --batch 50 \
    --snapshots 0 --no-report --out "$pg/sweep" >"$tmp/sweep.log" 2>&1
expect "a sweep of 4 runs (--lr 0.002,0.02 --act relu,tanh) exits 0" test $? -eq 0
expect "...with its sweep.json and 4 runs" test "$(ls -d "$pg"/sweep/*/config.json 2>/dev/null | wc -l)" -eq 4
runs_listing() { for d in "$pg"/sweep/*/ "$r"/grid/*/; do ls -l --time-style=+%s.%N "$d"; done; }
runs_listing >"$tmp/runs-before.txt"

"$nncl" compare "$pg/sweep" >"$tmp/page.txt" 2>"$tmp/page.err"
expect "compare SWEEP_DIR exits 0" test $? -eq 0
expect "it writes SWEEP_DIR/compare.html" test -s "$pg/sweep/compare.html"
expect "...and says so after the table: page: PATH" test "$(tail -n 1 "$tmp/page.txt")" = "page: $pg/sweep/compare.html"
expect "the page is one file: no src= or href= to anything, a CSP forbidding requests" python3 -c "
import re
t = open('$pg/sweep/compare.html').read()
assert not re.search(r'<(script|link|img|iframe)[^>]+(src|href)=', t), 'an external reference'
assert \"default-src 'none'\" in t and 'Chart' in t and 'nnclCommon' in t
d = re.search(r'<script id=\"nncl-data\" type=\"application/json\">(.*?)</script>', t, re.S).group(1)
assert '<' not in d
import json; d = json.loads(d)
assert len(d['runs']) == 4 and all(r['weights'] and r['weights']['count'] == 16 * 785 + 10 * 17 for r in d['runs']), d['runs'][0].get('weights')"
if [ $have_browser -eq 1 ]; then
    browser "$pg/sweep/compare.html" --runs 4 --rows 4 --tiles 64 --networks 4 --screenshot "$tmp/compare.png"
    expect "the page passes in headless Chromium (4 curves, 4 rows, 4 lines, brushing)" test $? -eq 0
    expect "...and its screenshot was taken" test -s "$tmp/compare.png"
fi

rm -f "$pg/sweep/compare.html"
"$nncl" compare --no-html "$pg/sweep" >"$tmp/nohtml.txt" 2>&1
expect "--no-html exits 0" test $? -eq 0
expect "--no-html writes no page" test ! -e "$pg/sweep/compare.html"
expect "--no-html prints no page line" sh -c "! grep -q '^page:' '$tmp/nohtml.txt'"
"$nncl" compare "$pg/sweep" --html "$pg/out/mine.html" >"$tmp/html.txt" 2>&1
expect "--html FILE writes FILE" test -s "$pg/out/mine.html"
expect "...and nothing in the sweep directory" test ! -e "$pg/sweep/compare.html"
expect "...and names it" grep -q "^page: $pg/out/mine.html\$" "$tmp/html.txt"
"$nncl" compare "$pg/sweep" --format csv --html "$pg/out/csv.html" >"$tmp/page.csv" 2>"$tmp/page-csv.err"
expect "--format csv writes the page too, its output only CSV" sh -c "test -s '$pg/out/csv.html' && ! grep -q 'page:' '$tmp/page.csv' && test ! -s '$tmp/page-csv.err' && python3 -c \"
import csv; rows = list(csv.DictReader(open('$tmp/page.csv'))); assert len(rows) == 4 and 'val_accuracy' in rows[0]\""
nncl_abs=$(cd "$(dirname "$nncl")" && pwd)/$(basename "$nncl")
(cd "$pg/cwd" && "$nncl_abs" compare "$pg/sweep/001_lr-0.002_act-relu" "$pg/sweep/004_lr-0.02_act-tanh" >/dev/null 2>&1)
expect "run directories as arguments: the page goes to ./compare.html" test -s "$pg/cwd/compare.html"
(cd "$pg/sweep/001_lr-0.002_act-relu" && "$nncl_abs" compare . ../002_lr-0.002_act-tanh >/dev/null 2>"$tmp/inrun0.err")
expect "from inside a run directory, the default page is refused (exit 2), nothing written" sh -c "test $? -eq 2 && grep -q 'inside a run directory' '$tmp/inrun0.err' && test ! -e '$pg/sweep/001_lr-0.002_act-relu/compare.html'"
"$nncl" compare "$pg/sweep" --html "$pg/sweep/001_lr-0.002_act-relu/compare.html" >"$tmp/inrun.out" 2>"$tmp/inrun.err"
expect "--html inside a run directory exits 2" test $? -eq 2
expect "...naming it, writing nothing" sh -c "grep -q 'is a run directory' '$tmp/inrun.err' && test ! -e '$pg/sweep/001_lr-0.002_act-relu/compare.html' && test ! -s '$tmp/inrun.out'"
"$nncl" compare "$pg/sweep" --html "$pg/out/x.html" --no-html >/dev/null 2>&1
expect "--html with --no-html exits 2" test $? -eq 2
"$nncl" compare --help >"$tmp/help2.txt"
expect "--help tells of the page, --html and --no-html" sh -c "grep -q compare.html '$tmp/help2.txt' && grep -q -- --html '$tmp/help2.txt' && grep -q -- --no-html '$tmp/help2.txt'"

# The other pages: seeds folded (grid: 4 runs in 2 rows), a failed trial that left
# no run (sweep2: 5 runs, 4 with curves), regression runs, one run.
"$nncl" compare "$r/grid" --html "$pg/out/grid.html" >/dev/null 2>&1 &&
    "$nncl" compare "$r/sweep2" --html "$pg/out/sweep2.html" >/dev/null 2>&1 &&
    "$nncl" compare "$r/other/reg-0.002" "$r/other/reg-0.02" --html "$pg/out/reg.html" >/dev/null 2>&1 &&
    "$nncl" compare "$r/grid/lr0.01-s2" --html "$pg/out/one.html" >/dev/null 2>&1
expect "the pages of seeds, a failed trial, regression and one run are written" test $? -eq 0
if [ $have_browser -eq 1 ]; then
    browser "$pg/out/grid.html" --runs 4 --rows 2 --tiles 64 --networks 4
    expect "seeds folded: the page passes" test $? -eq 0
    browser "$pg/out/sweep2.html" --runs 5 --curves 4 --rows 3 --tiles 64 --networks 4
    expect "a failed trial: the page passes, without curves or weights for it" test $? -eq 0
    browser "$pg/out/reg.html" --runs 2 --rows 2 --regress --tiles 16 --networks 2
    expect "regression: the page passes" test $? -eq 0
    browser "$pg/out/one.html" --runs 1 --rows 1 --tiles 16 --networks 1
    expect "one run: the page passes" test $? -eq 0
fi

# A dense run and a CNN: the CNN's --layers as given (not its flattened sizes), its
# first convolution's filters and its layer table where a dense run has its
# tiles and drawing, and the dense run's weights as ever.
"$nncl" train --device host --limit 600 --layers conv:4:5,maxpool:2,16 --epochs 1 --batch 32 --quiet --no-report \
    --out "$pg/cnn" >/dev/null 2>&1
expect "a CNN run (conv:4:5,maxpool:2,16) trains" test -s "$pg/cnn/model.safetensors"
"$nncl" compare --no-html "$r/grid/lr0.002-s1" "$pg/cnn" --format json >"$tmp/cnn.json" 2>&1
expect "dense and CNN: --layers is each run's own (conv:4:5,maxpool:2,16, not flattened sizes)" python3 -c "
import json
d = json.load(open('$tmp/cnn.json'))
v = sorted(g['values']['--layers'] for g in d)
assert v == ['16', 'conv:4:5,maxpool:2,16'], v"
"$nncl" compare "$r/grid/lr0.002-s1" "$pg/cnn" --html "$pg/out/cnn.html" >/dev/null 2>&1
expect "dense and CNN: the page is written" test -s "$pg/out/cnn.html"
expect "...the CNN's weights are its layers and the model's filters, the dense run's codes as ever" python3 -c "
import json, re
t = open('$pg/out/cnn.html').read()
d = json.loads(re.search(r'<script id=\"nncl-data\" type=\"application/json\">(.*?)</script>', t, re.S).group(1))
codes = re.search(r'<script id=\"nncl-weights\" type=\"text/plain\">(.*?)</script>', t, re.S).group(1)
dense, cnn = sorted(d['runs'], key=lambda r: r['dir'].endswith('/cnn'))
assert dense['weights']['count'] == 16 * 785 + 10 * 17 == len(codes), (dense['weights']['count'], len(codes))
w = cnn['weights']
assert w['form'] == 'layers' and 'offset' not in w and cnn['weights_note'] is None, w
assert [r['layer'] for r in w['layer_list']['rows']] == ['conv:4:5', 'maxpool:2', '16', '10'], w['layer_list']['rows']
F = w['layer_list']['filters']
assert F['dims'] == [4, 1, 5, 5] and len(F['codes']) == 100 and len(F['bias']) == 4, F
assert cnn['net']['layer_specs'] == 'conv:4:5,maxpool:2,16', cnn['net']"
if [ $have_browser -eq 1 ]; then
    browser "$pg/out/cnn.html" --runs 2 --rows 2 --tiles 16 --networks 1 --filters 4 --layer-tables 1 \
        --screenshot "${NNCL_SHOTS:-$tmp}/compare-cnn.png"
    expect "dense and CNN: the page passes (16 tiles and a drawing, 4 filters and a layer table)" test $? -eq 0
fi

runs_listing >"$tmp/runs-after.txt"
expect "writing the pages changed no run directory" cmp -s "$tmp/runs-before.txt" "$tmp/runs-after.txt"

finish
