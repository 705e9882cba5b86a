/* nncl run report: draws the page from the JSON in #nncl-data and the weight
 * codes in #nncl-weights. Plain ES2017, no modules, nothing fetched. */
"use strict";
(function () {
  const C = nnclCommon;
  const doc = document;
  const { $, h, isNum, arr, obj, clamp, fmt, pct, int, secs, plural, shellQuote, minMax, kv } = C;
  const { LUT_CSS, LUT32, LUT_DARK, cidx, viridis, SERIES, alpha } = C;
  const { logTick, xy, hasY, chartCard, emptyCard, lineOptions, line, xMaxOf, showTip, moveTip, hideTip, refreshTip } = C;
  const MAX_UNITS = 64;    /* units drawn per column */
  const TOP_K = 6;         /* incoming edges per unit for wide layers and image inputs */
  const FPS = 8;
  const C_TRAIN = "#0072b2", C_VAL = "#d55e00", C_CURSOR = "#d55e00";

  /* --------------------------------------------------------------- the data */
  let D;
  try {
    D = JSON.parse($("nncl-data").textContent);
  } catch (e) {
    fatal("The data in this report could not be read (" + e.message + ").");
    return;
  }
  const cfg = obj(D.config), sum = obj(D.summary), net = obj(D.net), M = obj(D.metrics);
  const sizes = arr(net.sizes).map(Number);
  const layers = arr(net.layers);
  /* A layer list (a CNN): its sizes are its layers' flattened outputs and
   * layers is empty; its layers and first filters come in layer_list. */
  const LIST = net.form === "layers" ? obj(net.layer_list) : null;
  const L = LIST ? Math.max(0, sizes.length - 1) : layers.length;
  const P = net.n_params | 0;
  const classify = net.task !== "regress";
  const F = D.frames && typeof D.frames === "object" && D.frames.count > 0 ? D.frames : null;
  const S = F ? F.count | 0 : 0;
  const image = (() => {
    const im = net.image;
    if (Array.isArray(im) && im.length === 2 && im[0] > 0 && im[1] > 0 && im[0] * im[1] === sizes[0]) return im.map(Number);
    return null;
  })();
  const classNames = (() => {
    const cn = arr(net.class_names).length ? net.class_names : arr(cfg.data && cfg.data.class_names);
    const n = sizes[L] || 0;
    if (!classify) return ["prediction"];
    const out = [];
    for (let j = 0; j < n; j++) out.push(cn[j] != null && cn[j] !== "" ? String(cn[j]) : "class " + j);
    return out;
  })();
  const featureNames = (() => {
    const fn = arr(net.feature_names);
    const out = [];
    for (let i = 0; i < (sizes[0] || 0); i++) out.push(fn[i] != null && fn[i] !== "" ? String(fn[i]) : "input " + (i + 1));
    return out;
  })();
  const notices = [];
  let codes = null;        /* Uint8Array(S * P) of codes 0..63, or null */
  let cur = 0;             /* the frame shown */
  const frameHooks = [];   /* functions(k) run on every frame change */
  const cursorCharts = []; /* {chart, x(k)} */
  const curveCharts = [];  /* {chart, build(mode)} redrawn on an x-axis change */
  let xMode = "epoch";

  function fatal(msg) {
    const n = $("notices");
    if (n) n.appendChild(h("p", { class: "notice bad", text: msg }));
    console.error("nncl report: " + msg);
  }
  const timings = {};
  function guard(name, fn) {
    const t0 = performance.now();
    try { fn(); } catch (e) {
      fatal("Part of the report (" + name + ") could not be drawn: " + (e && e.message ? e.message : e));
      if (e && e.stack) console.error(e.stack);
    }
    timings[name] = Math.round((performance.now() - t0) * 10) / 10;
  }

  let W = null;            /* the network and its weights (nnclCommon.netModel), once decoded */
  function decodeWeights() {
    const node = $("nncl-weights");
    if (!F || !node || !P) return;
    const need = S * P, txt = node.textContent;
    codes = C.decodeCodes(txt, need);
    if (!codes) {
      if (txt.replace(/\s+/g, "").length) notices.push(["warn", "The weight codes in this file hold " + int(txt.replace(/\s+/g, "").length) + " characters, not " + int(need) +
        " (" + S + " frames × " + int(P) + " parameters), so the network drawing and the first-layer pictures are left out."]);
      return;
    }
    node.textContent = "";   /* the string is no longer needed */
  }
  const fval = (key, k) => (F && Array.isArray(F[key]) && isNum(F[key][k]) ? F[key][k] : null);
  const scaleOf = (k, t) => {
    const row = F && F.scale && F.scale[k];
    return row && isNum(row[t]) ? row[t] : 0;
  };
  const clampW = (l) => { const c = F && F.clamp && F.clamp[l]; return isNum(c) && c > 0 ? c : 1; };
  const actOf = (l) => (l === L - 1 ? (classify ? "softmax" : "identity") : String(net.activation || obj(cfg.model).activation || "?"));
  function netOf() {
    if (!W) W = C.netModel({ sizes: sizes, layers: layers, act: net.activation || obj(cfg.model).activation, classify: classify, image: image,
      featureNames: featureNames, classNames: classNames, codes: codes, P: P, S: S, scale: scaleOf,
      clamp: F ? F.clamp : null, biasClamp: F ? F.bias_clamp : null });
    return W;
  }

  /* ---------------------------------------------------------------- header */
  function buildHeader() {
    const title = String(D.title || "nncl run");
    $("run-title").textContent = title;
    const data = obj(cfg.data), opt = obj(cfg.optimiser), dev = obj(cfg.device);
    const parts = [];
    if (data.name) parts.push(String(data.name));
    if (LIST) parts.push(C.shapeText(LIST.input_shape) + " → " + C.layerNames(LIST).join(" → ") + " (" + actOf(0) + ")");
    else if (sizes.length) parts.push(sizes.join(" → ") + (L > 1 ? " (" + actOf(0) + ")" : ""));
    if (opt.kind) parts.push(opt.kind + (isNum(opt.lr) ? ", lr " + fmt(opt.lr) : ""));
    if (isNum(sum.epochs)) parts.push(plural(sum.epochs, "epoch") + (isNum(sum.seconds) ? " in " + secs(sum.seconds) : ""));
    const devName = dev.name || sum.device;
    if (devName) parts.push("on " + devName);
    $("subtitle").textContent = parts.join(" · ");

    const hl = $("headline");
    const status = String(sum.status || "unknown");
    const big = h("div", { class: "big-result" });
    if (classify) {
      big.appendChild(h("div", { class: "value" + (isNum(sum.test_accuracy) ? "" : " none"), text: isNum(sum.test_accuracy) ? pct(sum.test_accuracy) : "no result" }));
      big.appendChild(h("div", { class: "label", text: isNum(sum.test_accuracy) ? "test accuracy" + (isNum(sum.test_loss) ? " · loss " + fmt(sum.test_loss) : "") : "no test evaluation" }));
    } else {
      big.appendChild(h("div", { class: "value" + (isNum(sum.test_rmse) ? "" : " none"), text: isNum(sum.test_rmse) ? fmt(sum.test_rmse, 4) : "no result" }));
      big.appendChild(h("div", { class: "label", text: isNum(sum.test_rmse) ? "test RMSE" + (isNum(sum.test_r2) ? " · R² " + fmt(sum.test_r2, 3) : "") : "no test evaluation" }));
    }
    hl.appendChild(big);
    hl.appendChild(h("span", { class: "badge " + status, text: status === "ok" ? "finished" : status }));
    doc.title = "nncl report: " + title;
  }

  function buildNotices() {
    const status = String(sum.status || "");
    const err = sum.error ? String(sum.error) : "";
    const done = isNum(sum.epochs) ? sum.epochs : arr(M.epoch).length;
    const planned = isNum(cfg.epochs) ? cfg.epochs : null;
    if (status === "diverged")
      notices.unshift(["bad", "<b>This run diverged:</b> the loss stopped being a finite number, so training stopped early" +
        (done ? " (" + plural(done, "epoch") + " recorded)" : "") + ". Usually the learning rate is too high for this network; try a smaller --lr, or a warm-up.", err]);
    else if (status === "failed")
      notices.unshift(["bad", "<b>This run failed</b> before it finished.", err]);
    else if (status === "interrupted")
      notices.unshift(["warn", "<b>This run was interrupted</b> after " + plural(done, "epoch") + (planned ? " of " + planned : "") +
        ". Everything below is what was saved at that point.", err]);
    else if (status === "running")
      notices.unshift(["info", "<b>This run was still running</b> when the report was made; it shows what was saved so far.", err]);
    for (const m of arr(D.missing)) notices.push(["warn", null, String(m)]);
    if (typeof Chart === "undefined") notices.push(["bad", "The charting library did not load, so the charts are left out."]);
    const box = $("notices");
    for (const n of notices) {
      const p = h("p", { class: "notice" + (n[0] === "warn" ? "" : " " + n[0]) });
      if (n[1]) {
        const span = h("span");
        /* the fixed sentences above carry <b>; anything from the run is text */
        span.innerHTML = n[1].replace(/&(?!amp;)/g, "&amp;").replace(/<(?!\/?b>)/g, "&lt;");
        p.appendChild(span);
        if (n[2]) p.appendChild(h("span", { class: "err", text: n[2] }));
      } else if (n[2]) p.textContent = n[2];
      box.appendChild(p);
    }
  }

  /* ------------------------------------------------------------ at a glance */
  function card(title, body, cls) { return h("div", { class: "card" + (cls ? " " + cls : "") }, [h("h3", { text: title }), body]); }

  /* The Network card: the dense layers as a table, or a layer list in brief (its table is in The layers) */
  function glanceDense() {
    const t = h("table", { class: "layers" });
    t.appendChild(h("thead", null, h("tr", null, [h("th", { text: "layer" }), h("th", { text: "shape" }), h("th", { text: "activation" }), h("th", { class: "r", text: "parameters" })])));
    const tb = h("tbody");
    let total = 0;
    for (let l = 0; l < L; l++) {
      const lay = layers[l], n = lay.in * lay.out + lay.out;
      total += n;
      tb.appendChild(h("tr", null, [h("td", { text: String(l + 1) }), h("td", { text: lay.in + " → " + lay.out }), h("td", { text: actOf(l) }), h("td", { class: "r", text: int(n) })]));
    }
    tb.appendChild(h("tr", { class: "total" }, [h("td", { text: "total" }), h("td"), h("td"), h("td", { class: "r", text: int(P || total) })]));
    t.appendChild(tb);
    return h("div", null, [t]);
  }
  function glanceLayerList() {
    return h("div", null, [kv([
      ["input", C.shapeText(LIST.input_shape)],
      ["layers", h("span", { class: "mono", text: C.layerNames(LIST).join(", ") })],
      ["activation", actOf(0)],
      ["parameters", int(P)],
    ])]);
  }

  /* The best validation figure any epoch reached (metrics.csv: the highest
   * accuracy, the lowest MAE), and, where another epoch had the lowest
   * validation loss (summary.json's best_epoch, the one early stopping
   * keeps), that epoch's figure too: accuracy can still climb while the
   * loss rises (confident mistakes), and "best" alone would hide which. */
  function bestValidation(classify) {
    const vals = M.val_accuracy, eps = M.epoch;   /* a regression's validation MAE is in val_accuracy too */
    const show = (v) => (classify ? pct(v) : fmt(v));
    const atLoss = classify ? sum.best_val_accuracy : sum.best_val_mae;
    let best = -1;
    if (Array.isArray(vals) && Array.isArray(eps))
      for (let i = 0; i < vals.length; i++)
        if (isNum(vals[i]) && (best < 0 || (classify ? vals[i] > vals[best] : vals[i] < vals[best]))) best = i;
    const rows = [];
    if (best >= 0) rows.push([classify ? "best validation" : "best val. MAE", show(vals[best]) + " (epoch " + eps[best] + ")"]);
    const lossEpoch = isNum(sum.best_epoch) && sum.best_epoch > 0 ? sum.best_epoch : null;
    if (isNum(atLoss) && (best < 0 || lossEpoch !== eps[best]))
      rows.push([best < 0 ? (classify ? "best validation" : "best val. MAE") : "at lowest val. loss",
                 show(atLoss) + (lossEpoch ? " (epoch " + lossEpoch + ")" : "")]);
    return rows;
  }

  function buildGlance() {
    const box = $("glance-cards");
    const data = obj(cfg.data), model = obj(cfg.model), opt = obj(cfg.optimiser), sch = obj(cfg.schedule), dev = obj(cfg.device);
    const status = String(sum.status || "unknown");

    /* result */
    const res = h("div");
    if (classify) {
      res.appendChild(h("div", { class: "value" + (isNum(sum.test_accuracy) ? "" : " bad"), text: isNum(sum.test_accuracy) ? pct(sum.test_accuracy) : "no test" }));
      res.appendChild(kv([
        ["test accuracy", isNum(sum.test_accuracy) ? "on " + int(data.test_rows) + " test rows" : null],
        ["test loss", isNum(sum.test_loss) ? fmt(sum.test_loss) : null],
        ...bestValidation(true),
        ["status", h("span", { class: "badge " + status, text: status === "ok" ? "finished" : status })],
      ]));
    } else {
      res.appendChild(h("div", { class: "value" + (isNum(sum.test_rmse) ? "" : " bad"), text: isNum(sum.test_rmse) ? "RMSE " + fmt(sum.test_rmse) : "no test" }));
      res.appendChild(kv([
        ["test MAE", isNum(sum.test_mae) ? fmt(sum.test_mae) : null],
        ["test R²", isNum(sum.test_r2) ? fmt(sum.test_r2, 3) : null],
        ["test loss", isNum(sum.test_loss) ? fmt(sum.test_loss) : null],
        ...bestValidation(false),
        ["status", h("span", { class: "badge " + status, text: status === "ok" ? "finished" : status })],
      ]));
    }
    box.appendChild(card("Result", res, "result"));

    /* data */
    const cls = arr(data.class_names);
    let inputs = image ? image[0] + "×" + image[1] + " image (" + int(sizes[0]) + " pixels)" : plural(sizes[0], "feature");
    if (!image && arr(net.feature_names).length && sizes[0] <= 12) inputs += ": " + net.feature_names.join(", ");
    let task;
    if (classify) {
      const n = sizes[L];
      task = plural(n, "class") .replace(/classs$/, "classes");
      if (cls.length && cls.length <= 12) task += ": " + cls.join(", ");
    } else task = "regression" + (data.label ? " of " + data.label : "");
    box.appendChild(card("Data", kv([
      ["dataset", data.name],
      ["train", isNum(data.train_rows) ? int(data.train_rows) + " rows" : null],
      ["validation", isNum(data.val_rows) ? int(data.val_rows) + " rows" : null],
      ["test", isNum(data.test_rows) ? int(data.test_rows) + " rows" + (data.test_from ? " (" + data.test_from + ")" : "") : null],
      ["inputs", sizes.length ? inputs : null],
      ["task", task],
      ["sha-256", data.sha256 ? h("span", { class: "mono", title: String(data.sha256), text: String(data.sha256).slice(0, 16) + "…" }) : null],
    ])));

    /* network */
    const netBody = LIST ? glanceLayerList() : glanceDense();
    const extra = [];
    if (model.init) extra.push("init " + model.init + (isNum(model.init_param) && model.init_param > 0 ? ":" + model.init_param : ""));
    if (isNum(model.dropout) && model.dropout > 0) extra.push("dropout " + model.dropout);
    if (net.activation === "leaky_relu" && isNum(model.leaky_slope)) extra.push("leaky slope " + model.leaky_slope);
    if (extra.length) netBody.appendChild(h("p", { class: "note", text: extra.join(" · ") }));
    box.appendChild(card("Network", netBody));

    /* training */
    let optText = String(opt.kind || "?");
    if (opt.kind === "adam" || opt.kind === "adamw") optText += " (β₁ " + fmt(opt.beta1) + ", β₂ " + fmt(opt.beta2) + ", ε " + fmt(opt.eps) + ")";
    else if (opt.kind === "momentum") optText += " (" + fmt(opt.momentum) + (opt.nesterov ? ", Nesterov" : "") + ")";
    let schText = String(sch.kind || "constant");
    if (sch.kind === "step") schText += ": ×" + fmt(sch.gamma) + " every " + plural(sch.step_epochs, "epoch");
    if (isNum(sch.warmup_epochs) && sch.warmup_epochs > 0) schText += ", " + fmt(sch.warmup_epochs) + " epoch warm-up";
    const done = isNum(sum.epochs) ? sum.epochs : null;
    box.appendChild(card("Training", kv([
      ["optimiser", optText],
      ["learning rate", isNum(opt.lr) ? fmt(opt.lr) : null],
      ["schedule", schText],
      ["weight decay", isNum(opt.weight_decay) && opt.weight_decay > 0 ? fmt(opt.weight_decay) : null],
      ["batch", isNum(cfg.batch) ? (cfg.batch === 0 ? "whole training set" : int(cfg.batch) + " rows") : null],
      ["epochs", done != null ? int(done) + (isNum(cfg.epochs) && cfg.epochs !== done ? " of " + cfg.epochs : "") : (isNum(cfg.epochs) ? int(cfg.epochs) : null)],
      ["steps", isNum(sum.steps) ? int(sum.steps) : null],
      ["early stop", isNum(cfg.early_stop) ? (cfg.early_stop > 0 ? "after " + plural(cfg.early_stop, "epoch") + " without progress" : "off") : null],
      ["seed", cfg.seed != null ? String(cfg.seed) : null],
      ["preset", cfg.preset ? String(cfg.preset) : null],
    ]), "wide"));

    /* device and time */
    box.appendChild(card("Device and time", kv([
      ["device", dev.name || sum.device],
      ["kind", [dev.type, dev.backend].filter(Boolean).join(", ")],
      ["platform", dev.platform],
      ["driver", dev.driver],
      ["training time", isNum(sum.seconds) ? secs(sum.seconds) : null],
      ["throughput", isNum(sum.samples_per_second) ? int(sum.samples_per_second) + " samples/s" : null],
      ["nncl", cfg.nncl_version],
    ]), "wide"));

    /* the command */
    const cmd = arr(cfg.command);
    const pre = $("command");
    pre.textContent = cmd.length ? "nncl " + cmd.map(shellQuote).join(" ") : "(the command line is not recorded)";
    $("copy-command").addEventListener("click", () => {
      const r = doc.createRange();
      r.selectNodeContents(pre);
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(r);
      if (navigator.clipboard && navigator.clipboard.writeText)
        navigator.clipboard.writeText(pre.textContent).then(() => { $("copy-command").textContent = "copied"; }, () => {});
    });
  }

  /* ----------------------------------------------------------------- charts */
  const cursorPlugin = {
    id: "nnclCursor",
    afterDatasetsDraw(chart) {
      const x = chart.$nnclCursor;
      if (!isNum(x)) return;
      const sc = chart.scales.x, a = chart.chartArea;
      if (!sc || !a) return;
      const px = sc.getPixelForValue(x);
      if (!(px >= a.left - 1 && px <= a.right + 1)) return;
      const ctx = chart.ctx;
      ctx.save();
      ctx.strokeStyle = C_CURSOR;
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      ctx.moveTo(px, a.top);
      ctx.lineTo(px, a.bottom);
      ctx.stroke();
      ctx.restore();
    },
  };
  function makeChart(canvas, type, datasets, options) {
    return new Chart(canvas.getContext("2d"), { type: type, data: { datasets: datasets }, options: options, plugins: [cursorPlugin] });
  }
  function frameX(k, mode) { return fval(mode === "time" ? "seconds" : "epoch", k); }

  function buildCurves() {
    const box = $("curves");
    const snaps = F && S > 1;
    if (!classify) $("curves-lead").firstChild.textContent = "The loss is what training pushes down, here the mean squared error; the mean absolute error " +
      "(MAE) is the same mistakes in the target's own units. Training numbers are measured on the examples being learned, validation numbers on held-out " +
      "examples: when validation loss turns up while training loss keeps falling, the network is starting to memorise instead of generalise (overfitting).";
    if (snaps) $("curves-lead-snaps").textContent = " The thin lines are measured at each snapshot, between the epochs.";
    const accLabel = classify ? "accuracy" : "MAE";
    const mul = classify ? 100 : 1;
    const yAcc = classify ? (v) => fmt(v, 3) + "%" : (v) => fmt(v);
    const xTitle = (mode) => (mode === "time" ? "training time (s)" : "epoch");
    const xsM = (mode) => (mode === "time" ? M.seconds : M.epoch);
    const xsF = (mode) => (mode === "time" ? arr(F && F.seconds) : arr(F && F.epoch));
    const nEpochs = arr(M.epoch).length;
    const pointR = nEpochs > 40 ? 0 : 3;

    const defs = [
      {
        title: "Loss",
        explain: (classify ? "Cross-entropy" : "Mean squared error") + ": lower is better. It should fall quickly at first and then level off.",
        build(mode, log) {
          const sets = [
            line("train", xy(xsM(mode), M.train_loss, 1, log), C_TRAIN, { pointRadius: pointR }),
            line("validation", xy(xsM(mode), M.val_loss, 1, log), C_VAL, { pointRadius: pointR }),
          ];
          if (snaps) {
            sets.push(line("train (snapshots)", xy(xsF(mode), F.train_loss, 1, log), alpha(C_TRAIN, 0.45), { borderWidth: 1.2, $hideLegend: true }));
            sets.push(line("validation (snapshots)", xy(xsF(mode), F.val_loss, 1, log), alpha(C_VAL, 0.45), { borderWidth: 1.2, $hideLegend: true }));
          }
          return { sets: sets.filter((d) => hasY(d.data)), yLog: log };
        },
        log: true,
        yTitle: "loss",
      },
      {
        title: classify ? "Accuracy" : "Mean absolute error",
        explain: classify ? "The share of examples whose most likely class is the right one. The gap between train and validation is how much the network has memorised." :
          "The average size of the error in the target's units: lower is better.",
        build(mode) {
          const sets = [
            line("train", xy(xsM(mode), M.train_accuracy, mul), C_TRAIN, { pointRadius: pointR }),
            line("validation", xy(xsM(mode), M.val_accuracy, mul), C_VAL, { pointRadius: pointR }),
          ];
          if (snaps) {
            sets.push(line("train (snapshots)", xy(xsF(mode), F.train_accuracy, mul), alpha(C_TRAIN, 0.45), { borderWidth: 1.2, $hideLegend: true }));
            sets.push(line("validation (snapshots)", xy(xsF(mode), F.val_accuracy, mul), alpha(C_VAL, 0.45), { borderWidth: 1.2, $hideLegend: true }));
          }
          return { sets: sets.filter((d) => hasY(d.data)) };
        },
        yTitle: classify ? "accuracy (%)" : accLabel,
        yFmt: yAcc,
      },
      {
        title: "Learning rate",
        explain: "How big a step the optimiser takes, as the schedule (" + String(obj(cfg.schedule).kind || "constant") + ") sets it over time.",
        build(mode) {
          const pts = snaps ? xy(xsF(mode), F.lr) : xy(xsM(mode), M.lr);
          return { sets: [line("learning rate", pts, "#009e73", { pointRadius: snaps ? 0 : pointR, $hideLegend: true })].filter((d) => hasY(d.data)) };
        },
        yTitle: "learning rate",
      },
    ];
    let lossLog = false;
    for (const def of defs) {
      const first = def.build("epoch", false);
      if (!first.sets.length) {
        emptyCard(box, def.title, def.explain, nEpochs ? "Nothing was recorded for this chart." : "No epoch finished, so there is nothing to plot.");
        continue;
      }
      const cc = chartCard(box, def.title, def.explain);
      const spec = { xTitle: xTitle("epoch"), yTitle: def.yTitle, yFmt: def.yFmt, xMin: 0, xMax: xMaxOf(first.sets) };
      const chart = makeChart(cc.canvas, "line", first.sets, lineOptions(spec));
      const entry = {
        chart: chart,
        rebuild() {
          const b = def.build(xMode, def.log ? lossLog : false);
          chart.data.datasets = b.sets;
          chart.options.scales.x.max = xMaxOf(b.sets);
          chart.options.scales.x.title.text = xTitle(xMode);
          const y = chart.options.scales.y;
          const log = !!b.yLog;
          y.type = log ? "logarithmic" : "linear";
          y.ticks = log ? { callback: logTick, autoSkip: true } : { maxTicksLimit: 7, callback: def.yFmt || ((v) => fmt(v)) };
          chart.options.plugins.tooltip.callbacks.title = (items) => (items.length ? (xMode === "time" ? "time " + fmt(items[0].parsed.x, 4) + " s" : "epoch " + fmt(items[0].parsed.x, 4)) : "");
          chart.$nnclCursor = F ? frameX(cur, xMode) : null;
          chart.update("none");
        },
      };
      curveCharts.push(entry);
      if (def.log) entry.setLog = (v) => { lossLog = v; entry.rebuild(); };
      if (F) cursorCharts.push({ chart: chart, x: (k) => frameX(k, xMode) });
    }
    const setMode = (mode) => {
      if (mode === xMode) return;
      xMode = mode;
      for (const b of [["x-epoch", "epoch"], ["x-time", "time"]]) {
        $(b[0]).classList.toggle("on", b[1] === mode);
        $(b[0]).setAttribute("aria-pressed", String(b[1] === mode));
      }
      for (const c of curveCharts) c.rebuild();
    };
    $("x-epoch").addEventListener("click", () => setMode("epoch"));
    $("x-time").addEventListener("click", () => setMode("time"));
    const hasTime = arr(M.seconds).some(isNum) || (F && arr(F.seconds).some(isNum));
    if (!hasTime) $("x-time").disabled = true;
    $("loss-log").addEventListener("change", (e) => {
      for (const c of curveCharts) if (c.setLog) c.setLog(e.target.checked);
    });
  }

  /* ---------------------------------------------------------------- time bar */
  let timer = null;
  function buildTimebar() {
    const bar = $("timebar"), slider = $("frame"), playBtn = $("play");
    slider.max = String(Math.max(0, S - 1));
    if (S <= 1) {
      bar.classList.add("off");
      return;
    }
    slider.addEventListener("input", () => { stop(); setFrame(+slider.value); });
    playBtn.addEventListener("click", () => (timer ? stop() : play()));
    $("prev").addEventListener("click", () => { stop(); setFrame(cur - 1); });
    $("next").addEventListener("click", () => { stop(); setFrame(cur + 1); });
  }
  function play() {
    if (S <= 1) return;
    if (cur >= S - 1) setFrame(0);
    const btn = $("play");
    btn.innerHTML = "&#10074;&#10074; Pause";
    btn.setAttribute("aria-label", "pause");
    timer = setInterval(() => {
      if (cur >= S - 1) { stop(); return; }
      setFrame(cur + 1);
    }, 1000 / FPS);
  }
  function stop() {
    if (!timer) return;
    clearInterval(timer);
    timer = null;
    const btn = $("play");
    btn.innerHTML = "&#9654;&#xFE0E; Play";
    btn.setAttribute("aria-label", "play");
  }
  function updateReadout(k) {
    const r = $("readout");
    if (!F) { r.textContent = ""; return; }
    const bits = [];
    if (F.source === "model") bits.push("<b>final weights</b>");
    else bits.push("<b>snapshot " + (k + 1) + " / " + S + "</b>");
    const ep = fval("epoch", k), st = fval("step", k), sc = fval("seconds", k);
    if (ep != null) bits.push("epoch " + ep.toFixed(2));
    if (st != null) bits.push("step " + int(st));
    if (sc != null) bits.push(secs(sc));
    const second = [];
    const tl = fval("train_loss", k), vl = fval("val_loss", k), va = fval("val_accuracy", k), lr = fval("lr", k);
    if (tl != null) second.push("train loss " + fmt(tl));
    if (vl != null) second.push("val loss " + fmt(vl));
    if (va != null) second.push(classify ? "val acc " + pct(va, 1) : "val MAE " + fmt(va));
    if (lr != null) second.push("lr " + fmt(lr, 3));
    r.innerHTML = bits.join(" · ") + (second.length ? "<br>" + second.join(" · ") : "");
  }

  /* ----------------------------------------------------------------- network */
  let NETV = null;
  function buildNetwork() {
    if (LIST) { buildLayerList(); return; }
    const Wm = netOf();
    NETV = C.networkView(Wm, $("network"), { maxUnits: MAX_UNITS, topK: TOP_K });
    const note = [];
    if (!codes) note.push(F ? "The weights could not be read, so only the shape of the network is drawn." :
      "This run saved no weights (no snapshot and no model), so only the shape of the network is drawn.");
    else {
      note.push(...C.networkNotes(Wm, { maxUnits: MAX_UNITS, topK: TOP_K }));
      if (F && F.source === "model") note.push("These are the final weights: the run has no snapshots, so there is no time to move through.");
    }
    $("net-note").textContent = note.join(" ");
    if (codes)
      C.networkLegend(Wm, $("net-legend"), "Blue is negative, red positive, white near zero. Each layer has its own colour range, fixed over time " +
        "(the bar's ends are a high percentile of the layer's final weights, so one large weight does not wash out the rest); " +
        "line width grows with |weight| up to the end of that range.");
    frameHooks.push((k) => NETV.draw(k));
    let rt = null;
    window.addEventListener("resize", () => {
      clearTimeout(rt);
      rt = setTimeout(() => NETV.resize(), 150);
    });
  }


  /* A layer list in place of the network drawing: the layers as a table. */
  function buildLayerList() {
    const sec = $("network-section");
    sec.querySelector("h2").textContent = "The layers";
    const toc = doc.querySelector('.toc a[href="#network-section"]');
    if (toc) toc.textContent = "The layers";
    sec.querySelector(".lead").textContent = "The network as a list of layers, read from the input down: what each layer does, the shape it " +
      "takes and gives (channels × height × width; a dense layer's outputs as one number), and how many parameters it learns. " +
      "Convolution layers slide small filters over the picture; pooling keeps the largest (or mean) value of each window.";
    $("network").replaceWith(h("div", { id: "layer-list", class: "layer-list-box" }, [C.layerTable(LIST, classify)]));
    $("net-note").textContent = "The drawing of units and weights is made for dense networks; this one has " +
      "convolution or other layers, so its layers are listed instead, and its first convolution's filters are drawn below.";
  }

  /* ------------------------------------------------------------------- tiles */
  const TILES = {};
  function buildTiles() {
    const box = $("tiles"), lead = $("tiles-lead");
    if (LIST) { buildFilters(box, lead); return; }
    if (!L) return;
    const lay = layers[0];
    const unitWord = L === 1 ? "output class" : "unit of the first hidden layer";
    if (!codes) {
      lead.textContent = "The first layer's weights, one picture per unit, drawn at the time on the slider.";
      box.appendChild(h("div", { class: "empty", text: F ? "The weights in this file could not be read." : "This run saved no weights to draw." }));
      return;
    }
    if (image) {
      lead.textContent = "Each square is one " + unitWord + ", drawn as the image of its " + int(lay.in) +
        " incoming weights: red pixels push the unit on, blue pixels push it off. They start as noise; as the network learns " +
        "they turn into the strokes and blobs each unit looks for." + (S > 1 ? " In a wide layer the random start can hide them: then look at the " +
        "change since the start." : "") + " Hover a tile for its unit number and bias.";
      const z = lay.out <= 16 ? 4 : lay.out <= 64 ? 3 : 2;
      TILES.ctx = []; TILES.img = []; TILES.d32 = [];
      TILES.mode = "w";
      if (S > 1) {
        /* wide layers often hide what they learned under their random start: offer the change since then */
        const bar = h("div", { class: "toolbar" }, [h("span", { class: "toolbar-label", text: "show" })]);
        const seg = h("div", { class: "seg", role: "group", "aria-label": "tile contents" });
        const bw = h("button", { type: "button", class: "seg-btn on", "aria-pressed": "true", text: "weights" });
        const bd = h("button", { type: "button", class: "seg-btn", "aria-pressed": "false", text: "change since the start" });
        seg.appendChild(bw);
        seg.appendChild(bd);
        bar.appendChild(seg);
        const hint = h("span", { class: "note", style: "margin:0" });
        bar.appendChild(hint);
        /* start on the change when the random start is still most of each weight */
        const hidden = deltaClamp() < 0.5 * clampW(0);
        const set = (mode, draw) => {
          TILES.mode = mode;
          bw.classList.toggle("on", mode === "w"); bw.setAttribute("aria-pressed", String(mode === "w"));
          bd.classList.toggle("on", mode === "d"); bd.setAttribute("aria-pressed", String(mode === "d"));
          hint.textContent = mode === "d" ? "colour range ±" + fmt(deltaClamp(), 2) + ": what training added to the random start" +
            (hidden ? ", which is still most of each weight here" : "") : "colour range ±" + fmt(clampW(0), 2) + ", as layer 1 in the network's legend";
          if (draw) drawTiles(cur);
        };
        bw.addEventListener("click", () => set("w", true));
        bd.addEventListener("click", () => set("d", true));
        set(hidden ? "d" : "w", false);
        box.parentNode.insertBefore(bar, box);
      }
      const frag = doc.createDocumentFragment();
      for (let j = 0; j < lay.out; j++) {
        const c = h("canvas", { class: "tile", width: image[1], height: image[0], "data-u": j, style: "width:" + image[1] * z + "px;height:" + image[0] * z + "px" });
        const ctx = c.getContext("2d");
        const im = ctx.createImageData(image[1], image[0]);
        TILES.ctx.push(ctx); TILES.img.push(im); TILES.d32.push(new Uint32Array(im.data.buffer));
        if (L === 1) frag.appendChild(h("figure", { class: "tile-fig" }, [c, h("figcaption", { text: classNames[j] })]));
        else frag.appendChild(c);
      }
      box.appendChild(frag);
      box.addEventListener("mouseover", (e) => {
        const t = e.target;
        if (t.classList && t.classList.contains("tile")) showTip(e, () => C.nodeTip(netOf(), cur, 1, +t.dataset.u));
      });
      box.addEventListener("mousemove", moveTip);
      box.addEventListener("mouseout", (e) => { if (e.target.classList && e.target.classList.contains("tile")) hideTip(); });
      frameHooks.push(drawTiles);
    } else {
      lead.textContent = "Each column is one " + unitWord + ", each row an input feature, and the colour is the weight from that feature " +
        "into that unit (the last row is the unit's bias), on the same colour scale as layer 1 in the network's legend. " +
        "A feature whose row stays pale is one the network has learned to ignore.";
      const nIn = lay.in, nOut = lay.out;
      const cw = clamp(Math.floor(880 / nOut), 4, 44), rh = clamp(Math.floor(520 / (nIn + 1)), 3, 26);
      const wrap = h("div", { class: "heat-wrap" });
      const labels = h("div", { class: "heat-labels", style: "grid-template-rows:repeat(" + (nIn + 1) + "," + rh + "px)" });
      if (rh >= 11) {
        for (let i = 0; i < nIn; i++) labels.appendChild(h("div", { text: featureNames[i], title: featureNames[i] }));
        labels.appendChild(h("div", { text: "bias", style: "font-style:italic" }));
      }
      const c = h("canvas", { class: "heat", width: nOut, height: nIn + 1, style: "width:" + nOut * cw + "px;height:" + (nIn + 1) * rh + "px" });
      wrap.appendChild(labels);
      wrap.appendChild(c);
      wrap.appendChild(h("div", { class: "heat-axis", style: "width:" + nOut * cw + "px" }, [h("span", { text: "unit 1" }), h("span", { text: L === 1 ? "outputs →" : "hidden units →" }), h("span", { text: "unit " + nOut })]));
      box.appendChild(wrap);
      const ctx = c.getContext("2d"), im = ctx.createImageData(nOut, nIn + 1);
      TILES.heat = { ctx: ctx, img: im, d32: new Uint32Array(im.data.buffer), nIn: nIn, nOut: nOut };
      c.addEventListener("mousemove", (e) => {
        const rect = c.getBoundingClientRect();
        const j = Math.floor(((e.clientX - rect.left) / rect.width) * nOut), i = Math.floor(((e.clientY - rect.top) / rect.height) * (nIn + 1));
        if (j < 0 || j >= nOut || i < 0 || i > nIn) return;
        showTip(e, () => {
          const Wm = netOf(), b = Wm.biasOf(cur, 0, j);
          if (i === nIn) return h("div", null, [h("h5", { text: "unit " + (j + 1) + " bias" }), kv([["bias", h("span", null, [C.chip(b / Wm.clampB(0)), fmt(b, 3)])]])]);
          const w = (codes[cur * P + lay.w_offset + j * nIn + i] - 32) * scaleOf(cur, 0);
          return h("div", null, [h("h5", { text: featureNames[i] + " → unit " + (j + 1) }), kv([["weight", h("span", null, [C.chip(w / clampW(0)), fmt(w, 3)])], ["bias", fmt(b, 3)]])]);
        });
      });
      c.addEventListener("mouseleave", hideTip);
      frameHooks.push(drawTiles);
    }
  }
  /* A layer list's first convolution: each filter as small tiles, one per input channel. */
  function buildFilters(box, lead) {
    const sec = $("tiles-section");
    sec.querySelector("h2").textContent = "First convolution's filters";
    const toc = doc.querySelector('.toc a[href="#tiles-section"]');
    if (toc) toc.textContent = "Filters";
    const F = LIST.filters && typeof LIST.filters === "object" ? LIST.filters : null;
    if (!F) {
      lead.textContent = "The first convolution layer's filters, as the network ended.";
      box.appendChild(h("div", { class: "empty", text: "No filters to draw: " + String(LIST.filters_note || "the page holds none") + "." }));
      return;
    }
    const d = arr(F.dims);
    lead.textContent = "Each square is one of the " + int(d[0]) + " filters of the first convolution layer (" + F.name + "), drawn " +
      "pixel for pixel: its " + d[2] + "×" + d[3] + " weights" + (d[1] > 1 ? ", one square per input channel, side by side" : "") +
      ". The filter slides over the picture and responds where the picture looks like its red pixels and not its blue ones; " +
      "trained filters become edges, strokes and spots. These are the final weights. Hover a filter for its bias.";
    /* few filters drawn large, many smaller, so that a row holds a good number */
    const n = (d[0] | 0) * (d[1] | 0);
    box.appendChild(C.filterView(F, { size: n <= 16 ? 96 : n <= 64 ? 72 : 48 }));
    box.appendChild(h("p", { class: "note", text: "Blue is negative, red positive, white near zero; the colour range is ±" + fmt(F.clamp, 3) +
      ", the 99th percentile of the layer's |weights| (larger ones take the end colours)." }));
  }
  /* a colour range for the change of layer 1's weights since frame 0: a high percentile at the last frame */
  function deltaClamp() {
    if (TILES.dclamp) return TILES.dclamp;
    const lay = layers[0], n = lay.in * lay.out, step = Math.max(1, Math.floor(n / 60000));
    const sk = scaleOf(S - 1, 0), s0 = scaleOf(0, 0), bk = (S - 1) * P + lay.w_offset, b0 = lay.w_offset;
    const v = [];
    for (let i = 0; i < n; i += step) v.push(Math.abs((codes[bk + i] - 32) * sk - (codes[b0 + i] - 32) * s0));
    v.sort((a, b) => a - b);
    TILES.dclamp = v.length && v[Math.floor(0.99 * (v.length - 1))] > 0 ? v[Math.floor(0.99 * (v.length - 1))] : 1;
    return TILES.dclamp;
  }
  function drawTiles(k) {
    const lay = layers[0], nIn = lay.in;
    if (TILES.mode === "d" && !TILES.heat) {
      const dc = deltaClamp(), sk = scaleOf(k, 0) / dc, s0 = scaleOf(0, 0) / dc;
      const pair = TILES.pair || (TILES.pair = new Uint32Array(64 * 64));   /* (code at 0, code at k) -> colour */
      for (let a = 0; a < 64; a++) for (let b = 0; b < 64; b++) pair[a * 64 + b] = LUT32[cidx((b - 32) * sk - (a - 32) * s0)];
      for (let j = 0; j < TILES.ctx.length; j++) {
        const d = TILES.d32[j], o = k * P + lay.w_offset + j * nIn, o0 = lay.w_offset + j * nIn;
        for (let i = 0; i < nIn; i++) d[i] = pair[(codes[o0 + i] << 6) | codes[o + i]];
        TILES.ctx[j].putImageData(TILES.img[j], 0, 0);
      }
      return;
    }
    const Wm = netOf(), lut = Wm.tileLut(k);
    if (TILES.heat) {
      const H = TILES.heat, d = H.d32, nOut = H.nOut;
      const bl = Wm.codeIdx(k, 0, true);
      for (let j = 0; j < nOut; j++) {
        const o = k * P + lay.w_offset + j * nIn;
        for (let i = 0; i < nIn; i++) d[i * nOut + j] = lut[codes[o + i]];
        d[nIn * nOut + j] = LUT32[bl[codes[k * P + lay.b_offset + j]]];
      }
      H.ctx.putImageData(H.img, 0, 0);
      return;
    }
    for (let j = 0; j < TILES.ctx.length; j++) {
      Wm.fillTile(k, j, lut, TILES.d32[j]);
      TILES.ctx[j].putImageData(TILES.img[j], 0, 0);
    }
  }

  /* ------------------------------------------------------ inside the layers */
  const HISTS = [];
  function buildInside() {
    const hb = $("hists");
    if (LIST) {
      for (const e of $("inside-section").querySelectorAll("h3, .explain")) e.hidden = true;
      hb.appendChild(h("div", { class: "empty", text: "Weight histograms and per-layer statistics come from snapshots, which nncl records " +
        "for dense networks only: this network has convolution or other layers." }));
      return;
    }
    const FL = F ? arr(F.layers) : [];
    if (!F || !FL.length) {
      hb.appendChild(h("div", { class: "empty", text: "This run has no snapshots or model to measure." }));
    } else {
      for (let l = 0; l < L && l < FL.length; l++) {
        const fl = obj(FL[l]);
        const R = isNum(fl.hist_range) ? fl.hist_range : null;
        const hist = arr(fl.hist);
        const cardEl = h("div", { class: "hist-card" });
        cardEl.appendChild(h("h4", { text: "Layer " + (l + 1) + " weights · " + layers[l].in + " → " + layers[l].out }));
        if (!hist.length || R == null) {
          cardEl.appendChild(h("div", { class: "empty", text: "No histogram recorded." }));
          hb.appendChild(cardEl);
          continue;
        }
        const body = h("div", { class: "hist-body" });
        const ylab = h("div", { class: "hist-y" }, [h("span", { text: "+" + fmt(R, 2) }), h("span", { text: "0" }), h("span", { text: "−" + fmt(R, 2) })]);
        const plot = h("div", { class: "hist-plot" });
        const canvas = h("canvas");
        const mark = h("div", { class: "hist-mark" });
        plot.appendChild(canvas);
        plot.appendChild(mark);
        body.appendChild(ylab);
        body.appendChild(plot);
        const e0 = fval("epoch", 0), e1 = fval("epoch", S - 1);
        body.appendChild(h("div", { class: "hist-x" }, S > 1 ? [h("span", { text: e0 != null ? "epoch " + fmt(e0, 3) : "first" }), h("span", { text: "snapshots →" }),
          h("span", { text: e1 != null ? "epoch " + fmt(e1, 3) : "last" })] : [h("span", { text: "the final weights" + (e1 != null ? ", epoch " + fmt(e1, 3) : "") })]));
        cardEl.appendChild(body);
        cardEl.appendChild(h("div", { class: "hist-scale" }, [h("span", { text: "few" }), h("span", { class: "bar" }), h("span", { text: "many weights (log)" }),
          h("span", { text: " · top and bottom rows: beyond ±" + fmt(R, 2) })]));
        hb.appendChild(cardEl);
        const H = { canvas: canvas, mark: mark, hist: hist, R: R, plot: plot, w: 0 };
        HISTS.push(H);
        plot.addEventListener("mousemove", (e) => {
          const rect = plot.getBoundingClientRect();
          const k = clamp(Math.floor(((e.clientX - rect.left) / rect.width) * hist.length), 0, hist.length - 1);
          const row = clamp(Math.floor(((e.clientY - rect.top) / rect.height) * 34), 0, 33);
          const bin = 33 - row, counts = arr(hist[k]);
          const bw = (2 * R) / 32;
          const range = bin === 0 ? "below −" + fmt(R, 3) : bin === 33 ? "above +" + fmt(R, 3) : "[" + fmt(-R + (bin - 1) * bw, 3) + ", " + fmt(-R + bin * bw, 3) + ")";
          showTip(e, () => h("div", null, [h("h5", { text: "layer " + (l + 1) + ", snapshot " + (k + 1) }),
            kv([["epoch", fmt(fval("epoch", k), 3)], ["weights in", range], ["count", int(counts[bin])]])]));
        });
        plot.addEventListener("mouseleave", hideTip);
      }
      drawHists();
      frameHooks.push(markHists);
      window.addEventListener("resize", () => drawHists());
    }

    /* per-layer statistics through time */
    const box = $("inside-charts");
    const xs = F ? arr(F.epoch) : [];
    const defs = [
      { key: "update_ratio", title: "Update / weight ratio", log: true, ref: 1e-3,
        explain: "How big each optimiser step is compared with the weights themselves (‖ΔW‖ / ‖W‖). Ratios near 1e-3 are healthy; above 1e-2 the learning rate is probably too high, below 1e-5 the layer barely learns." },
      { key: "dead_fraction", title: "Dead units", pct: true,
        explain: "A dead ReLU outputs 0 for every input and never recovers, because no gradient flows through it. A few percent is normal; a third or more means the learning rate or the initialisation is off." },
      { key: "grad_norm", title: "Gradient norm", log: true,
        explain: "The size of each layer's gradient. It usually shrinks as the loss falls; sudden jumps of 10× or more come before a blow-up, and gradients tiny from the start mean the layer gets no learning signal (vanishing gradients)." },
      { key: "w_std", title: "Weight spread (standard deviation)",
        explain: "How spread out each layer's weights are. It normally grows a little from its initial value and then levels off; steady growth without end means the weights are exploding." },
    ];
    for (const def of defs) {
      const sets = [];
      for (let l = 0; l < L && F && l < arr(F.layers).length; l++) {
        const ys = arr(obj(F.layers[l])[def.key]);
        const pts = xy(xs, ys, def.pct ? 100 : 1, def.log);
        if (hasY(pts)) sets.push(line("layer " + (l + 1), pts, SERIES[l % SERIES.length], { pointRadius: S <= 3 ? 3 : 0 }));
      }
      if (!sets.length) {
        const why = !F ? "This run has no snapshots or model to measure." :
          def.key === "dead_fraction" ? "Dead units are counted for ReLU hidden layers only" + (L > 1 ? "; this network uses " + actOf(0) + "." : "; this network has none.") :
          def.key === "update_ratio" && S <= 1 ? "Update ratios need at least two snapshots." : "Nothing was recorded for this chart.";
        emptyCard(box, def.title, def.explain, why);
        continue;
      }
      const xMax = xMaxOf(sets);
      if (def.ref) {
        sets.push(line("1e-3 (typical)", [{ x: 0, y: def.ref }, { x: xMax, y: def.ref }], "#7a8294", { borderDash: [6, 4], borderWidth: 1.2, pointRadius: 0 }));
      }
      const cc = chartCard(box, def.title, def.explain);
      const opts = lineOptions({ xTitle: "epoch", yTitle: def.pct ? "dead units (%)" : def.title.toLowerCase().replace(/ \(.*\)/, ""), yLog: def.log, xMin: 0, xMax: xMax,
        yFmt: def.pct ? (v) => fmt(v, 3) + "%" : (v) => fmt(v, 3), yMin: def.pct ? 0 : undefined });
      const chart = makeChart(cc.canvas, "line", sets, opts);
      cursorCharts.push({ chart: chart, x: (k) => fval("epoch", k) });
    }
  }
  function drawHists() {
    for (const H of HISTS) {
      const w = Math.max(50, Math.floor(H.plot.clientWidth)), hh = Math.max(50, Math.floor(H.plot.clientHeight));
      const dpr = window.devicePixelRatio || 1;
      if (H.w === w * dpr && H.hgt === hh * dpr) continue;
      H.w = w * dpr; H.hgt = hh * dpr;
      H.canvas.width = H.w;
      H.canvas.height = H.hgt;
      const ctx = H.canvas.getContext("2d");
      const n = H.hist.length;
      let mx = 0;
      for (const col of H.hist) for (const v of arr(col)) if (v > mx) mx = v;
      const lm = Math.log1p(mx);
      const cw = H.w / n, rh = H.hgt / 34;
      ctx.fillStyle = "#ffffff";
      ctx.fillRect(0, 0, H.w, H.hgt);
      for (let k = 0; k < n; k++) {
        const col = arr(H.hist[k]);
        const x0 = Math.floor(k * cw), x1 = Math.floor((k + 1) * cw);
        for (let b = 0; b < 34; b++) {
          const v = col[b];
          if (!(v > 0)) continue;
          ctx.fillStyle = viridis(lm > 0 ? Math.log1p(v) / lm : 0);
          const y0 = Math.floor((33 - b) * rh), y1 = Math.floor((34 - b) * rh);
          ctx.fillRect(x0, y0, x1 - x0, y1 - y0);
        }
      }
      /* the overflow rows and zero */
      ctx.fillStyle = "rgba(60,70,90,0.55)";
      ctx.fillRect(0, Math.floor(rh) - 0.5 * dpr, H.w, dpr);
      ctx.fillRect(0, Math.floor(33 * rh) - 0.5 * dpr, H.w, dpr);
      ctx.fillStyle = "rgba(60,70,90,0.25)";
      ctx.fillRect(0, Math.floor(17 * rh), H.w, dpr);
    }
  }
  function markHists(k) {
    for (const H of HISTS) {
      const n = H.hist.length;
      H.mark.style.left = (n > 0 ? ((Math.min(k, n - 1) + 0.5) / n) * 100 : 0) + "%";
    }
  }

  /* -------------------------------------------------------------------- test */
  function buildTest() {
    const box = $("test"), lead = $("test-lead");
    const T = D.test && typeof D.test === "object" ? D.test : null;
    if (!T || (!T.classify && !T.regress)) {
      lead.textContent = "How the trained network does on the test set, which it never saw while learning.";
      box.appendChild(h("div", { class: "empty", text: "There is no test evaluation for this run." }));
      return;
    }
    if (T.classify) buildConfusion(box, lead, T);
    else buildRegress(box, lead, T);
  }
  function metric(v, k) { return h("div", { class: "metric" }, [h("div", { class: "v", text: v }), h("div", { class: "k", text: k })]); }
  function buildConfusion(box, lead, T) {
    const tc = T.classify;
    const conf = arr(tc.confusion);
    const C = conf.length;
    const names = [];
    for (let i = 0; i < C; i++) names.push(arr(tc.class_names)[i] != null ? String(tc.class_names[i]) : classNames[i] || "class " + i);
    lead.textContent = "The confusion matrix counts, for every true class (rows), what the network predicted (columns). The diagonal is " +
      "right and everything else is a mistake; the darkest cells off the diagonal show which classes it mixes up.";
    let total = 0, right = 0;
    for (let i = 0; i < C; i++) for (let j = 0; j < C; j++) { const v = +arr(conf[i])[j] || 0; total += v; if (i === j) right += v; }
    box.appendChild(h("div", { class: "metric-row" }, [
      metric(pct(isNum(tc.accuracy) ? tc.accuracy : total ? right / total : null), "test accuracy"),
      metric(int(isNum(T.rows) ? T.rows : total), "test examples"),
      metric(int(total - right), "mistakes"),
      isNum(sum.test_loss) ? metric(fmt(sum.test_loss), "test loss") : null,
    ]));
    const grid = h("div", { class: "test-grid" });
    const wrap = h("div", { class: "conf-wrap" });
    wrap.appendChild(h("div", { class: "conf-caption", text: "rows: the true class · columns: what the network predicted · shading: share of the row" }));
    const t = h("table", { class: "confusion" });
    const head = h("tr", null, [h("th", { class: "corner" }, ["predicted →", h("br"), "true ↓"])]);
    for (const n of names) head.appendChild(h("th", { scope: "col", title: n, text: n }));
    t.appendChild(h("thead", null, head));
    const tb = h("tbody");
    for (let i = 0; i < C; i++) {
      const row = arr(conf[i]);
      let rs = 0;
      for (let j = 0; j < C; j++) rs += +row[j] || 0;
      const tr = h("tr", null, [h("th", { scope: "row", title: names[i], text: names[i] })]);
      for (let j = 0; j < C; j++) {
        const v = +row[j] || 0, f = rs ? v / rs : 0;
        let bg, dark;
        if (i === j) { const x = cidx(-Math.max(0.08, f)); bg = LUT_CSS[x]; dark = LUT_DARK[x]; }
        else { const x = cidx(v ? Math.min(1, 0.12 + 3 * Math.sqrt(f)) : 0); bg = v ? LUT_CSS[x] : "#f7f7f7"; dark = v ? LUT_DARK[x] : 0; }
        tr.appendChild(h("td", { class: (i === j ? "diag" : "") + (v === 0 ? " zero" : ""), style: "background:" + bg + (dark ? ";color:#fff" : ""),
          title: "true " + names[i] + ", predicted " + names[j] + ": " + v + (rs ? " (" + pct(f, 1) + " of " + names[i] + ")" : ""), text: String(v) }));
      }
      tb.appendChild(tr);
    }
    t.appendChild(tb);
    wrap.appendChild(t);
    grid.appendChild(wrap);
    const acc = h("div", { class: "class-acc" }, [h("h3", { text: "Accuracy per class", style: "margin-top:0" }),
      h("p", { class: "explain", text: "The bars show each class's share of mistakes; the longest is the class the network finds hardest." })]);
    const pcs = arr(tc.per_class_accuracy);
    let worst = 0;
    for (let i = 0; i < C; i++) if (isNum(pcs[i])) worst = Math.max(worst, 1 - pcs[i]);
    for (let i = 0; i < C; i++) {
      const a = isNum(pcs[i]) ? pcs[i] : null;
      const err = a == null ? 0 : clamp(1 - a, 0, 1);
      acc.appendChild(h("div", { class: "bar-row", title: names[i] + ": " + pct(a, 2) + " right, " + pct(a == null ? null : err, 2) + " wrong" }, [
        h("span", { class: "name", text: names[i] }),
        h("span", { class: "track" }, h("span", { class: "fill err", style: "width:" + (worst > 0 ? (err / worst) * 100 : 0) + "%" })),
        h("span", { class: "pct", text: pct(a, 1) })]));
    }
    grid.appendChild(acc);
    box.appendChild(grid);

    const wrong = arr(tc.wrong);
    box.appendChild(h("h3", { text: "The most confidently wrong" }));
    box.appendChild(h("p", { class: "explain", text: wrong.length ?
      "The test examples on which the network was most sure and still wrong. Often the label itself is doubtful or the example really is ambiguous; " +
      "these show what the network finds hard." : "The network got every test example right." }));
    if (!wrong.length) return;
    const withPix = image && wrong.some((w) => typeof w.pixels === "string");
    if (withPix) {
      const g = h("div", { class: "wrong-grid" });
      for (const w of wrong) {
        const cardEl = h("div", { class: "wrong" });
        if (typeof w.pixels === "string") {
          const c = h("canvas", { width: image[1], height: image[0] });
          try {
            const bin = atob(w.pixels);
            const ctx = c.getContext("2d"), im = ctx.createImageData(image[1], image[0]), d = im.data;
            for (let i = 0; i < image[0] * image[1] && i < bin.length; i++) {
              const g2 = 255 - bin.charCodeAt(i);
              d[4 * i] = d[4 * i + 1] = d[4 * i + 2] = g2;
              d[4 * i + 3] = 255;
            }
            ctx.putImageData(im, 0, 0);
          } catch (e) { /* an unreadable image is left blank */ }
          cardEl.appendChild(c);
        }
        cardEl.appendChild(h("div", null, ["true ", h("span", { class: "truth", text: names[w.true] != null ? names[w.true] : String(w.true) })]));
        cardEl.appendChild(h("div", null, ["predicted ", h("span", { class: "pred", text: names[w.pred] != null ? names[w.pred] : String(w.pred) })]));
        cardEl.appendChild(h("div", { class: "conf", text: pct(w.confidence, 1) + " sure" }));
        if (isNum(w.p_true)) cardEl.appendChild(h("div", { class: "conf", title: "the probability it gave the true class", text: "true class " + pct(w.p_true, 1) }));
        cardEl.title = "test example #" + w.index;
        g.appendChild(cardEl);
      }
      box.appendChild(g);
    } else {
      const t2 = h("table", { class: "plain" });
      t2.appendChild(h("thead", null, h("tr", null, ["test row", "true class", "predicted", "confidence", "p(true class)"].map((x) => h("th", { text: x })))));
      const b2 = h("tbody");
      for (const w of wrong)
        b2.appendChild(h("tr", null, [h("td", { text: int(w.index) }), h("td", { text: names[w.true] != null ? names[w.true] : String(w.true) }),
          h("td", { text: names[w.pred] != null ? names[w.pred] : String(w.pred) }), h("td", { text: pct(w.confidence, 1) }), h("td", { text: pct(w.p_true, 1) })]));
      t2.appendChild(b2);
      box.appendChild(t2);
    }
  }
  function buildRegress(box, lead, T) {
    const tr = T.regress;
    const tv = arr(tr.true), pv = arr(tr.pred);
    lead.textContent = "Each dot is one test example: where it sits across is the true value, up is the network's prediction. " +
      "A perfect model puts every dot on the diagonal; the residuals (prediction minus truth) show whether the errors depend on the value.";
    box.appendChild(h("div", { class: "metric-row" }, [
      metric(fmt(tr.rmse), "RMSE (root mean squared error)"),
      metric(fmt(tr.mae), "MAE (mean absolute error)"),
      metric(fmt(tr.r2, 3), "R² (1 is perfect, 0 is guessing the mean)"),
      metric(int(isNum(T.rows) ? T.rows : tv.length), "test examples"),
    ]));
    if (typeof Chart === "undefined") return;
    const pts = [], res = [];
    for (let i = 0; i < Math.min(tv.length, pv.length); i++) {
      if (!isNum(tv[i]) || !isNum(pv[i])) continue;
      pts.push({ x: tv[i], y: pv[i] });
      res.push({ x: tv[i], y: pv[i] - tv[i] });
    }
    const grid = h("div", { class: "chart-grid" });
    box.appendChild(grid);
    if (!pts.length) { emptyCard(grid, "Predicted against true", null, "No test predictions were recorded."); return; }
    const mm = minMax(pts.map((p) => p.x).concat(pts.map((p) => p.y)));
    const pad = (mm[1] - mm[0]) * 0.04 || 1;
    const lo = mm[0] - pad, hi = mm[1] + pad;
    const dot = alpha("#0072b2", 0.55);
    const c1 = chartCard(grid, "Predicted against true", "Dots above the diagonal are over-estimates, below it under-estimates.");
    const o1 = lineOptions({ xTitle: "true value", yTitle: "predicted", xMin: lo, xMax: hi, yMin: lo, yMax: hi });
    o1.interaction = { mode: "nearest", intersect: true };
    o1.plugins.tooltip.callbacks = { label: (c) => " true " + fmt(c.parsed.x) + ", predicted " + fmt(c.parsed.y) };
    makeChart(c1.canvas, "scatter", [
      { label: "test examples", data: pts, backgroundColor: dot, borderColor: dot, pointRadius: 2.5 },
      { type: "line", label: "perfect prediction", data: [{ x: lo, y: lo }, { x: hi, y: hi }], borderColor: "#d55e00", borderDash: [6, 4], borderWidth: 1.5, pointRadius: 0 },
    ], o1);
    const c2 = chartCard(grid, "Residuals", "Prediction minus truth. They should scatter evenly around zero; a slope or a funnel means the errors depend on the value.");
    const o2 = lineOptions({ xTitle: "true value", yTitle: "prediction − true", xMin: lo, xMax: hi });
    o2.interaction = { mode: "nearest", intersect: true };
    o2.plugins.tooltip.callbacks = { label: (c) => " true " + fmt(c.parsed.x) + ", error " + fmt(c.parsed.y) };
    makeChart(c2.canvas, "scatter", [
      { label: "test examples", data: res, backgroundColor: dot, borderColor: dot, pointRadius: 2.5 },
      { type: "line", label: "zero error", data: [{ x: lo, y: 0 }, { x: hi, y: 0 }], borderColor: "#d55e00", borderDash: [6, 4], borderWidth: 1.5, pointRadius: 0 },
    ], o2);
  }

  function buildFooter() {
    const v = cfg.nncl_version ? "nncl " + cfg.nncl_version : "nncl";
    $("foot").textContent = "Made by " + v + " from the run " + (D.title || "") + ". Everything on this page, its data and its code, is inside this one file: " +
      "it opens without a network, anywhere, for as long as there are browsers.";
  }

  /* ------------------------------------------------------------- the frame */
  function setFrame(k) {
    if (!S) return;
    k = clamp(Math.round(+k || 0), 0, S - 1);
    cur = k;
    const slider = $("frame");
    if (+slider.value !== k) slider.value = String(k);
    updateReadout(k);
    for (const f of frameHooks) f(k);
    for (const c of cursorCharts) {
      c.chart.$nnclCursor = c.x(k);
      c.chart.draw();
    }
    refreshTip();
  }

  /* ------------------------------------------------------------------ build */
  function main() {
    const t0 = performance.now();
    if (typeof Chart !== "undefined") {
      Chart.defaults.font.family = getComputedStyle(doc.body).fontFamily;
      Chart.defaults.font.size = 12;
      Chart.defaults.color = "#4a5263";
    }
    guard("weights", decodeWeights);
    guard("header", buildHeader);
    guard("notices", buildNotices);
    guard("summary", buildGlance);
    if (typeof Chart !== "undefined") guard("curves", buildCurves);
    guard("time bar", buildTimebar);
    guard("network", buildNetwork);
    guard("first layer", buildTiles);
    if (typeof Chart !== "undefined") guard("layer statistics", buildInside);
    guard("test results", buildTest);
    guard("footer", buildFooter);
    if (S) guard("frame", () => setFrame(S - 1));
    window.nnclReport.buildMs = performance.now() - t0;
    window.nnclReport.timings = timings;
    window.nnclReport.readyAt = performance.now();
    doc.body.dataset.ready = "1";
  }
  window.nnclReport = { setFrame: setFrame, frames: S, play: play, stop: stop, get frame() { return cur; } };
  if (doc.readyState === "loading") doc.addEventListener("DOMContentLoaded", main);
  else main();
})();
