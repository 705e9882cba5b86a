#!/usr/bin/env python3
"""Check an nncl compare.html in a real headless Chromium.

usage: compare_browser.py COMPARE.html --runs N [--rows R] [--tiles T]
           [--networks K] [--filters F] [--layer-tables T] [--regress]
           [--screenshot FILE]

--runs N: the page compares N runs: window.nnclCompare.runs is N, every
validation chart in #curves draws one curve per run (nnclCompare.curves, and
the charts' own datasets), and svg.parallel has one path.run per run.
--curves C instead when only C of the runs have curves (a failed trial).
--rows R: table.runs has R rows (its groups, folded). --tiles T: the
weights panel has T canvas.tile, each with data-run. --networks K: K
network drawings. --filters F: the weights panel has F canvas.filter (the
first convolution's filters of the layer-list runs), each with data-run and
drawn in more than one colour. --layer-tables T: the networks panel has T
layer tables (table.layer-list), one per layer-list run, in place of a
drawing. --regress: the table shows R² and no accuracy.

Also: no console error or warning, no network request, sorting by a click
on a heading, unfolding a group of seeds, and a drag on the parallel plot's
result axis that fades some runs (a double-click lets them go).

Each check prints `ok: ...` or `FAIL: ...`; the last line is
`N passed, N failed`. Exit status 0 when every check passed, 1 when one
failed, 77 (skip) when selenium or Chromium is not installed.
"""
import argparse
import os
import sys
import time

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import browser_check as bc  # noqa: E402

bc.use_system_python(__file__)
from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402


