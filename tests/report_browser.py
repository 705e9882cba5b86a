#!/usr/bin/env python3
"""Check an nncl report.html in a real headless Chromium.

usage: report_browser.py REPORT.html [--layers L] [--tiles N] [--classes C]
           [--test-rows N] [--frames S] [--regress] [--screenshot-dir DIR]
           [--filters K --layer-rows R]
           [--timing] [--max-ready-ms MS] [--max-redraw-ms MS]

--layers L is the number of weight layers (784-256-10 has L = 2): the page
must have L + 1 columns marked [data-layer], numbered 0 (inputs) to L
(outputs). --tiles N: that many canvas.tile (one per first-layer unit of an
image input). --classes C: table.confusion is C x C and, with --test-rows,
its cells sum to N. --regress: no confusion table, two charts of the test
predictions instead. --frames S: nnclReport.frames is S. A classification
run's result card shows as its best validation the highest accuracy of any
epoch in metrics.csv with that epoch (and the lowest-loss epoch beside it
when that is another).

A layer-list network (a CNN): --filters K, the "First convolution's filters"
panel has K canvas.filter tiles (filters x input channels), each drawn (not
blank, not one colour) and a scale stated; --layer-rows R, the layer table
(table.layer-list) has R layer rows, each with a shape "in → out". With
--filters the page must have no dense drawing (no [data-layer] column, no
canvas.tile) instead of --layers' columns.

Each check prints `ok: ...` or `FAIL: ...`; the last line is
`N passed, N failed`. Exit status 0 when every check passed, 1 when one
failed, 77 (skip) when selenium or Chromium is not installed.
"""
import argparse
import csv
import json
import os
import sys

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import browser_check as bc  # noqa: E402

bc.use_system_python(__file__)
from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402


def network_png(driver):
    """The network drawing alone, with the sticky time bar out of the way."""
    el = driver.find_element(By.ID, "network")
    driver.execute_script(
        "const b = document.getElementById('timebar'); if (b) b.style.visibility = 'hidden';"
        "arguments[0].scrollIntoView({block: 'center'});", el)
    png = el.screenshot_as_png
    driver.execute_script("const b = document.getElementById('timebar'); if (b) b.style.visibility = '';")
    return png


def check_filters(driver, c, want):
    """The filters panel: its heading, want tiles each showing more than one
    colour (a filter of 25 random weights is never flat), and its scale."""
    f = driver.execute_script("""
        const sec = document.getElementById('tiles-section');
        const tiles = Array.from(sec.querySelectorAll('canvas.filter'));
        const colours = tiles.map(cv => {
          const d = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data, seen = new Set();
          for (let i = 0; i < d.length; i += 4) seen.add(d[i] + ',' + d[i + 1] + ',' + d[i + 2] + ',' + d[i + 3]);
          return seen.size;
        });
        return {h2: sec.querySelector('h2').textContent, n: tiles.length, colours: colours,
                shown: tiles.every(cv => cv.getBoundingClientRect().width >= 20),
                scale: Array.from(sec.querySelectorAll('.scale-ticks span')).map(s => s.textContent),
                dense: document.querySelectorAll('canvas.tile').length};""")
    c.check(f["h2"] == "First convolution's filters", "the panel is headed First convolution's filters", f["h2"])
    c.check(f["n"] == want, "the filters panel has %d tiles (canvas.filter)" % want, "found %d" % f["n"])
    if want == 0:
        note = driver.execute_script("const e = document.querySelector('#tiles .empty'); return e ? e.textContent : ''")
        c.check(note.startswith("No filters to draw: "), "without filters, the panel says why", "it says %r" % note)
        return
    c.check(f["n"] > 0 and all(k > 1 for k in f["colours"]), "every filter tile is drawn in more than one colour",
            "colours per tile %s" % f["colours"])
    c.check(f["shown"], "the tiles are drawn at least 20 px wide")
    c.check(len(f["scale"]) == 3 and f["scale"][0].startswith("-") and "or more" in f["scale"][2],
            "the filters' colour scale is stated (-x or less, 0, +x or more)", "%s" % f["scale"])
    c.check(f["dense"] == 0, "no first-layer tiles of a dense network (canvas.tile)", "found %d" % f["dense"])


def check_layer_table(driver, c, want):
    t = driver.execute_script("""
        const t = document.querySelector('#network-section table.layer-list');
        if (!t) return null;
        return Array.from(t.querySelectorAll('tbody tr:not(.total)')).map(r => Array.from(r.children).map(td => td.textContent));""")
    if c.check(t is not None, "the layer table (table.layer-list) is in the network section"):
        rows = [r for r in t if len(r) == 5 and r[0].isdigit()]
        c.check(len(rows) == want and all("→" in r[2] for r in rows),
                "the layer table has %d layer rows, each with its shape in → out" % want, "rows %s" % t)


