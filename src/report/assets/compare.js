/* nncl comparison: draws compare.html from the JSON in #nncl-data (compare.c:
 * compare_json and compare_weights) and the weight codes in #nncl-weights,
 * with the pieces it shares with the run report (common.js). Plain ES2017,
 * no modules, nothing fetched.
 *
 * One state for every panel: runs hidden from the legend (off), runs
 * outside the parallel plot's brushes (faded) and the runs under the
 * pointer (hot); refresh() redraws what depends on them. */
"use strict";
(function () {
  const C = nnclCommon;
  const doc = document;
  const { $, h, s, isNum, arr, obj, clamp, fmt, int, plural, kv } = C;

  /* ------------------------------------------------------------------ data */
  const timings = {};
  function fatal(msg) {
    const n = $("notices");
    if (n) n.appendChild(h("p", { class: "notice bad", text: msg }));
    console.error("nncl compare: " + msg);
  }
  function guard(name, fn) {
    const t0 = performance.now();
    try { fn(); } catch (e) {
      fatal("Part of the page (" + name + ") could not be drawn: " + (e && e.message ? e.message : e));
      if (e && e.stack) console.error(e.stack);
    }
    timings[name] = Math.round((performance.now() - t0) * 10) / 10;
  }
  let D;
  try {
    D = JSON.parse($("nncl-data").textContent);
  } catch (e) {
    fatal("The data in this page could not be read (" + e.message + ").");
    return;
  }
  const runs = arr(D.runs), groups = arr(D.groups), flags = arr(D.flags).map(String);
  const metrics = arr(D.metrics).filter((m) => m && m.key);
  const metricOf = (key) => metrics.find((m) => m.key === key) || null;
  const classify = D.task !== "regress";
  const N = runs.length;
  const PRIMARY = metricOf(String(D.primary)) ? String(D.primary) : metrics.length ? metrics[0].key : "val_accuracy";
  const SEED = "--seed";
  /* the settings to plot: every differing flag but the seed, unless the seed is all that differs */
  const AXES = flags.filter((f) => f !== SEED).length ? flags.filter((f) => f !== SEED) : flags.slice();
  const notices = [];

  const state = {
    off: new Uint8Array(N),       /* hidden from the legend */
    faded: new Uint8Array(N),     /* outside a brush */
    hot: null,                    /* Set of runs under the pointer, or null */
    result: PRIMARY,
    xMode: "epoch",
    train: false,
    lossLog: false,
    shared: false,                /* one colour range for every run's tiles */
  };
  const refreshers = [];
  function refresh() { for (const f of refreshers) f(); }
  const isHot = (i) => !!state.hot && state.hot.has(i);
  function setHot(set) {
    const a = state.hot, b = set && set.size ? set : null;
    if (!a && !b) return;
    if (a && b && a.size === b.size && [...a].every((x) => b.has(x))) return;
    state.hot = b;
    refresh();
  }

  /* ---------------------------------------------------------------- words */
  const flagWord = (f) => String(f).replace(/^--/, "");
  const BAD = (st) => st === "failed" || st === "diverged";
  const statusWord = (st) => (st === "ok" ? "finished" : String(st || "unknown"));
  function badge(st) { return h("span", { class: "badge " + String(st || ""), text: statusWord(st) }); }
  function valueOf(i, f) { const v = obj(runs[i].values)[f]; return v == null ? "-" : String(v); }
  /* a run by the settings that differ (the seed last), or its name when none does */
  function runLabel(i, withSeed) {
    const parts = [];
    for (const f of flags) if (f !== SEED || withSeed) parts.push(flagWord(f) + " " + valueOf(i, f));
    return parts.length ? parts.join(" · ") : String(runs[i].name);
  }
  function groupLabel(g) {
    const G = groups[g], parts = [];
    for (const f of flags) if (f !== SEED) parts.push(flagWord(f) + " " + String(obj(G.values)[f] == null ? "-" : G.values[f]));
    return parts.length ? parts.join(" · ") : String(G.name);
  }
  const runResult = (i, key) => { const v = obj(runs[i].metrics)[key || state.result]; return isNum(v) ? v : null; };
  /* A metric for a person: accuracies in % with two decimals, as the CLI's table. */
  function decimalsFor(v) {
    if (v === 0 || !isNum(v)) return 3;
    return clamp(3 - Math.floor(Math.log10(Math.abs(v))), 0, 6);
  }
  function mval(m, v, withUnit) {
    if (!isNum(v)) return "–";
    switch (m && m.unit) {
      case "fraction": return (100 * v).toFixed(2) + (withUnit ? "%" : "");
      case "seconds": return v.toFixed(v < 1 ? 3 : v < 10 ? 2 : v < 100 ? 1 : 0) + (withUnit ? " s" : "");
      case "per_second": return int(v) + (withUnit ? "/s" : "");
      case "count": return Math.abs(v - Math.round(v)) < 1e-9 ? int(v) : v.toFixed(1);
      default: return v.toFixed(decimalsFor(v));
    }
  }
  const mshort = (m) => String(m && m.label ? m.label : "").replace(/ \(%\)$/, "");
  /* a result on a chart axis: accuracies as percentages */
  const scaled = (m, v) => (isNum(v) ? (m && m.unit === "fraction" ? 100 * v : v) : null);

  /* --------------------------------------------------------------- colours */
  const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
    "#bcbd22", "#393b79", "#637939", "#843c39"];
  function toHsl(hex) {
    const [r, g, b] = C.hexRGB(hex).map((x) => x / 255);
    const mx = Math.max(r, g, b), mn = Math.min(r, g, b), l = (mx + mn) / 2;
    if (mx === mn) return [0, 0, l];
    const d = mx - mn, sat = l > 0.5 ? d / (2 - mx - mn) : d / (mx + mn);
    let hh = mx === r ? (g - b) / d + (g < b ? 6 : 0) : mx === g ? (b - r) / d + 2 : (r - g) / d + 4;
    return [hh * 60, sat, l];
  }
  function fromHsl(hh, sat, l) {
    const k = (n) => (n + hh / 30) % 12, a = sat * Math.min(l, 1 - l);
    const f = (n) => Math.round(255 * (l - a * Math.max(-1, Math.min(k(n) - 3, 9 - k(n), 1))));
    return "#" + [f(0), f(8), f(4)].map((x) => x.toString(16).padStart(2, "0")).join("");
  }
  const colour = new Array(N);
  (function () {
    /* one hue per setting (in the order the runs came), the seeds of a setting in lighter and darker shades of it */
    const gHue = new Array(groups.length);
    let next = 0, nBad = 0;
    for (let i = 0; i < N; i++) {
      const g = runs[i].group;
      if (g == null || gHue[g] != null) continue;
      gHue[g] = next < PALETTE.length ? PALETTE[next] : fromHsl((next * 137.508) % 360, 0.62, 0.45);
      next++;
    }
    for (let i = 0; i < N; i++) {
      const g = runs[i].group, G = groups[g] || { runs: [i] };
      const members = arr(G.runs), k = Math.max(0, members.indexOf(i)), n = members.length;
      let base = gHue[g] || "#555555";
      if (BAD(runs[i].status)) base = fromHsl(218, 0.1, 0.38 + 0.08 * (nBad++ % 5));
      if (n > 1) {
        const hsl = toHsl(base), span = Math.min(0.3, 0.1 * (n - 1));
        colour[i] = fromHsl(hsl[0], hsl[1], clamp(hsl[2] + (k / (n - 1) - 0.5) * span, 0.22, 0.78));
      } else colour[i] = base;
    }
  })();
  const FADED = "#d3d8e0";
  function swatch(i) {
    return h("span", { class: "sw" + (BAD(runs[i].status) ? " dashed" : ""), style: "background:" + colour[i], title: String(runs[i].name) });
  }

  /* ----------------------------------------------------------------- header */
  function bestGroup() {
    const b = D.best_group;
    return isNum(b) && b >= 0 && b < groups.length ? b : -1;
  }
  function buildHeader() {
    const title = String(D.title || plural(N, "run"));
    $("cmp-title").textContent = title;
    doc.title = "nncl compare: " + title;
    const parts = [];
    parts.push(D.task === "regress" ? "regression" : D.task === "mixed" ? "classification and regression" : "classification");
    const ds = obj(D.dataset);
    if (isNum(ds.train_rows)) parts.push(int(ds.train_rows) + " training rows" + (isNum(ds.val_rows) ? ", " + int(ds.val_rows) + " validation" : ""));
    const seeds = groups.length ? arr(groups[0].runs).length : 0;
    if (groups.length && groups.length < N && groups.every((g) => arr(g.runs).length === seeds))
      parts.push(plural(groups.length, "setting") + " × " + seeds + " seeds");
    else if (groups.length < N) parts.push(plural(groups.length, "row") + " (seeds folded)");
    if (flags.length) parts.push("differing: " + flags.join(", "));
    else if (N > 1) parts.push("no setting differs");
    /* a layer list's sizes are flattened outputs: name its layers instead */
    const shapes = new Set(runs.map((r) => (obj(r.net).layer_specs ? String(r.net.layer_specs) : arr(obj(r.net).sizes).join(" → "))).filter(Boolean));
    if (shapes.size === 1) parts.push([...shapes][0]);
    $("subtitle").textContent = parts.join(" · ");

    const hl = $("headline"), b = bestGroup(), m = metricOf(PRIMARY);
    const big = h("div", { class: "big-result" });
    if (b >= 0 && m) {
      const G = groups[b], v = obj(G.mean)[PRIMARY], n = obj(G.count)[PRIMARY] | 0;
      big.appendChild(h("div", { class: "value", text: m.unit === "fraction" ? C.pct(v) : mval(m, v) }));
      big.appendChild(h("div", { class: "label", text: (classify ? "best validation accuracy" : "lowest validation MAE") + (n > 1 ? " (mean of " + n + " seeds)" : "") }));
      big.appendChild(h("div", { class: "label", text: flags.some((f) => f !== SEED) ? groupLabel(b) : String(G.name) }));
    } else {
      big.appendChild(h("div", { class: "value none", text: "no result" }));
      big.appendChild(h("div", { class: "label", text: "no run has a validation result" }));
    }
    hl.appendChild(big);
  }

  function buildNotices() {
    const by = {};
    runs.forEach((r, i) => { if (r.status !== "ok") (by[r.status] = by[r.status] || []).push(i); });
    for (const st of Object.keys(by)) {
      const list = by[st], names = list.slice(0, 6).map((i) => runs[i].name).join(", ") + (list.length > 6 ? ", …" : "");
      const what = st === "diverged" ? "diverged (the loss stopped being a finite number, usually a learning rate too high)" :
        st === "failed" ? "failed" : st === "interrupted" ? "were interrupted" : st === "running" ? "were still running" : "ended with status " + st;
      notices.push([BAD(st) ? "bad" : "warn", (list.length === 1 ? "One run " + what.replace(/^were /, "was ") : list.length + " runs " + what) + ": " + names +
        (BAD(st) ? (list.length === 1 ? ". It is" : ". They are") + " drawn in grey, dashed, and left out of the means." : ".")]);
    }
    if (D.mixed_data) notices.push(["warn", "These runs were trained on different data (compared with --force): their numbers are not directly comparable."]);
    if (typeof Chart === "undefined") notices.push(["bad", "The charting library did not load, so the charts are left out."]);
    const box = $("notices");
    for (const n of notices) box.appendChild(h("p", { class: "notice" + (n[0] === "warn" ? "" : " " + n[0]), text: n[1] }));
  }

  /* ----------------------------------------------------------------- legend */
  function buildLegend() {
    const box = $("legend");
    const order = groups.map((g, k) => k);
    const items = [];
    for (const g of order) {
      const G = groups[g], members = arr(G.runs);
      const sws = h("span", { class: "swatches" });
      for (const i of members) {
        const sw = swatch(i);
        sw.dataset.run = i;
        sws.appendChild(sw);
      }
      const label = h("span", { class: "leg-text" });
      const named = flags.some((f) => f !== SEED);
      label.appendChild(h("b", { text: named ? groupLabel(g) : String(G.name) }));
      if (members.length > 1 && flags.indexOf(SEED) >= 0) label.appendChild(doc.createTextNode(" · seeds " + arr(members).map((i) => valueOf(i, SEED)).join(",")));
      else if (flags.indexOf(SEED) >= 0) label.appendChild(doc.createTextNode(" · seed " + valueOf(members[0], SEED)));
      const m = metricOf(PRIMARY), v = obj(G.mean)[PRIMARY];
      const res = h("span", { class: "leg-res", text: m && isNum(v) ? mval(m, v, true) : "" });
      const el = h("div", { class: "leg", title: (G.name || "") + (members.length > 1 ? " (click a swatch for one seed)" : "") + " — click to hide or show" },
        [sws, label, G.status !== "ok" ? badge(G.status) : null, res]);
      el.addEventListener("mouseenter", () => setHot(new Set(members)));
      el.addEventListener("mouseleave", () => setHot(null));
      el.addEventListener("mouseover", (e) => { if (e.target.dataset && e.target.dataset.run != null) setHot(new Set([+e.target.dataset.run])); });
      el.addEventListener("mouseout", (e) => { if (e.target.dataset && e.target.dataset.run != null) setHot(new Set(members)); });
      el.addEventListener("click", (e) => {
        const one = e.target.dataset && e.target.dataset.run != null ? [+e.target.dataset.run] : members;
        const hide = one.some((i) => !state.off[i]);
        for (const i of one) state.off[i] = hide ? 1 : 0;
        refresh();
      });
      items.push({ el: el, members: members });
      box.appendChild(el);
    }
    refreshers.push(() => {
      for (const it of items) {
        it.el.classList.toggle("off", it.members.every((i) => state.off[i]));
        it.el.classList.toggle("faded", it.members.every((i) => state.faded[i]));
        it.el.classList.toggle("hot", it.members.some(isHot));
        for (const sw of it.el.querySelectorAll(".sw")) sw.style.opacity = state.off[+sw.dataset.run] ? "0.3" : "";
      }
    });
  }

  /* ----------------------------------------------------------------- curves */
  /* a log axis labelled at 1, 2 and 5 times the powers of ten */
  function logTick125(v) {
    const e = Math.floor(Math.log10(v) + 1e-9), m = v / Math.pow(10, e);
    return [1, 2, 5].some((k) => Math.abs(m - k) < 1e-6) ? fmt(v, 3) : "";
  }
  const CURVES = [];
  let curvesDrawn = 0;
  function runStyle(ds) {
    const i = ds.$run;
    const hotAny = !!state.hot;
    let c = colour[i], w = ds.$val ? 2 : 1.3, order = 0;
    if (state.faded[i] && !isHot(i)) { c = FADED; order = 2; }
    if (hotAny && !isHot(i)) c = C.alpha(state.faded[i] ? FADED : colour[i], 0.22);
    if (isHot(i)) { w += 1.8; order = -1; }
    ds.borderColor = c;
    ds.backgroundColor = c;
    ds.borderWidth = w;
    ds.order = order;
    ds.hidden = !!state.off[i];
  }
  function buildCurves() {
    const box = $("curves");
    const accKey = classify ? "val_accuracy" : "val_mae", trainAccKey = classify ? "train_accuracy" : "train_mae";
    if (!classify) $("curves-lead").firstChild.textContent = "Every run's validation numbers after each epoch, measured on held-out " +
      "examples, one colour per run: the loss (mean squared error) and the mean absolute error, both lower is better. A curve that is still falling at " +
      "the end would gain from more epochs, and one that turns back up is overfitting. Hover a run in the legend to pick it out everywhere on the page; click it to hide it.";
    const maxEpochs = Math.max(0, ...runs.map((r) => arr(obj(r.curves).epoch).length));
    const pointR = maxEpochs <= 12 ? 2.5 : maxEpochs <= 30 ? 1.5 : 0;
    const defs = [
      { title: "Validation loss", key: "val_loss", train: "train_loss", log: true, yTitle: classify ? "cross-entropy loss" : "mean squared error", mul: 1,
        explain: "Lower is better. With the training curves (dashed), the gap between the two is what each run memorised." },
      { title: classify ? "Validation accuracy" : "Validation MAE", key: accKey, train: trainAccKey, yTitle: classify ? "accuracy (%)" : "MAE", mul: classify ? 100 : 1,
        yFmt: classify ? (v) => fmt(v, 3) + "%" : (v) => fmt(v),
        explain: classify ? "The share of held-out examples classified right: higher is better." : "The mean absolute error in the target's units: lower is better." },
    ];
    const hasTime = runs.some((r) => arr(obj(r.curves).seconds).some(isNum));
    for (const def of defs) {
      const build = () => {
        const sets = [];
        const log = def.log && state.lossLog;
        for (let i = 0; i < N; i++) {
          const cv = obj(runs[i].curves);
          const xs = state.xMode === "time" ? cv.seconds : cv.epoch;
          const pts = C.xy(xs, cv[def.key], def.mul, log);
          if (C.hasY(pts)) sets.push({ label: String(runs[i].name), data: pts, $run: i, $val: true, pointRadius: pointR, pointHoverRadius: 5,
            borderDash: BAD(runs[i].status) ? [6, 4] : undefined, spanGaps: false, fill: false });
          if (state.train) {
            const tp = C.xy(xs, cv[def.train], def.mul, log);
            if (C.hasY(tp)) sets.push({ label: String(runs[i].name) + " (training)", data: tp, $run: i, $val: false, pointRadius: 0, pointHoverRadius: 3,
              borderDash: [4, 3], spanGaps: false, fill: false });
          }
        }
        for (const d of sets) runStyle(d);
        return sets;
      };
      const sets = build();
      if (!sets.length) {
        C.emptyCard(box, def.title, def.explain, "No run recorded this after an epoch.");
        continue;
      }
      const cc = C.chartCard(box, def.title, def.explain);
      cc.card.dataset.curve = def.key;
      const xTitle = () => (state.xMode === "time" ? "training time (s)" : "epoch");
      const opts = C.lineOptions({ xTitle: xTitle(), yTitle: def.yTitle, yFmt: def.yFmt, yLog: def.log && state.lossLog });
      opts.plugins.legend.display = false;
      opts.interaction = { mode: "nearest", intersect: false, axis: "xy" };
      opts.plugins.tooltip.callbacks = {
        title: (items) => (items.length ? runLabel(items[0].dataset.$run, true) : ""),
        label: (c) => " " + (c.dataset.$val ? "validation " : "training ") + (def.yFmt || ((v) => fmt(v)))(c.parsed.y) + " at " +
          (state.xMode === "time" ? fmt(c.parsed.x, 3) + " s" : "epoch " + fmt(c.parsed.x)),
      };
      opts.onHover = (e, els, chart) => {
        const el = els && els.length ? els[0] : null;
        setHot(el ? new Set([chart.data.datasets[el.datasetIndex].$run]) : null);
      };
      if (state.xMode === "epoch") { opts.scales.x.min = maxEpochs > 1 ? 1 : 0; opts.scales.x.ticks.precision = 0; }
      const chart = new Chart(cc.canvas.getContext("2d"), { type: "line", data: { datasets: sets }, options: opts });
      cc.canvas.addEventListener("mouseleave", () => setHot(null));
      CURVES.push({
        chart: chart, def: def, val: () => chart.data.datasets.filter((d) => d.$val).length,
        rebuild() {
          chart.data.datasets = build();
          const x = chart.options.scales.x, y = chart.options.scales.y;
          x.title.text = xTitle();
          x.min = state.xMode === "epoch" ? (maxEpochs > 1 ? 1 : 0) : 0;
          x.ticks.precision = state.xMode === "epoch" ? 0 : undefined;
          x.max = C.xMaxOf(chart.data.datasets);
          const log = def.log && state.lossLog;
          y.type = log ? "logarithmic" : "linear";
          y.ticks = log ? { callback: logTick125, autoSkip: true } : { maxTicksLimit: 7, callback: def.yFmt || ((v) => fmt(v)) };
          const ext = log ? C.minMax([].concat(...chart.data.datasets.map((d) => d.data.map((p) => p.y)))) : null;
          y.min = ext ? ext[0] / 1.15 : undefined;
          y.max = ext ? ext[1] * 1.15 : undefined;
          chart.update("none");
        },
        restyle() {
          for (const d of chart.data.datasets) runStyle(d);
          chart.update("none");
        },
      });
    }
    curvesDrawn = CURVES.length ? Math.min(...CURVES.map((c) => c.val())) : 0;
    const setMode = (mode) => {
      if (mode === state.xMode) return;
      state.xMode = mode;
      for (const b of [["x-epoch", "epoch"], ["x-time", "time"]]) {
        $(b[0]).classList.toggle("on", b[1] === mode);
        $(b[0]).setAttribute("aria-pressed", String(b[1] === mode));
      }
      for (const c of CURVES) c.rebuild();
    };
    $("x-epoch").addEventListener("click", () => setMode("epoch"));
    $("x-time").addEventListener("click", () => setMode("time"));
    if (!hasTime) $("x-time").disabled = true;
    $("show-train").addEventListener("change", (e) => { state.train = e.target.checked; for (const c of CURVES) c.rebuild(); });
    $("loss-log").addEventListener("change", (e) => { state.lossLog = e.target.checked; for (const c of CURVES) c.rebuild(); });
    refreshers.push(() => { for (const c of CURVES) c.restyle(); });
  }

  /* ------------------------------------------------------ parallel coordinates */
  const PAR = { brush: {}, axes: [], svg: null };
  const numCmp = (a, b) => {
    const x = Number(a), y = Number(b);
    if (a !== "-" && b !== "-" && isFinite(x) && isFinite(y) && x !== y) return x - y;
    if (a === "-" || b === "-") return (a === "-") - (b === "-");
    return a < b ? -1 : a > b ? 1 : 0;
  };
  /* nice round ticks over [lo, hi] */
  function niceTicks(lo, hi, n) {
    if (!(hi > lo)) return [lo];
    const raw = (hi - lo) / Math.max(1, n), mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map((k) => k * mag).find((st) => st >= raw) || 10 * mag;
    const out = [];
    for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
    return out;
  }
  function logTicks(lo, hi) {
    const out = [];
    const e0 = Math.floor(Math.log10(lo)), e1 = Math.ceil(Math.log10(hi));
    const mults = e1 - e0 <= 2 ? [1, 2, 5] : [1];
    for (let e = e0; e <= e1; e++) for (const m of mults) {
      const v = +(m * Math.pow(10, e)).toPrecision(6);
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push(v);
    }
    return out;
  }
  /* An axis: {label, sub, kind: "num"|"cat", log, pos(v) -> t in [0, 1] or null (n/a), ticks [{t, text}], vals per run} */
  function flagAxis(f) {
    const raw = runs.map((r, i) => valueOf(i, f));
    const present = raw.filter((v) => v !== "-");
    const distinct = [...new Set(present)].sort(numCmp);
    const numeric = distinct.length >= 2 && distinct.every((v) => v.trim() !== "" && isFinite(Number(v)));
    const ax = { label: f, vals: raw, na: raw.some((v) => v === "-") };
    if (numeric) {
      const nums = distinct.map(Number), lo = Math.min(...nums), hi = Math.max(...nums);
      ax.kind = "num";
      ax.log = lo > 0 && hi / lo >= 10 - 1e-6;
      const T = ax.log ? (v) => (Math.log(v) - Math.log(lo)) / (Math.log(hi) - Math.log(lo)) : (v) => (v - lo) / (hi - lo);
      ax.pos = (v) => (v === "-" ? null : clamp(0.04 + 0.92 * T(Number(v)), 0, 1));
      ax.sub = ax.log ? "log scale" : "";
      if (distinct.length <= 10) ax.ticks = distinct.map((v) => ({ t: ax.pos(v), text: v }));
      else ax.ticks = (ax.log ? logTicks(lo, hi) : niceTicks(lo, hi, 5)).map((v) => ({ t: clamp(0.04 + 0.92 * T(v), 0, 1), text: fmt(v, 3) }));
    } else {
      ax.kind = "cat";
      const n = distinct.length;
      ax.pos = (v) => (v === "-" ? null : (distinct.indexOf(v) + 0.5) / Math.max(1, n));
      ax.ticks = distinct.map((v) => ({ t: ax.pos(v), text: v.length > 14 ? v.slice(0, 13) + "…" : v, full: v }));
      ax.sub = "";
    }
    return ax;
  }
  function resultAxis(key) {
    const m = metricOf(key);
    const vals = runs.map((r, i) => scaled(m, runResult(i, key)));
    const ok = vals.filter(isNum);
    const ax = { label: mshort(m) || key, result: true, kind: "num", vals: vals, na: vals.some((v) => !isNum(v)) };
    let lo = ok.length ? Math.min(...ok) : 0, hi = ok.length ? Math.max(...ok) : 1;
    if (!(hi > lo)) { const pad = Math.abs(lo) * 0.05 || 1; lo -= pad; hi += pad; }
    const ticks = niceTicks(lo, hi, 5);
    const step = ticks.length > 1 ? ticks[1] - ticks[0] : (hi - lo) / 4;
    const a = Math.min(lo, Math.floor(lo / step) * step), b = Math.max(hi, Math.ceil(hi / step) * step);
    ax.pos = (v) => (isNum(v) ? (v - a) / (b - a || 1) : null);
    const unit = m && m.unit === "fraction" ? "%" : "";
    ax.ticks = niceTicks(a, b, 5).map((v) => ({ t: ax.pos(v), text: fmt(v, 4) + unit }));
    ax.sub = m ? (m.higher_is_better ? "higher is better" : "lower is better") : "";
    return ax;
  }
  function textW(str, px) { return String(str).length * (px || 6.6); }
  const PT = 62;                      /* the plot's top margin; its height and bottom margin grow with an n/a slot */
  let PH = 370, PB = 30;
  function parallelY(t) { return t == null ? PH - PB + 30 : PH - PB - t * (PH - PB - PT); }
  function buildParallel() {
    const box = $("parallel");
    const sel = $("result-metric");
    for (const m of metrics) sel.appendChild(h("option", { value: m.key, text: m.label, selected: m.key === state.result }));
    sel.addEventListener("change", () => {
      state.result = sel.value;
      delete PAR.brush.result;
      drawParallel();
      applyBrushes();
      for (const f of EFFECTS.redraw) f();
      refresh();
    });
    $("clear-brush").addEventListener("click", () => { PAR.brush = {}; drawParallelBrushes(); applyBrushes(); });
    drawParallel();
    let rt = null;
    window.addEventListener("resize", () => { clearTimeout(rt); rt = setTimeout(() => { drawParallel(); }, 150); });
    refreshers.push(restyleParallel);
  }
  function drawParallel() {
    const box = $("parallel");
    const axes = AXES.map(flagAxis);
    axes.push(resultAxis(state.result));
    PAR.axes = axes;
    const anyNa = axes.some((a) => a.na);
    const ph = PH;
    PB = anyNa ? 58 : 30;
    PH = anyNa ? 398 : 370;
    if (PH !== ph) PAR.brush = {};      /* the brushes were drawn on the other height */
    const W = Math.max(560, Math.floor(box.clientWidth || 1000));
    const firstW = Math.max(...axes[0].ticks.map((t) => textW(t.text)), 10);
    const lastW = Math.max(...axes[axes.length - 1].ticks.map((t) => textW(t.text)), 10);
    const padL = Math.max(56, firstW + 22), padR = Math.max(64, lastW + 24);
    const xs = axes.map((a, k) => (axes.length === 1 ? W / 2 : padL + (k * (W - padL - padR)) / (axes.length - 1)));
    const svg = s("svg", { class: "parallel", width: W, height: PH, viewBox: "0 0 " + W + " " + PH, role: "img",
      "aria-label": "parallel coordinates: one line per run across the settings and the result" });
    const lines = s("g", { class: "lines" });
    const gAxes = s("g", { class: "axes" });
    PAR.paths = [];
    PAR.dots = [];
    for (let i = 0; i < N; i++) {
      const pts = axes.map((a, k) => [xs[k], parallelY(a.result ? a.pos(a.vals[i]) : a.pos(a.vals[i]))]);
      let d = "M" + pts.map((p) => p[0].toFixed(1) + " " + p[1].toFixed(1)).join(" L");
      if (pts.length === 1) d = "M" + (pts[0][0] - 18).toFixed(1) + " " + pts[0][1].toFixed(1) + " L" + (pts[0][0] + 18).toFixed(1) + " " + pts[0][1].toFixed(1);
      const p = s("path", { class: "run" + (BAD(runs[i].status) ? " bad" : ""), d: d, "data-run": i, stroke: colour[i] });
      p.addEventListener("mouseenter", (e) => { setHot(new Set([i])); C.showTip(e, () => runTip(i)); });
      p.addEventListener("mousemove", C.moveTip);
      p.addEventListener("mouseleave", () => { setHot(null); C.hideTip(); });
      lines.appendChild(p);
      PAR.paths.push(p);
      const last = pts[pts.length - 1];
      const dot = s("circle", { class: "dot", cx: last[0], cy: last[1], r: 4, fill: colour[i] });
      PAR.dots.push(dot);
    }
    for (const dot of PAR.dots) lines.appendChild(dot);
    axes.forEach((a, k) => {
      const x = xs[k], right = a.result && axes.length > 1;
      const g = s("g", { class: "axis" + (a.result ? " result" : ""), "data-axis": a.result ? "result" : a.label, transform: "translate(" + x + ",0)" });
      g.appendChild(s("text", { class: "title", x: 0, y: 20, text: a.label }));
      g.appendChild(s("text", { class: "sub", x: 0, y: 36, text: a.sub || (a.kind === "cat" ? "" : "") }));
      g.appendChild(s("line", { class: "ax", x1: 0, x2: 0, y1: PT - 6, y2: PH - PB + 6 }));
      for (const t of a.ticks) {
        const y = parallelY(t.t);
        const tg = s("g", { class: "tick" });
        tg.appendChild(s("line", { x1: right ? 0 : -5, x2: right ? 5 : 0, y1: y, y2: y }));
        tg.appendChild(s("text", { x: right ? 9 : -9, y: y, "text-anchor": right ? "start" : "end", text: t.text }));
        if (t.full && t.full !== t.text) tg.appendChild(s("title", { text: t.full }));
        g.appendChild(tg);
      }
      if (a.na) {
        const y = parallelY(null);
        const tg = s("g", { class: "tick na" });
        tg.appendChild(s("line", { x1: 0, x2: 0, y1: PH - PB + 6, y2: y }));
        tg.appendChild(s("text", { x: right ? 9 : -9, y: y, "text-anchor": right ? "start" : "end", text: a.result ? "no result" : "n/a" }));
        g.appendChild(tg);
      }
      const key = a.result ? "result" : a.label;
      const bRect = s("rect", { class: "brush", x: -9, width: 18, y: 0, height: 0, visibility: "hidden" });
      g.appendChild(bRect);
      const hit = s("rect", { class: "hit", x: -16, width: 32, y: PT - 10, height: PH - PT - 10, "data-axis": key });
      hit.appendChild(s("title", { text: "drag to pick a range of " + a.label + "; double-click to let go" }));
      g.appendChild(hit);
      a.key = key;
      a.brushRect = bRect;
      brushable(hit, key, svg);
      gAxes.appendChild(g);
    });
    svg.appendChild(lines);
    svg.appendChild(gAxes);
    svg.addEventListener("dblclick", (e) => {
      if (e.target.dataset && e.target.dataset.axis) return;
      PAR.brush = {};
      drawParallelBrushes();
      applyBrushes();
    });
    box.replaceChildren(svg);
    PAR.svg = svg;
    PAR.lines = lines;
    drawParallelBrushes();
    restyleParallel();
  }
  function brushable(hit, key, svg) {
    const yOf = (e) => {
      const r = svg.getBoundingClientRect();
      return clamp(e.clientY - r.top, PT - 10, PH - 20);
    };
    hit.addEventListener("mousedown", (e) => {
      e.preventDefault();
      const y0 = yOf(e);
      let moved = false;
      const move = (ev) => {
        const y1 = yOf(ev);
        if (Math.abs(y1 - y0) < 3 && !moved) return;
        moved = true;
        PAR.brush[key] = [Math.min(y0, y1), Math.max(y0, y1)];
        drawParallelBrushes();
        applyBrushes();
      };
      const up = (ev) => {
        window.removeEventListener("mousemove", move);
        window.removeEventListener("mouseup", up);
        if (moved) move(ev);
      };
      window.addEventListener("mousemove", move);
      window.addEventListener("mouseup", up);
    });
    hit.addEventListener("dblclick", (e) => {
      e.stopPropagation();
      delete PAR.brush[key];
      drawParallelBrushes();
      applyBrushes();
    });
  }
  function drawParallelBrushes() {
    for (const a of PAR.axes) {
      const b = PAR.brush[a.key];
      if (!a.brushRect) continue;
      a.brushRect.setAttribute("visibility", b ? "visible" : "hidden");
      if (b) { a.brushRect.setAttribute("y", b[0]); a.brushRect.setAttribute("height", Math.max(1, b[1] - b[0])); }
    }
  }
  function applyBrushes() {
    const keys = Object.keys(PAR.brush);
    for (let i = 0; i < N; i++) {
      let out = false;
      for (const a of PAR.axes) {
        const b = PAR.brush[a.key];
        if (!b) continue;
        const y = parallelY(a.pos(a.vals[i]));
        if (y < b[0] - 1 || y > b[1] + 1) { out = true; break; }
      }
      state.faded[i] = out ? 1 : 0;
    }
    let inside = 0;
    for (let i = 0; i < N; i++) if (!state.faded[i]) inside++;
    $("brush-note").textContent = keys.length ? plural(inside, "run") + " of " + N + " in the selection" : "";
    $("clear-brush").hidden = !keys.length;
    refresh();
  }
  function restyleParallel() {
    if (!PAR.paths) return;
    const lines = PAR.lines;
    const top = [];
    for (let i = 0; i < N; i++) {
      const p = PAR.paths[i], d = PAR.dots[i];
      p.classList.toggle("faded", !!state.faded[i] && !isHot(i));
      p.classList.toggle("off", !!state.off[i]);
      p.classList.toggle("hot", isHot(i));
      p.style.strokeOpacity = state.hot && !isHot(i) ? "0.25" : "";
      d.classList.toggle("faded", !!state.faded[i] && !isHot(i));
      d.classList.toggle("off", !!state.off[i]);
      if (!state.faded[i]) top.push(i);
    }
    /* the runs inside the selection, then the hot ones, on top */
    for (const i of top) lines.insertBefore(PAR.paths[i], PAR.dots[0]);
    for (let i = 0; i < N; i++) if (isHot(i)) lines.insertBefore(PAR.paths[i], PAR.dots[0]);
  }
  function runTip(i) {
    const r = runs[i], rows = [];
    for (const f of flags) rows.push([f, valueOf(i, f)]);
    const m = metricOf(state.result);
    rows.push([m ? mshort(m) : state.result, m ? mval(m, runResult(i), true) : "–"]);
    if (state.result !== PRIMARY) { const p = metricOf(PRIMARY); rows.push([mshort(p), mval(p, runResult(i, PRIMARY), true)]); }
    rows.push(["status", statusWord(r.status)]);
    return h("div", null, [h("h5", null, [swatch(i), " ", String(r.name)]), kv(rows)]);
  }
  /* test hook: brush axis (a flag or "result") from fraction lo to hi of its height (0 bottom, 1 top) */
  function brushFrac(key, lo, hi) {
    if (!PAR.axes.some((a) => a.key === key)) return false;
    const y = (t) => parallelY(t);
    PAR.brush[key] = [Math.min(y(lo), y(hi)), Math.max(y(lo), y(hi))];
    drawParallelBrushes();
    applyBrushes();
    return true;
  }

  /* ----------------------------------------------------------------- effects */
  const EFFECTS = { charts: [], redraw: [] };
  const errorBars = {
    id: "nnclErrorBars",
    afterDatasetsDraw(chart) {
      const ctx = chart.ctx, ys = chart.scales.y, xs = chart.scales.x;
      for (const ds of chart.data.datasets) {
        if (!ds.$err) continue;
        ctx.save();
        ctx.strokeStyle = ds.borderColor;
        ctx.lineWidth = 1.6;
        for (const p of ds.data) {
          if (!isNum(p.sd) || !(p.sd > 0) || !isNum(p.y)) continue;
          const x = xs.getPixelForValue(p.x), y0 = ys.getPixelForValue(p.y - p.sd), y1 = ys.getPixelForValue(p.y + p.sd);
          ctx.beginPath();
          ctx.moveTo(x, y0); ctx.lineTo(x, y1);
          ctx.moveTo(x - 6, y0); ctx.lineTo(x + 6, y0);
          ctx.moveTo(x - 6, y1); ctx.lineTo(x + 6, y1);
          ctx.stroke();
        }
        ctx.restore();
      }
    },
  };
  function buildEffects() {
    const box = $("effects");
    const eff = AXES.filter((f) => f !== SEED || AXES.length === 1 && flags.length === 1);
    if (!eff.length || N < 2) {
      $("effects-lead").textContent = N < 2 ? "One run: there is nothing to set against anything else." : "No setting differs between these runs.";
      return;
    }
    if (eff.length === 1 && eff[0] === SEED)
      $("effects-lead").textContent = "Only the seed differs between these runs: the spread below is what luck alone does to the result.";
    for (const f of eff) {
      const cc = C.chartCard(box, f, null);
      cc.card.dataset.flag = f;
      let chart = null;
      const draw = () => {
        const m = metricOf(state.result);
        const cats = [...new Set(runs.map((r, i) => valueOf(i, f)))].sort(numCmp);
        const pts = [], means = [];
        cats.forEach((v, k) => {
          const members = [];
          for (let i = 0; i < N; i++) if (valueOf(i, f) === v) members.push(i);
          const ys = [];
          members.forEach((i, q) => {
            const y = scaled(m, runResult(i));
            if (!isNum(y)) return;
            if (!BAD(runs[i].status)) ys.push(y);
            const jit = members.length > 1 ? ((q % 7) / Math.max(1, Math.min(6, members.length - 1)) - 0.5) * 0.22 : 0;
            pts.push({ x: k + jit, y: y, $run: i });
          });
          if (ys.length) {
            const mean = ys.reduce((a, b) => a + b, 0) / ys.length;
            const sd = ys.length > 1 ? Math.sqrt(ys.reduce((a, b) => a + (b - mean) * (b - mean), 0) / (ys.length - 1)) : 0;
            means.push({ x: k, y: mean, sd: sd, n: ys.length });
          }
        });
        const yFmt = m && m.unit === "fraction" ? (v) => fmt(v, 3) + "%" : (v) => fmt(v);
        const runsSet = { type: "scatter", label: "runs", data: pts, pointRadius: 5, pointHoverRadius: 7, borderWidth: 1, $runs: true, order: 1 };
        const meanSet = { type: "line", label: "mean ± std", data: means, borderColor: "#1d2330", backgroundColor: "#1d2330", borderWidth: 2.5,
          pointRadius: 4.5, pointStyle: "rectRot", pointHoverRadius: 6, $err: true, order: 0, showLine: cats.length > 1 };
        const ext = C.minMax(pts.map((p) => p.y).concat(means.map((p) => p.y - p.sd), means.map((p) => p.y + p.sd)));
        const pad = ext ? (ext[1] - ext[0]) * 0.06 || Math.abs(ext[0]) * 0.05 || 1 : 0;
        const opts = C.lineOptions({ xTitle: f, yTitle: m ? mshort(m) + (m.unit === "fraction" ? " (%)" : "") : state.result, yFmt: yFmt, xMin: -0.5, xMax: cats.length - 0.5,
          yMin: ext ? ext[0] - pad : undefined, yMax: ext ? ext[1] + pad : undefined });
        opts.scales.y.ticks.includeBounds = false;
        opts.plugins.legend.display = false;
        opts.interaction = { mode: "nearest", intersect: true };
        opts.scales.x.ticks = { autoSkip: false, maxRotation: 0, callback: (v) => (cats[Math.round(v)] == null ? "" : cats[Math.round(v)] === "-" ? "n/a" : cats[Math.round(v)]) };
        opts.scales.x.afterBuildTicks = (axis) => { axis.ticks = cats.map((c, k) => ({ value: k })); };
        opts.scales.x.grid = { display: false };
        opts.scales.x.title.display = false;
        opts.plugins.tooltip.callbacks = {
          title: (items) => (items.length ? (items[0].dataset.$runs ? runLabel(items[0].raw.$run, true) : f + " " + cats[items[0].raw.x]) : ""),
          label: (c) => (c.dataset.$runs ? " " + yFmt(c.parsed.y) : " mean " + yFmt(c.raw.y) + " ± " + yFmt(c.raw.sd) + " over " + plural(c.raw.n, "run")),
        };
        opts.onHover = (e, els, ch) => {
          const el = els && els.length ? els.find((x) => ch.data.datasets[x.datasetIndex].$runs) : null;
          setHot(el ? new Set([ch.data.datasets[el.datasetIndex].data[el.index].$run]) : null);
        };
        if (chart) chart.destroy();
        chart = new Chart(cc.canvas.getContext("2d"), { type: "scatter", data: { datasets: [runsSet, meanSet] }, options: opts, plugins: [errorBars] });
        restyle();
      };
      const restyle = () => {
        if (!chart) return;
        const d = chart.data.datasets[0];
        d.pointBackgroundColor = d.data.map((p) => (state.off[p.$run] ? "rgba(0,0,0,0)" : state.faded[p.$run] && !isHot(p.$run) ? FADED : state.hot && !isHot(p.$run) ? C.alpha(colour[p.$run], 0.3) : colour[p.$run]));
        d.pointBorderColor = d.data.map((p) => (state.off[p.$run] ? "rgba(0,0,0,0)" : "#ffffff"));
        d.pointRadius = d.data.map((p) => (isHot(p.$run) ? 8 : 5));
        chart.update("none");
      };
      cc.canvas.addEventListener("mouseleave", () => setHot(null));
      draw();
      EFFECTS.redraw.push(draw);
      refreshers.push(restyle);
    }
  }

  /* ------------------------------------------------------------------- table */
  const TABLE = { key: null, desc: true, open: new Set() };
  function buildTable() {
    const t = $("runs-table");
    const shownMetrics = metrics;
    const cols = [{ key: "name", label: "run", kind: "name" }];
    for (const f of flags) cols.push({ key: f, label: f, kind: "flag" });
    for (const m of shownMetrics) cols.push({ key: m.key, label: m.label, kind: "metric", m: m, r: true });
    cols.push({ key: "status", label: "status", kind: "status" });
    const sortKey = String(D.sort || PRIMARY);
    TABLE.key = cols.some((c) => c.key === sortKey) ? sortKey : PRIMARY;
    const m0 = metricOf(TABLE.key);
    TABLE.desc = m0 ? !!m0.higher_is_better : false;
    const best = bestGroup();
    $("table-lead").textContent = "One row per setting" + (groups.length < N ? "; runs that differ only by --seed are folded into one row, shown as mean ± standard deviation (n runs): " +
      "open it with ▸ to see each seed" : "") + ". Click a column's heading to sort by it, again to reverse. " +
      (best >= 0 ? "★ marks " + (classify ? "the best validation accuracy" : "the lowest validation MAE") + "." : "");

    const rank = { ok: 0, running: 1, interrupted: 2, diverged: 3, failed: 4 };
    const groupVal = (g, c) => {
      const G = groups[g];
      if (c.kind === "metric") return obj(G.mean)[c.key];
      if (c.kind === "flag") return obj(G.values)[c.key] == null ? "-" : String(G.values[c.key]);
      if (c.kind === "status") return rank[G.status] != null ? rank[G.status] : 5;
      return String(G.name);
    };
    const order = () => {
      const c = cols.find((x) => x.key === TABLE.key) || cols[0];
      const idx = groups.map((g, k) => k);
      idx.sort((a, b) => {
        const x = groupVal(a, c), y = groupVal(b, c);
        let r;
        if (c.kind === "metric") {
          if (!isNum(x) || !isNum(y)) return !isNum(x) - !isNum(y) || a - b;
          r = x - y;
        } else if (c.kind === "flag") r = numCmp(x, y);
        else if (c.kind === "status") r = x - y;
        else r = x < y ? -1 : x > y ? 1 : 0;
        if (TABLE.desc) r = -r;
        return r || a - b;
      });
      return idx;
    };
    const thead = h("thead"), headRow = h("tr");
    const ths = [];
    for (const c of cols) {
      const th = h("th", { class: c.r ? "r" : null, scope: "col", title: "sort by " + c.label, "data-key": c.key }, [h("span", { class: "arrow" }), c.label]);
      th.addEventListener("click", () => {
        if (TABLE.key === c.key) TABLE.desc = !TABLE.desc;
        else {
          TABLE.key = c.key;
          TABLE.desc = c.kind === "metric" ? !!c.m.higher_is_better : false;
        }
        render();
      });
      ths.push(th);
      headRow.appendChild(th);
    }
    thead.appendChild(headRow);
    const tbody = h("tbody");
    t.appendChild(thead);
    t.appendChild(tbody);
    const rowsOf = [];
    function cellsFor(tr, vals, i, g) {
      for (const c of cols) {
        const td = h("td", { class: c.r ? "r" : null });
        if (c.kind === "name") {
          td.className = "name";
          const G = groups[g];
          if (i == null && arr(G.runs).length > 1) {
            const open = TABLE.open.has(g);
            const b = h("button", { type: "button", class: "fold", "aria-expanded": String(open), title: open ? "fold the seeds" : "show each seed", text: open ? "▾" : "▸" });
            b.addEventListener("click", (e) => {
              e.stopPropagation();
              if (TABLE.open.has(g)) TABLE.open.delete(g); else TABLE.open.add(g);
              render();
            });
            td.appendChild(b);
          } else if (i == null) td.appendChild(h("span", { class: "fold-space" }));
          for (const r of i == null ? arr(G.runs) : [i]) td.appendChild(swatch(r));
          td.appendChild(doc.createTextNode(" "));
          if (i == null && g === best) td.appendChild(h("span", { class: "star", title: "the best", text: "★" }));
          td.appendChild(doc.createTextNode(i == null ? String(G.name) : String(runs[i].name)));
          td.dataset.name = i == null ? String(G.name) : String(runs[i].name);
          td.title = i == null ? arr(G.dirs).join("\n") : String(runs[i].dir);
        } else if (c.kind === "flag") {
          td.textContent = i == null ? groupVal(g, c) : valueOf(i, c.key);
        } else if (c.kind === "metric") {
          const raw = i == null ? obj(groups[g].mean)[c.key] : obj(runs[i].metrics)[c.key];
          td.dataset.value = isNum(raw) ? String(raw) : "";
          if (i == null) {
            const G = groups[g], n = obj(G.count)[c.key] | 0;
            td.appendChild(doc.createTextNode(mval(c.m, obj(G.mean)[c.key])));
            if (n > 1 && (c.m.unit === "fraction" || c.m.unit === "number" || obj(G.std)[c.key] > 0))
              td.appendChild(h("span", { class: "sd", text: " ± " + mval(c.m, obj(G.std)[c.key]) + (c.m.unit === "fraction" || c.m.unit === "number" ? " (" + n + ")" : "") }));
          } else td.textContent = mval(c.m, obj(runs[i].metrics)[c.key]);
        } else {
          const st = i == null ? groups[g].status : runs[i].status;
          td.appendChild(badge(st));
        }
        tr.appendChild(td);
      }
    }
    function render() {
      tbody.replaceChildren();
      rowsOf.length = 0;
      ths.forEach((th, k) => {
        const on = cols[k].key === TABLE.key;
        th.classList.toggle("sorted", on);
        th.firstChild.textContent = on ? (TABLE.desc ? "▼" : "▲") : "";
        th.setAttribute("aria-sort", on ? (TABLE.desc ? "descending" : "ascending") : "none");
      });
      for (const g of order()) {
        const G = groups[g], members = arr(G.runs);
        const tr = h("tr", { class: (g === best ? "best" : "") + (BAD(G.status) ? " bad" : ""), "data-group": g });
        cellsFor(tr, null, null, g);
        tr.addEventListener("mouseenter", () => setHot(new Set(members)));
        tr.addEventListener("mouseleave", () => setHot(null));
        tbody.appendChild(tr);
        rowsOf.push({ tr: tr, members: members });
        if (TABLE.open.has(g)) for (const i of members) {
          const mr = h("tr", { class: "member" + (BAD(runs[i].status) ? " bad" : ""), "data-run": i });
          cellsFor(mr, null, i, g);
          mr.addEventListener("mouseenter", () => setHot(new Set([i])));
          mr.addEventListener("mouseleave", () => setHot(null));
          tbody.appendChild(mr);
          rowsOf.push({ tr: mr, members: [i] });
        }
      }
      restyle();
      reorderCards();
    }
    function restyle() {
      for (const r of rowsOf) {
        r.tr.classList.toggle("faded", r.members.every((i) => state.faded[i] || state.off[i]));
        r.tr.classList.toggle("hot", r.members.some(isHot));
      }
    }
    TABLE.render = render;
    TABLE.order = order;
    TABLE.sort = (key, desc) => {
      const c = cols.find((x) => x.key === key);
      if (!c) return false;
      TABLE.key = key;
      TABLE.desc = desc != null ? !!desc : c.kind === "metric" ? !!c.m.higher_is_better : false;
      render();
      return true;
    };
    render();
    refreshers.push(restyle);
    if (groups.length < N && groups.some((g) => g.status !== "ok")) $("table-note").textContent = "A row's status is the worst of its runs'.";
  }

  /* ---------------------------------------------------- per-run cards, in the table's order */
  const CARDS = [];
  function runOrder() {
    const gs = TABLE.order ? TABLE.order() : groups.map((g, k) => k);
    const out = [];
    for (const g of gs) for (const i of arr(groups[g].runs)) out.push(i);
    for (let i = 0; i < N; i++) if (out.indexOf(i) < 0) out.push(i);
    return out;
  }
  function reorderCards() {
    const pos = new Map(runOrder().map((i, k) => [i, k]));
    for (const box of [$("weights"), $("networks")]) {
      if (!box) continue;
      const kids = Array.from(box.children).filter((e) => e.dataset.run != null);
      kids.sort((a, b) => pos.get(+a.dataset.run) - pos.get(+b.dataset.run));
      for (const k of kids) box.appendChild(k);
    }
  }
  function cardHead(i) {
    const m = metricOf(PRIMARY);
    const head = h("div", { class: "card-head" }, [swatch(i), h("span", { class: "card-title", text: runLabel(i, true), title: String(runs[i].dir) }),
      runs[i].status !== "ok" ? badge(runs[i].status) : null, h("span", { class: "card-res", text: m ? mval(m, runResult(i, PRIMARY), true) : "" })]);
    return head;
  }
  function runCard(box, i, cls) {
    const card = h("div", { class: "run-card" + (cls ? " " + cls : "") + (BAD(runs[i].status) ? " bad" : ""), "data-run": i });
    card.appendChild(cardHead(i));
    if (flags.length) card.appendChild(h("div", { class: "card-sub", text: String(runs[i].name) }));
    card.addEventListener("mouseenter", () => setHot(new Set([i])));
    card.addEventListener("mouseleave", () => setHot(null));
    box.appendChild(card);
    CARDS.push({ el: card, run: i });
    return card;
  }
  refreshers.push(() => {
    for (const c of CARDS) {
      c.el.classList.toggle("faded", !!state.faded[c.run]);
      c.el.classList.toggle("off", !!state.off[c.run]);
      c.el.classList.toggle("hot", isHot(c.run));
    }
  });

  /* the runs' weights, decoded once: netModel per run, or null */
  let ALLCODES = null;
  const MODELS = new Array(N).fill(null);
  function decodeWeights() {
    const node = $("nncl-weights");
    let need = 0;
    for (const r of runs) { const w = r.weights; if (w && isNum(w.offset) && isNum(w.count)) need = Math.max(need, w.offset + w.count); }
    if (!node || !need) return;
    ALLCODES = C.decodeCodes(node.textContent, need);
    node.textContent = "";
    if (!ALLCODES) { notices.push(["warn", "The weight codes in this file are damaged, so the weights and networks are left out."]); return; }
    for (let i = 0; i < N; i++) {
      const w = runs[i].weights;
      if (!w || !isNum(w.offset)) continue;
      const sizes = arr(w.sizes).map(Number), L = sizes.length - 1;
      const image = Array.isArray(w.image) && w.image.length === 2 && w.image[0] * w.image[1] === sizes[0] ? w.image.map(Number) : null;
      const cn = arr(w.class_names), fn = arr(w.feature_names);
      const classNames = [], featureNames = [];
      const cls = w.task !== "regress";
      for (let j = 0; j < (cls ? sizes[L] : 1); j++) classNames.push(!cls ? "prediction" : cn[j] != null && cn[j] !== "" ? String(cn[j]) : "class " + j);
      for (let k = 0; k < Math.min(sizes[0], 1024); k++) featureNames.push(fn[k] != null && fn[k] !== "" ? String(fn[k]) : "input " + (k + 1));
      const scale = arr(w.scale);
      MODELS[i] = C.netModel({ sizes: sizes, layers: arr(w.layers).map((l) => ({ in: l.in, out: l.out, w_offset: l.w_offset == null ? -1 : l.w_offset, b_offset: l.b_offset == null ? -1 : l.b_offset })),
        act: w.activation, classify: cls, image: image, featureNames: featureNames, classNames: classNames,
        codes: ALLCODES.subarray(w.offset, w.offset + w.count), P: w.count, S: 1,
        scale: (k, t) => (isNum(scale[t]) ? scale[t] : 0), clamp: w.clamp, biasClamp: w.bias_clamp, partial: !!w.partial });
    }
  }
  /* a layer-list run (a CNN): no dense weights, its layers and first filters instead */
  const isList = (i) => { const w = runs[i].weights; return !!(w && w.form === "layers"); };
  function withoutWeights() {
    const out = [];
    for (let i = 0; i < N; i++) if (!MODELS[i] && !isList(i)) out.push(runs[i].name + " (" + (runs[i].weights_note || "no weights") + ")");
    return out;
  }

  /* ------------------------------------------------------------ first layers */
  const TILES = [];
  function sharedClamp() {
    let mx = 0;
    for (let i = 0; i < N; i++) if (MODELS[i] && MODELS[i].has(0)) mx = Math.max(mx, MODELS[i].clampW(0));
    return mx || 1;
  }
  function buildWeights() {
    const box = $("weights"), lead = $("weights-lead");
    const have = runOrder().filter((i) => MODELS[i] && MODELS[i].has(0));
    const lists = runOrder().filter(isList);
    const missing = withoutWeights();
    if (missing.length) $("weights-note").textContent = "Not shown: " + missing.join("; ") + ".";
    if (lists.length) buildFilterCards(box, lists);
    if (!have.length && lists.length) {
      lead.textContent = FILTERS_LEAD;
      $("weights-bar").hidden = true;
      return;
    }
    if (!have.length) {
      lead.textContent = "Each run's first-layer weights, side by side.";
      $("weights-bar").hidden = true;
      box.appendChild(h("div", { class: "empty", text: N ? "No run has a model to draw (model.safetensors)." : "No runs." }));
      return;
    }
    const anyImage = have.some((i) => MODELS[i].image), anyTable = have.some((i) => !MODELS[i].image);
    lead.textContent = (anyImage ? "Each square is one unit of a run's first layer, drawn as the image of its incoming weights: red pixels push the unit on, " +
      "blue pixels push it off. Side by side, they show what each setting made the network look for: strokes and blobs where it learned, " +
      "noise where it barely moved from its random start. " : "") +
      (anyTable ? "For tables, each column is one unit of the first layer and each row an input feature (the last row the unit's bias): a feature whose row stays pale is one that run ignores. " : "") +
      "Hover a unit for its weights." + (lists.length ? " " + FILTERS_LEAD : "");
    if (have.some((i) => MODELS[i].layers[0].out > 64)) box.classList.add("wide");
    /* one grid for every run, so that the tiles of two runs are the same size */
    const Umax = Math.max(...have.map((i) => Math.min(MODELS[i].layers[0].out, 256)));
    let cols = 16;
    if (Umax <= 64) {
      /* between square and twice as wide as tall, the fewest empty places in the last row */
      cols = Math.max(4, Math.ceil(Math.sqrt(Umax)));
      for (let k = cols, best = 1e9; k <= Math.max(4, Math.ceil(Math.sqrt(2 * Umax))); k++) {
        const empty = (k - (Umax % k)) % k;
        if (empty < best) { best = empty; cols = k; }
      }
    }
    for (const i of have) {
      const M = MODELS[i], lay = M.layers[0], U = Math.min(lay.out, 256);
      const card = runCard(box, i);
      const holder = h("div", { class: "unit-tiles" + (M.image ? " grid" : " columns") });
      const T = { run: i, M: M, ctx: [], img: [], d32: [], U: U };
      if (M.image) {
        /* a square-ish grid that fills the card */
        holder.style.gridTemplateColumns = "repeat(" + cols + ", minmax(0, " + M.image[1] * 4 + "px))";
        for (let j = 0; j < U; j++) {
          const c = h("canvas", { class: "tile", width: M.image[1], height: M.image[0], "data-run": i, "data-u": j });
          const ctx = c.getContext("2d"), im = ctx.createImageData(M.image[1], M.image[0]);
          T.ctx.push(ctx); T.img.push(im); T.d32.push(new Uint32Array(im.data.buffer));
          if (M.L === 1) holder.appendChild(h("figure", { class: "tile-fig" }, [c, h("figcaption", { text: M.classNames[j] })]));
          else holder.appendChild(c);
        }
        card.appendChild(holder);
      } else {
        const nIn = lay.in;
        const cw = clamp(Math.floor(380 / U), 3, 26), rh = clamp(Math.floor(220 / (nIn + 1)), 2, 18);
        for (let j = 0; j < U; j++) {
          const c = h("canvas", { class: "tile", width: 1, height: nIn + 1, "data-run": i, "data-u": j, style: "width:" + cw + "px;height:" + (nIn + 1) * rh + "px;image-rendering:pixelated" });
          const ctx = c.getContext("2d"), im = ctx.createImageData(1, nIn + 1);
          T.ctx.push(ctx); T.img.push(im); T.d32.push(new Uint32Array(im.data.buffer));
          holder.appendChild(c);
        }
        if (rh >= 10) {
          const labels = h("div", { class: "heat-labels", style: "grid-template-rows:repeat(" + (nIn + 1) + "," + rh + "px)" });
          for (let k = 0; k < nIn; k++) labels.appendChild(h("div", { text: M.featureNames[k], title: M.featureNames[k] }));
          labels.appendChild(h("div", { text: "bias", style: "font-style:italic" }));
          card.appendChild(h("div", { class: "heat-box" }, [labels, holder]));
        } else card.appendChild(holder);
      }
      if (lay.out > U) card.appendChild(h("p", { class: "note", text: "The first " + U + " of " + int(lay.out) + " units." }));
      T.scaleEl = h("div", { class: "mini-scale" });
      card.appendChild(T.scaleEl);
      holder.addEventListener("mouseover", (e) => {
        const t = e.target;
        if (t.classList && t.classList.contains("tile")) C.showTip(e, () => C.nodeTip(M, 0, 1, +t.dataset.u));
      });
      holder.addEventListener("mousemove", C.moveTip);
      holder.addEventListener("mouseout", (e) => { if (e.target.classList && e.target.classList.contains("tile")) C.hideTip(); });
      TILES.push(T);
    }
    const set = (shared) => {
      state.shared = shared;
      for (const b of [["range-own", false], ["range-shared", true]]) {
        $(b[0]).classList.toggle("on", b[1] === shared);
        $(b[0]).setAttribute("aria-pressed", String(b[1] === shared));
      }
      $("range-note").textContent = shared ? "±" + fmt(sharedClamp(), 2) + " for every run: a pale run has smaller weights" :
        "each run on the 99th percentile of its own first-layer weights: the patterns show, not their size";
      drawTiles();
    };
    $("range-own").addEventListener("click", () => set(false));
    $("range-shared").addEventListener("click", () => set(true));
    if (have.length < 2) $("weights-bar").hidden = true;
    set(false);
  }
  const FILTERS_LEAD = "A convolutional run shows its first convolution's filters instead, each filter as small squares of its weights " +
    "(one per input channel), blue negative and red positive, on its own colour range.";
  /* a card per layer-list run: its first convolution's filters (from report_layer_list_json) */
  function buildFilterCards(box, lists) {
    for (const i of lists) {
      const list = obj(runs[i].weights.layer_list), F = list.filters && typeof list.filters === "object" ? list.filters : null;
      const card = runCard(box, i, "filters-card");
      card.appendChild(h("div", { class: "card-sub mono", text: C.layerNames(list).join(", ") }));
      if (!F) {
        card.appendChild(h("p", { class: "note", text: "No filters to draw: " + String(list.filters_note || "none in the page") + "." }));
        continue;
      }
      card.appendChild(h("div", { class: "card-sub", text: "First convolution's filters (" + arr(F.dims).join("×") + ")" }));
      card.appendChild(C.filterView(F, { run: i, size: 56, max: 64 }));
    }
  }
  function drawTiles() {
    const shared = state.shared ? sharedClamp() : 0;
    for (const T of TILES) {
      const M = T.M, range = shared || M.clampW(0);
      let lut;
      if (shared) {
        const sc = M.scale(0, 0) / shared;
        lut = new Uint32Array(64);
        for (let c = 0; c < 64; c++) lut[c] = C.LUT32[C.cidx((c - 32) * sc)];
      } else lut = M.tileLut(0);
      if (M.image) {
        for (let j = 0; j < T.U; j++) {
          M.fillTile(0, j, lut, T.d32[j]);
          T.ctx[j].putImageData(T.img[j], 0, 0);
        }
      } else {
        const lay = M.layers[0], nIn = lay.in;
        const bsc = M.scale(0, 1) / (shared ? shared : M.clampB(0));
        for (let j = 0; j < T.U; j++) {
          M.fillTile(0, j, lut, T.d32[j]);
          T.d32[j][nIn] = C.LUT32[C.cidx((M.codes[lay.b_offset + j] - 32) * bsc)];
          T.ctx[j].putImageData(T.img[j], 0, 0);
        }
      }
      T.scaleEl.replaceChildren(h("span", { text: "−" + fmt(range, 2) }), h("span", { class: "scale-bar" }), h("span", { text: "+" + fmt(range, 2) }),
        h("span", { text: M.image ? "" : "(bias: ±" + fmt(shared || M.clampB(0), 2) + ")" }));
    }
  }

  /* ---------------------------------------------------------------- networks */
  const NETS = [];
  function buildNetworks() {
    const box = $("networks");
    const have = runOrder().filter((i) => MODELS[i]);
    const lists = runOrder().filter(isList);
    const missing = withoutWeights();
    if (missing.length) $("networks-note").textContent = "Not drawn: " + missing.join("; ") + ".";
    /* a layer-list run is not drawn as units and lines: its layers as a table */
    for (const i of lists) {
      const w = runs[i].weights, card = runCard(box, i, "layers-card");
      card.appendChild(C.layerTable(w.layer_list, w.task !== "regress"));
      card.appendChild(h("p", { class: "note", text: "A network with convolution or other layers: its layers as a list, not drawn as units and weights." }));
    }
    if (!have.length && lists.length) return;
    if (!have.length) {
      box.appendChild(h("div", { class: "empty", text: "No run has a model to draw (model.safetensors)." }));
      return;
    }
    if (have.length + lists.length === 1) box.style.gridTemplateColumns = "1fr";
    const general = new Set();
    for (const i of have) for (const n of C.networkNotes(MODELS[i])) general.add(n);
    if (general.size) $("networks-lead").appendChild(doc.createTextNode(" " + [...general].join(" ")));
    /* every card first, so that each drawing is laid out on its final width */
    const nets = have.map((i) => {
      const card = runCard(box, i);
      const net = h("div", { class: "network" });
      card.appendChild(net);
      return [i, card, net];
    });
    for (const [i, card, net] of nets) {
      const M = MODELS[i];
      const view = C.networkView(M, net, { minWidth: 440, innerMax: 360, gridMax: M.L >= 3 ? 140 : 196, minInner: 180 });
      view.draw(0);
      const notes = [];
      if (M.partial) {
        const left = [];
        for (let l = 0; l < M.L; l++) if (!M.has(l)) left.push(l + 1);
        notes.push("Layer" + (left.length > 1 ? "s " : " ") + left.join(", ") + " " + (left.length > 1 ? "are" : "is") + " drawn without weights: the network has " +
          int(arr(M.sizes).reduce((a, n, k, all) => (k ? a + n * (all[k - 1] + 1) : 0), 0)) + " parameters, and the page keeps the first and the last layers of networks over 100,000.");
      }
      const ranges = [];
      for (let l = 0; l < M.L; l++) if (M.has(l)) ranges.push("layer " + (l + 1) + " ±" + fmt(M.clampW(l), 2));
      if (ranges.length) notes.push("Colour ranges: " + ranges.join(", ") + ".");
      card.appendChild(h("p", { class: "note", text: notes.join(" ") }));
      NETS.push(view);
    }
    let rt = null;
    window.addEventListener("resize", () => { clearTimeout(rt); rt = setTimeout(() => { for (const v of NETS) v.resize(); }, 150); });
  }

  /* ------------------------------------------------------------------ footer */
  function buildFooter() {
    const dirs = runs.map((r) => String(r.dir));
    let common = dirs.length ? dirs[0] : "";
    for (const d of dirs) while (common && d.indexOf(common) !== 0) common = common.slice(0, common.lastIndexOf("/") > 0 ? common.lastIndexOf("/") : 0);
    if (N === 1) common = dirs[0];
    $("foot").textContent = "Made by nncl compare from " + plural(N, "run") + (common ? " in " + common : "") + ". Everything on this page, its data and its code, " +
      "is inside this one file: it opens without a network, anywhere, for as long as there are browsers.";
  }

  /* ------------------------------------------------------------------- build */
  function main() {
    const t0 = performance.now();
    C.chartDefaults();
    guard("weights", decodeWeights);
    guard("header", buildHeader);
    guard("notices", buildNotices);
    guard("legend", buildLegend);
    if (typeof Chart !== "undefined") guard("curves", buildCurves);
    guard("parallel coordinates", buildParallel);
    if (typeof Chart !== "undefined") guard("effects", buildEffects);
    guard("table", buildTable);
    guard("first layers", buildWeights);
    guard("networks", buildNetworks);
    guard("order", reorderCards);
    guard("footer", buildFooter);
    guard("refresh", refresh);
    window.nnclCompare.curves = curvesDrawn;
    window.nnclCompare.buildMs = performance.now() - t0;
    window.nnclCompare.timings = timings;
    window.nnclCompare.readyAt = performance.now();
    doc.body.dataset.ready = "1";
  }
  window.nnclCompare = {
    runs: N, groups: groups.length, curves: 0,
    brush: brushFrac,
    clearBrush() { PAR.brush = {}; drawParallelBrushes(); applyBrushes(); },
    faded() { const out = []; for (let i = 0; i < N; i++) if (state.faded[i]) out.push(i); return out; },
    sort(key, desc) { return TABLE.sort ? TABLE.sort(key, desc) : false; },
    colours: colour,
  };
  if (doc.readyState === "loading") doc.addEventListener("DOMContentLoaded", main);
  else main();
})();