def rows(driver):
    return driver.execute_script("return document.querySelectorAll('table.runs tbody tr').length")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("page")
    ap.add_argument("--runs", type=int, required=True, help="the number of runs compared")
    ap.add_argument("--curves", type=int, help="curves per validation chart (default: --runs)")
    ap.add_argument("--rows", type=int, help="expected rows of table.runs (folded)")
    ap.add_argument("--tiles", type=int, help="expected canvas.tile in the weights panel")
    ap.add_argument("--networks", type=int, help="expected network drawings")
    ap.add_argument("--filters", type=int, help="expected canvas.filter (first convolutions) in the weights panel")
    ap.add_argument("--layer-tables", type=int, help="expected table.layer-list in the networks panel")
    ap.add_argument("--regress", action="store_true", help="regression runs: R² in the table, no accuracy")
    ap.add_argument("--screenshot", help="save a full-page PNG here")
    ap.add_argument("--width", type=int, default=1400, help="window width (default 1400)")
    a = ap.parse_args()
    want_curves = a.curves if a.curves is not None else a.runs

    driver, url = bc.start(a.page, a.width)
    if url is None:
        return driver

    c = bc.Checks()
    try:
        ready, wall_ms = bc.load(driver, url)
        c.check(ready, "the page is ready (body[data-ready=1])", "not ready after 60 s")
        driver.execute_script("document.documentElement.style.scrollBehavior = 'auto'")
        if not ready:
            for e in driver.get_log("browser"):
                print("  console %s: %s" % (e.get("level"), e.get("message")))
            return bc.finish(c)
        info = driver.execute_script(
            "const n = window.nnclCompare; return n ? {runs: n.runs, curves: n.curves, readyAt: n.readyAt} : null")
        if c.check(info is not None, "window.nnclCompare is there"):
            c.check(info["runs"] == a.runs, "nnclCompare.runs is %d" % a.runs, "it is %s" % info["runs"])
            c.check(info["curves"] == want_curves, "nnclCompare.curves is %d (one curve per run)" % want_curves,
                    "it is %s" % info["curves"])
            print("  ready %.0f ms after navigation started (%.0f ms as seen by the driver)"
                  % (info["readyAt"] or -1, wall_ms))

        # the curves: every validation chart has one dataset per run, each its own colour
        charts = driver.execute_script("""
            return Array.from(document.querySelectorAll('#curves canvas')).map(cv => {
              const ch = Chart.getChart(cv);
              if (!ch) return null;
              const val = ch.data.datasets.filter(d => d.$val);
              return {n: val.length, runs: new Set(val.map(d => d.$run)).size};
            });""")
        c.check(len(charts) == 2 and all(x is not None for x in charts),
                "#curves holds two charts (validation loss and %s)" % ("MAE" if a.regress else "accuracy"),
                "found %s" % charts)
        c.check(all(x and x["n"] == want_curves and x["runs"] == want_curves for x in charts),
                "each validation chart draws %d curves, one per run" % want_curves, "found %s" % charts)
        colours = driver.execute_script("return new Set(window.nnclCompare.colours).size")
        c.check(colours == a.runs, "every run has its own colour", "%s colours for %d runs" % (colours, a.runs))

        # the parallel coordinates
        paths = driver.execute_script("""
            const s = document.querySelector('svg.parallel');
            return s ? Array.from(s.querySelectorAll('path.run')).map(p => +p.dataset.run) : null;""")
        c.check(paths is not None and sorted(paths) == list(range(a.runs)),
                "svg.parallel has one path.run per run (%d)" % a.runs, "found %s" % paths)

        # the table
        n_rows = rows(driver)
        if a.rows is not None:
            c.check(n_rows == a.rows, "table.runs has %d rows" % a.rows, "it has %d" % n_rows)
        heads = driver.execute_script(
            "return Array.from(document.querySelectorAll('table.runs thead th')).map(t => t.textContent.replace(/^[▲▼]/, ''))")
        if a.regress:
            c.check(any("R²" in x for x in heads) and not any("acc" in x for x in heads),
                    "regression: the table shows R², no accuracy", "headings %s" % heads)
        else:
            c.check(any("val acc" in x for x in heads), "the table shows the validation accuracy", "headings %s" % heads)
        best = driver.execute_script("return document.querySelectorAll('table.runs tr.best').length")
        c.check(best <= 1, "at most one row is marked best", "%d are" % best)

        # sorting by a click on the name heading, then back on the result
        names = driver.execute_script("""
            const th = Array.from(document.querySelectorAll('table.runs thead th')).find(t => t.dataset.key === 'name');
            th.click();
            const a = Array.from(document.querySelectorAll('table.runs tbody tr')).map(r => r.querySelector('td.name').dataset.name);
            th.click();
            const b = Array.from(document.querySelectorAll('table.runs tbody tr')).map(r => r.querySelector('td.name').dataset.name);
            return {a: a, b: b};""")
        asc = names["a"]
        c.check(asc == sorted(asc) and names["b"] == sorted(asc, reverse=True),
                "clicking the run heading sorts by name, a second click reverses", "%s / %s" % (names["a"], names["b"]))
        order = driver.execute_script("""
            const ths = Array.from(document.querySelectorAll('table.runs thead th'));
            const k = ths.findIndex(t => / val (acc|MAE)/.test(t.textContent) && /best/.test(t.textContent));
            if (k < 0) return null;
            ths[k].click();
            return Array.from(document.querySelectorAll('table.runs tbody tr')).map(r => r.children[k].dataset.value);""")
        if order is not None:
            vals = [float(v) for v in order if v]
            want = sorted(vals) if a.regress else sorted(vals, reverse=True)
            c.check(vals == want, "clicking the validation heading sorts best first", "%s" % order)

        # unfolding a group of seeds
        folds = driver.execute_script("return document.querySelectorAll('table.runs button.fold').length")
        if folds:
            before = rows(driver)
            driver.execute_script("document.querySelector('table.runs button.fold').click()")
            after = rows(driver)
            c.check(after > before, "unfolding a group shows its runs", "%d rows, then %d" % (before, after))
            driver.execute_script("document.querySelector('table.runs button.fold').click()")
            c.check(rows(driver) == before, "folding it again hides them")

        # weights and networks
        tiles = driver.execute_script("""
            const t = Array.from(document.querySelectorAll('#weights canvas.tile'));
            return {n: t.length, tagged: t.filter(c => c.dataset.run != null && c.dataset.run !== '').length,
                    runs: new Set(t.map(c => c.dataset.run)).size};""")
        if a.tiles is not None:
            c.check(tiles["n"] == a.tiles and tiles["tagged"] == tiles["n"],
                    "the weights panel has %d canvas.tile, each with data-run" % a.tiles, "found %s" % tiles)
        if a.networks is not None:
            nets = driver.execute_script("return document.querySelectorAll('#networks .network svg').length")
            c.check(nets == a.networks, "%d network drawings" % a.networks, "found %d" % nets)
            drawn = driver.execute_script("""
                return Array.from(document.querySelectorAll('#networks .network canvas')).every(cv => {
                  const d = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
                  for (let i = 3; i < d.length; i += 4 * 7) if (d[i]) return true;
                  return false;
                });""")
            c.check(bool(drawn) or a.networks == 0, "every network drawing has its weights drawn")

        if a.filters is not None:
            f = driver.execute_script("""
                const t = Array.from(document.querySelectorAll('#weights canvas.filter'));
                return {n: t.length, tagged: t.filter(c => c.dataset.run != null && c.dataset.run !== '').length,
                        flat: t.filter(cv => {
                          const d = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data, seen = new Set();
                          for (let i = 0; i < d.length; i += 4) seen.add(d[i] + ',' + d[i + 1] + ',' + d[i + 2]);
                          return seen.size < 2; }).length,
                        scales: document.querySelectorAll('#weights .filters .scale-bar').length};""")
            c.check(f["n"] == a.filters and f["tagged"] == f["n"],
                    "the weights panel has %d canvas.filter, each with data-run" % a.filters, "found %s" % f)
            c.check(f["flat"] == 0 and (f["n"] == 0 or f["scales"] >= 1),
                    "every filter is drawn in more than one colour, with its colour scale", "found %s" % f)
        if a.layer_tables is not None:
            t = driver.execute_script("""
                return Array.from(document.querySelectorAll('#networks table.layer-list')).map(t =>
                  t.querySelectorAll('tbody tr:not(.total)').length);""")
            c.check(len(t) == a.layer_tables and all(n >= 2 for n in t),
                    "%d layer tables (table.layer-list) in the networks panel" % a.layer_tables, "found %s" % t)

        if a.screenshot:
            os.makedirs(os.path.dirname(os.path.abspath(a.screenshot)), exist_ok=True)
            # a canvas below the window may not be painted yet when the page is captured
            driver.execute_script("window.scrollTo(0, document.body.scrollHeight)")
            time.sleep(0.4)
            bc.full_page_png(driver, a.screenshot)

        # brushing: drag along the result axis, from its top to its middle
        hit = driver.find_elements(By.CSS_SELECTOR, "svg.parallel rect.hit[data-axis='result']")
        if c.check(len(hit) == 1, "the parallel plot has a result axis to brush"):
            el = hit[0]
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", el)
            h = el.size["height"]
            ActionChains(driver).move_to_element_with_offset(el, 0, int(-h / 2) + 4).click_and_hold() \
                .move_by_offset(0, int(h * 0.45)).move_by_offset(0, 2).release().perform()
            faded = driver.execute_script("return window.nnclCompare.faded().length")
            paths_faded = driver.execute_script("return document.querySelectorAll('svg.parallel path.run.faded').length")
            if a.runs > 1:
                c.check(0 < faded < a.runs and paths_faded == faded,
                        "dragging on the result axis fades the runs outside the range",
                        "%s of %d faded, %s paths" % (faded, a.runs, paths_faded))
            else:
                c.check(faded in (0, 1), "dragging on the result axis of one run works", "%s faded" % faded)
            ActionChains(driver).double_click(el).perform()
            faded = driver.execute_script("return window.nnclCompare.faded().length")
            c.check(faded == 0, "a double-click on the axis lets them go", "%s still faded" % faded)

        # the controls: every one redraws without an error, and the counts hold
        driver.execute_script("""
            for (const id of ['x-time', 'x-epoch']) { const b = document.getElementById(id); if (!b.disabled) b.click(); }
            for (const id of ['show-train', 'loss-log']) document.getElementById(id).click();
            const sel = document.getElementById('result-metric');
            sel.value = sel.options[sel.options.length - 1].value;
            sel.dispatchEvent(new Event('change'));
            document.getElementById('range-shared').click();""")
        after = driver.execute_script("""
            return {paths: document.querySelectorAll('svg.parallel path.run').length,
                    val: Array.from(document.querySelectorAll('#curves canvas')).map(cv => Chart.getChart(cv).data.datasets.filter(d => d.$val).length)};""")
        c.check(after["paths"] == a.runs and all(n == want_curves for n in after["val"]),
                "after the x axis, training curves, log scale, result and colour range controls: still one curve and one line per run",
                "%s" % after)

        # hovering: a legend entry picks its runs out on the parallel plot; a tile and a unit show their weights
        legend = driver.find_elements(By.CSS_SELECTOR, "#legend .leg")
        if legend:
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", legend[0])
            ActionChains(driver).move_to_element(legend[0]).perform()
            hot = driver.execute_script("return document.querySelectorAll('svg.parallel path.run.hot').length")
            c.check(hot >= 1, "hovering a legend entry picks its runs out on the parallel plot", "%d hot" % hot)
        for sel, what in (("#weights canvas.tile", "a first-layer tile"), ("#networks circle.node:not(.input)", "a unit of a network")):
            els = driver.find_elements(By.CSS_SELECTOR, sel)
            if not els:
                continue
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", els[0])
            ActionChains(driver).move_to_element(els[0]).perform()
            tip = driver.execute_script("const t = document.getElementById('tooltip'); return !t.hidden && t.textContent.length > 0")
            c.check(tip, "hovering %s shows its weights in a tooltip" % what)
            ActionChains(driver).move_to_element(driver.find_element(By.CSS_SELECTOR, "#networks-section h2")).perform()

        bc.check_console_and_network(driver, c, url)
    except WebDriverException as e:
        c.check(False, "the browser session ran to the end", str(e).strip().splitlines()[0])
    finally:
        driver.quit()
    return bc.finish(c)


if __name__ == "__main__":
    sys.exit(main())