def check_best_validation(driver, c, run_dir):
    metrics, summary = os.path.join(run_dir, "metrics.csv"), os.path.join(run_dir, "summary.json")
    if not (os.path.exists(metrics) and os.path.exists(summary)):
        return
    with open(metrics) as f:
        rows = [r for r in csv.DictReader(f) if r.get("val_accuracy") not in (None, "", "nan")]
    with open(summary) as f:
        s = json.load(f)
    if not rows or "best_val_accuracy" not in s:
        return
    best = max(rows, key=lambda r: float(r["val_accuracy"]))
    want = "%.2f%% (epoch %s)" % (100 * float(best["val_accuracy"]), best["epoch"])
    cards = driver.execute_script("""
        return Array.from(document.querySelectorAll('#glance-cards dt')).map(
            dt => [dt.textContent, dt.nextElementSibling ? dt.nextElementSibling.textContent : '']);""")
    got = dict(cards)
    c.check(got.get("best validation") == want, "the result card's best validation is %s" % want,
            "it is %r" % got.get("best validation"))
    at_loss = s.get("best_epoch")
    if at_loss and str(at_loss) != best["epoch"]:
        c.check("at lowest val. loss" in got, "...and the epoch of the lowest validation loss (%s) beside it" % at_loss,
                "not shown: %s" % cards)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("report")
    ap.add_argument("--layers", type=int, help="weight layers L; expect L + 1 [data-layer] columns")
    ap.add_argument("--tiles", type=int, help="expected number of canvas.tile")
    ap.add_argument("--classes", type=int, help="expected size C of the C x C confusion table")
    ap.add_argument("--test-rows", type=int, help="expected sum of the confusion table's cells")
    ap.add_argument("--frames", type=int, help="expected nnclReport.frames")
    ap.add_argument("--regress", action="store_true", help="a regression run: scatter charts, no confusion table")
    ap.add_argument("--filters", type=int, help="a layer list: expected canvas.filter tiles of the first convolution")
    ap.add_argument("--layer-rows", type=int, help="a layer list: expected layer rows of table.layer-list")
    ap.add_argument("--screenshot-dir", help="save first.png and last.png (full page) here")
    ap.add_argument("--timing", action="store_true", help="print the time to ready and the mean redraw time")
    ap.add_argument("--max-ready-ms", type=float, help="with --timing: fail when ready takes longer")
    ap.add_argument("--max-redraw-ms", type=float, help="with --timing: fail when a redraw takes longer")
    a = ap.parse_args()

    driver, url = bc.start(a.report)
    if url is None:
        return driver
    if a.screenshot_dir:
        os.makedirs(a.screenshot_dir, exist_ok=True)

    c = bc.Checks()
    try:
        ready, wall_ms = bc.load(driver, url)
        c.check(ready, "the page is ready (body[data-ready=1])", "not ready after 60 s")
        # smooth scrolling makes chromedriver's element screenshots wait for the renderer
        driver.execute_script("document.documentElement.style.scrollBehavior = 'auto'")
        if not ready:
            for e in driver.get_log("browser"):
                print("  console %s: %s" % (e.get("level"), e.get("message")))
            return bc.finish(c)

        report = driver.execute_script("return window.nnclReport ? {frames: window.nnclReport.frames, "
                                       "readyAt: window.nnclReport.readyAt, buildMs: window.nnclReport.buildMs, "
                                       "timings: window.nnclReport.timings || null} : null")
        c.check(report is not None, "window.nnclReport is there")
        frames = report["frames"] if report else 0
        if a.frames is not None:
            c.check(frames == a.frames, "nnclReport.frames is %d" % a.frames, "it is %s" % frames)

        # the drawing's columns
        cols = driver.execute_script(
            "return Array.from(document.querySelectorAll('[data-layer]')).map(e => e.getAttribute('data-layer'))")
        if a.layers is not None:
            want = [str(i) for i in range(a.layers + 1)]
            c.check(sorted(cols, key=lambda x: int(x) if x.isdigit() else -1) == want,
                    "the network drawing has %d columns [data-layer] 0..%d" % (a.layers + 1, a.layers),
                    "found %s" % cols)
        elif a.filters is not None:
            c.check(not cols, "a layer list: no dense network drawing ([data-layer] columns)", "found %s" % cols)
        else:
            c.check(len(cols) >= 2, "the network drawing has [data-layer] columns", "found %d" % len(cols))
        if a.filters is not None:
            check_filters(driver, c, a.filters)
        if a.layer_rows is not None:
            check_layer_table(driver, c, a.layer_rows)

        if a.tiles is not None:
            n = driver.execute_script("return document.querySelectorAll('canvas.tile').length")
            c.check(n == a.tiles, "%d first-layer tiles (canvas.tile)" % a.tiles, "found %d" % n)

        # the result card's best validation: the highest accuracy of any
        # epoch in metrics.csv, with its epoch (not summary.json's accuracy
        # at the lowest validation loss, shown beside it when that is another epoch)
        check_best_validation(driver, c, os.path.dirname(os.path.abspath(a.report)))

        # test results
        conf = driver.execute_script("""
            const t = document.querySelector('table.confusion');
            if (!t) return null;
            const rows = Array.from(t.querySelectorAll('tbody tr'));
            const cells = rows.map(r => Array.from(r.querySelectorAll('td')).map(td => td.textContent));
            return {rows: rows.length, cols: cells.map(r => r.length), cells: cells,
                    head: t.querySelectorAll('thead th').length};""")
        if a.classes is not None:
            if c.check(conf is not None, "a confusion table (table.confusion)"):
                shape_ok = conf["rows"] == a.classes and all(n == a.classes for n in conf["cols"])
                c.check(shape_ok, "the confusion table is %d x %d" % (a.classes, a.classes),
                        "%d rows of %s cells" % (conf["rows"], sorted(set(conf["cols"]))))
                if a.test_rows is not None:
                    try:
                        total = sum(int("".join(ch for ch in v if ch.isdigit()) or "x") for r in conf["cells"] for v in r)
                    except ValueError:
                        total = None
                    c.check(total == a.test_rows, "the confusion table's cells sum to %d test rows" % a.test_rows,
                            "they sum to %s" % total)
        if a.regress:
            c.check(conf is None, "no confusion table for a regression run")
            n = driver.execute_script("return document.querySelectorAll('#test canvas').length")
            c.check(n >= 2, "the test section has its prediction charts", "found %d canvases" % n)

        # the slider moves the drawing
        if frames > 1:
            smax = driver.execute_script("const s = document.querySelector('input[type=range]#frame'); return s ? +s.max : null")
            c.check(smax == frames - 1, "the slider input#frame has max = frames - 1 = %d" % (frames - 1), "max is %s" % smax)
            play = driver.execute_script("return !!document.getElementById('play')")
            c.check(play, "the play button #play is there")
            driver.execute_script("window.nnclReport.setFrame(0)")
            if a.screenshot_dir:
                bc.full_page_png(driver, os.path.join(a.screenshot_dir, "first.png"))
            png0 = network_png(driver)
            moved = driver.execute_script("""
                const s = document.getElementById('frame');
                s.value = s.max;
                s.dispatchEvent(new Event('input', {bubbles: true}));
                return window.nnclReport.frame;""")
            c.check(moved == frames - 1, "moving the slider to its end shows the last frame", "frame is %s" % moved)
            if a.screenshot_dir:
                bc.full_page_png(driver, os.path.join(a.screenshot_dir, "last.png"))
            png1 = network_png(driver)
            c.check(png0 != png1, "the network drawing changes between the first and the last frame")
        else:
            c.check(True, "%s: no time slider to move" % ("one frame" if frames == 1 else "no frames"))
            if a.screenshot_dir:
                bc.full_page_png(driver, os.path.join(a.screenshot_dir, "first.png"))
                bc.full_page_png(driver, os.path.join(a.screenshot_dir, "last.png"))

        if a.timing:
            ready_ms = report["readyAt"] if report else None
            print("timing: ready %.0f ms after navigation started (page script %.0f ms; %.0f ms as seen by the driver)"
                  % (ready_ms or -1, report["buildMs"] if report else -1, wall_ms))
            if report and report.get("timings"):
                print("timing: page script parts (ms): " + ", ".join("%s %s" % kv for kv in report["timings"].items()))
            redraw = None
            if frames > 1:
                redraw = driver.execute_script("""
                    const n = window.nnclReport.frames, times = [];
                    for (let i = 0; i < 10; i++) {
                        const k = Math.round((i % 2 ? i : 9 - i) * (n - 1) / 9);
                        const t = performance.now();
                        window.nnclReport.setFrame(k);
                        void document.body.offsetHeight;   // include style and layout
                        times.push(performance.now() - t);
                    }
                    return {mean: times.reduce((a, b) => a + b, 0) / times.length, max: Math.max(...times)};""")
                print("timing: setFrame mean %.1f ms, max %.1f ms over 10 calls" % (redraw["mean"], redraw["max"]))
            if a.max_ready_ms is not None and ready_ms is not None:
                c.check(ready_ms <= a.max_ready_ms, "ready within %.0f ms" % a.max_ready_ms, "%.0f ms" % ready_ms)
            if a.max_redraw_ms is not None and redraw is not None:
                c.check(redraw["mean"] <= a.max_redraw_ms, "a redraw takes at most %.0f ms" % a.max_redraw_ms,
                        "%.1f ms" % redraw["mean"])

        # the console and the network, after everything above ran
        bc.check_console_and_network(driver, c, url)
    except WebDriverException as e:
        c.check(False, "the browser session ran to the end", str(e).strip().splitlines()[0])
    finally:
        driver.quit()
    return bc.finish(c)


if __name__ == "__main__":
    sys.exit(main())
