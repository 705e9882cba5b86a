/* nncl run report: draws the page from the JSON in #nncl-data and the weight
 * codes in #nncl-weights. Plain ES2017, no modules, nothing fetched. */
"use strict";
(function () {
  const doc = document;
  const $ = (id) => doc.getElementById(id);
  const SVGNS = "http://www.w3.org/2000/svg";
  const MAX_UNITS = 64;    /* units drawn per column */
  const TOP_K = 6;         /* incoming edges per unit for wide layers and image inputs */
  const FPS = 8;

  /* ------------------------------------------------------------------ helpers */
  function h(tag, attrs, kids) {
    const e = doc.createElement(tag);
    setAttrs(e, attrs);
    addKids(e, kids);
    return e;
  }
  function s(tag, attrs, kids) {
    const e = doc.createElementNS(SVGNS, tag);
    setAttrs(e, attrs);
    addKids(e, kids);
    return e;
  }
  function setAttrs(e, attrs) {
    if (!attrs) return;
    for (const k of Object.keys(attrs)) {
      const v = attrs[k];
      if (v == null || v === false) continue;
      if (k === "text") e.textContent = v;
      else if (k === "class") e.setAttribute("class", v);
      else if (k === "style") e.style.cssText = v;
      else e.setAttribute(k, v === true ? "" : String(v));
    }
  }
  function addKids(e, kids) {
    if (kids == null) return;
    for (const c of [].concat(kids)) {
      if (c == null || c === false) continue;
      e.appendChild(typeof c === "string" || typeof c === "number" ? doc.createTextNode(String(c)) : c);
    }
  }
  const isNum = (x) => typeof x === "number" && isFinite(x);
  const arr = (a) => (Array.isArray(a) ? a : []);
  const obj = (o) => (o && typeof o === "object" && !Array.isArray(o) ? o : {});
  const clamp = (x, a, b) => (x < a ? a : x > b ? b : x);
  function fmt(x, digits) {
    if (!isNum(x)) return "–";
    if (x === 0) return "0";
    const a = Math.abs(x);
    if (a >= 1e6 || a < 1e-3) return x.toExponential(2).replace("e+", "e").replace(/\.?0+e/, "e");
    if (a >= 1000) return Math.round(x).toLocaleString("en-US");
    return String(+x.toPrecision(digits || 4));
  }
  const pct = (x, d) => (isNum(x) ? (100 * x).toFixed(d == null ? 2 : d) + "%" : "–");
  const int = (x) => (isNum(x) ? Math.round(x).toLocaleString("en-US") : "–");
  function secs(x) {
    if (!isNum(x)) return "–";
    if (x < 60) return (x < 10 ? x.toFixed(1) : x.toFixed(0)) + " s";
    if (x < 3600) return Math.floor(x / 60) + " min " + Math.round(x % 60) + " s";
    return Math.floor(x / 3600) + " h " + Math.round((x % 3600) / 60) + " min";
  }
  const plural = (n, w) => int(n) + " " + w + (n === 1 ? "" : "s");
  function shellQuote(a) {
    a = String(a);
    if (a !== "" && /^[A-Za-z0-9_\-+=.,:/@%^]+$/.test(a)) return a;
    return "'" + a.replace(/'/g, "'\\''") + "'";
  }
  function minMax(values) {
    let lo = Infinity, hi = -Infinity;
    for (const v of values) if (isNum(v)) { if (v < lo) lo = v; if (v > hi) hi = v; }
    return lo <= hi ? [lo, hi] : null;
  }

  /* ------------------------------------------------------------ colour scales */
  /* ColorBrewer RdBu, 11 stops, negative = blue; interpolated linearly. */
  const RDBU = ["#053061", "#2166ac", "#4393c3", "#92c5de", "#d1e5f0", "#f7f7f7",
    "#fddbc7", "#f4a582", "#d6604d", "#b2182b", "#67001f"];
  const hexRGB = (c) => [parseInt(c.slice(1, 3), 16), parseInt(c.slice(3, 5), 16), parseInt(c.slice(5, 7), 16)];
  const NLUT = 1001;       /* odd: index 500 is exactly 0 */
  const LUT_CSS = new Array(NLUT);
  const LUT32 = new Uint32Array(NLUT);
  const LUT_DARK = new Uint8Array(NLUT);
  (function () {
    const stops = RDBU.map(hexRGB);
    for (let i = 0; i < NLUT; i++) {
      const t = (i / (NLUT - 1)) * 10;
      const k = Math.min(9, Math.floor(t));
      const f = t - k;
      const a = stops[k], b = stops[k + 1];
      const r = Math.round(a[0] + (b[0] - a[0]) * f);
      const g = Math.round(a[1] + (b[1] - a[1]) * f);
      const bl = Math.round(a[2] + (b[2] - a[2]) * f);
      LUT_CSS[i] = "rgb(" + r + "," + g + "," + bl + ")";
      LUT32[i] = ((255 << 24) | (bl << 16) | (g << 8) | r) >>> 0;
      LUT_DARK[i] = 0.299 * r + 0.587 * g + 0.114 * bl < 120 ? 1 : 0;
    }
  })();
  /* v in [-1, 1] (clipped; NaN is 0) to a LUT index */
  function cidx(v) {
    if (!(v > -1)) v = v !== v ? 0 : -1;
    else if (v > 1) v = 1;
    return Math.round((v + 1) * 0.5 * (NLUT - 1));
  }
  const rdbu = (v) => LUT_CSS[cidx(v)];
  /* viridis, light (few) to dark (many), for counts */
  const VIRIDIS = ["#fde725", "#b5de2b", "#6ece58", "#35b779", "#1f9e89", "#26828e", "#31688e", "#3e4989", "#482878", "#440154"].map(hexRGB);
  function viridis(t) {
    t = clamp(t, 0, 1) * (VIRIDIS.length - 1);
    const k = Math.min(VIRIDIS.length - 2, Math.floor(t)), f = t - k;
    const a = VIRIDIS[k], b = VIRIDIS[k + 1];
    return "rgb(" + Math.round(a[0] + (b[0] - a[0]) * f) + "," + Math.round(a[1] + (b[1] - a[1]) * f) + "," +
      Math.round(a[2] + (b[2] - a[2]) * f) + ")";
  }
  /* Okabe-Ito, for one line per layer or series */
  const SERIES = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000", "#f0e442"];
  const C_TRAIN = "#0072b2", C_VAL = "#d55e00", C_CURSOR = "#d55e00";
  function alpha(hex, a) { const c = hexRGB(hex); return "rgba(" + c[0] + "," + c[1] + "," + c[2] + "," + a + ")"; }

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
  const L = layers.length;
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

  function decodeWeights() {
    const node = $("nncl-weights");
    if (!F || !node || !P) return;
    let txt = node.textContent;
    const need = S * P;
    if (txt.length !== need) txt = txt.replace(/\s+/g, "");
    if (txt.length !== need) {
      if (txt.length) notices.push(["warn", "The weight codes in this file hold " + int(txt.length) + " characters, not " + int(need) +
        " (" + S + " frames × " + int(P) + " parameters), so the network drawing and the first-layer pictures are left out."]);
      return;
    }
    const map = new Uint8Array(128).fill(32);
    const A = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (let i = 0; i < 64; i++) map[A.charCodeAt(i)] = i;
    /* the codes are ASCII, so the encoder's bytes line up with the characters */
    let c = typeof TextEncoder === "function" ? new TextEncoder().encode(txt) : null;
    if (c && c.length === need) {
      for (let i = 0; i < need; i++) c[i] = map[c[i] & 127];
    } else {
      c = new Uint8Array(need);
      for (let i = 0; i < need; i++) c[i] = map[txt.charCodeAt(i) & 127];
    }
    codes = c;
    node.textContent = "";   /* the string is no longer needed */
  }
  const fval = (key, k) => (F && Array.isArray(F[key]) && isNum(F[key][k]) ? F[key][k] : null);
  const scaleOf = (k, t) => {
    const row = F && F.scale && F.scale[k];
    return row && isNum(row[t]) ? row[t] : 0;
  };
  const clampW = (l) => { const c = F && F.clamp && F.clamp[l]; return isNum(c) && c > 0 ? c : 1; };
  const clampB = (l) => { const c = F && F.bias_clamp && F.bias_clamp[l]; return isNum(c) && c > 0 ? c : 1; };
  /* colour LUT from a code (0..63) to a LUT index, for layer l's weights (or biases) at frame k */
  function codeIdx(k, l, bias) {
    const sc = scaleOf(k, 2 * l + (bias ? 1 : 0)) / (bias ? clampB(l) : clampW(l));
    const out = new Uint16Array(64);
    for (let c = 0; c < 64; c++) out[c] = cidx((c - 32) * sc);
    return out;
  }
  function weightsOf(k, l, j) {
    const lay = layers[l], n = lay.in, base = k * P + lay.w_offset + j * n, sc = scaleOf(k, 2 * l);
    const w = new Float32Array(n);
    for (let i = 0; i < n; i++) w[i] = (codes[base + i] - 32) * sc;
    return w;
  }
  const biasOf = (k, l, j) => (codes[k * P + layers[l].b_offset + j] - 32) * scaleOf(k, 2 * l + 1);
  const outgoingOf = (k, i) => {      /* input i's weights into layer 1 */
    const lay = layers[0], n = lay.in, base = k * P + lay.w_offset + i, sc = scaleOf(k, 0);
    const w = new Float32Array(lay.out);
    for (let j = 0; j < lay.out; j++) w[j] = (codes[base + j * n] - 32) * sc;
    return w;
  };
  const actOf = (l) => (l === L - 1 ? (classify ? "softmax" : "identity") : String(net.activation || obj(cfg.model).activation || "?"));

  /* ---------------------------------------------------------------- header */
  function buildHeader() {
    const title = String(D.title || "nncl run");
    $("run-title").textContent = title;
    const data = obj(cfg.data), opt = obj(cfg.optimiser), dev = obj(cfg.device);
    const parts = [];
    if (data.name) parts.push(String(data.name));
    if (sizes.length) parts.push(sizes.join(" → ") + (L > 1 ? " (" + actOf(0) + ")" : ""));
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
  function kv(rows) {
    const dl = h("dl", { class: "kv" });
    for (const r of rows) {
      if (!r || r[1] == null || r[1] === "") continue;
      dl.appendChild(h("dt", { text: r[0] }));
      dl.appendChild(h("dd", null, r[1] instanceof Node ? r[1] : String(r[1])));
    }
    return dl;
  }
  function card(title, body, cls) { return h("div", { class: "card" + (cls ? " " + cls : "") }, [h("h3", { text: title }), body]); }

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
        ["best validation", isNum(sum.best_val_accuracy) ? pct(sum.best_val_accuracy) + (isNum(sum.best_epoch) && sum.best_epoch > 0 ? " (epoch " + sum.best_epoch + ")" : "") : null],
        ["status", h("span", { class: "badge " + status, text: status === "ok" ? "finished" : status })],
      ]));
    } else {
      res.appendChild(h("div", { class: "value" + (isNum(sum.test_rmse) ? "" : " bad"), text: isNum(sum.test_rmse) ? "RMSE " + fmt(sum.test_rmse) : "no test" }));
      res.appendChild(kv([
        ["test MAE", isNum(sum.test_mae) ? fmt(sum.test_mae) : null],
        ["test R²", isNum(sum.test_r2) ? fmt(sum.test_r2, 3) : null],
        ["test loss", isNum(sum.test_loss) ? fmt(sum.test_loss) : null],
        ["best val. MAE", isNum(sum.best_val_mae) ? fmt(sum.best_val_mae) + (isNum(sum.best_epoch) && sum.best_epoch > 0 ? " (epoch " + sum.best_epoch + ")" : "") : null],
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
    const netBody = h("div", null, [t]);
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
  function logTick(v) {
    const l = Math.log10(v);
    if (Math.abs(l - Math.round(l)) > 1e-6) return "";
    const e = Math.round(l);
    return e === 0 ? "1" : e === 1 ? "10" : "1e" + e;
  }
  /* points {x, y} from parallel arrays, dropping what a scale cannot show */
  function xy(xs, ys, mul, positive) {
    const out = [];
    const n = Math.min(arr(xs).length, arr(ys).length);
    for (let i = 0; i < n; i++) {
      const x = xs[i];
      if (!isNum(x)) continue;
      let y = ys[i];
      y = isNum(y) ? y * (mul || 1) : null;
      if (positive && !(y > 0)) y = null;
      out.push({ x: x, y: y });
    }
    return out;
  }
  const hasY = (pts) => pts.some((p) => p.y != null);
  function chartCard(parent, title, explain) {
    const c = h("div", { class: "chart-card" });
    c.appendChild(h("h3", { text: title }));
    if (explain) c.appendChild(h("p", { class: "explain", text: explain }));
    const box = h("div", { class: "chart-box" });
    const canvas = h("canvas");
    box.appendChild(canvas);
    c.appendChild(box);
    parent.appendChild(c);
    return { card: c, box: box, canvas: canvas };
  }
  function emptyCard(parent, title, explain, why) {
    const c = h("div", { class: "chart-card" }, [h("h3", { text: title })]);
    if (explain) c.appendChild(h("p", { class: "explain", text: explain }));
    c.appendChild(h("div", { class: "empty", text: why }));
    parent.appendChild(c);
  }
  /* spec: {datasets, xTitle, yTitle, yLog, yFmt, xMin, xMax, type} */
  function lineOptions(spec) {
    const yFmt = spec.yFmt || ((v) => fmt(v));
    return {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      normalized: true,
      interaction: { mode: "nearest", axis: "x", intersect: false },
      layout: { padding: { right: 6 } },
      scales: {
        x: {
          type: "linear",
          min: spec.xMin != null ? spec.xMin : undefined,
          max: spec.xMax != null ? spec.xMax : undefined,
          title: { display: !!spec.xTitle, text: spec.xTitle || "" },
          grid: { color: "#eef0f4" },
          ticks: { maxTicksLimit: 9, includeBounds: false, callback: (v) => fmt(v, 3) },
        },
        y: {
          type: spec.yLog ? "logarithmic" : "linear",
          title: { display: !!spec.yTitle, text: spec.yTitle || "" },
          grid: { color: "#eef0f4" },
          min: spec.yMin,
          max: spec.yMax,
          ticks: spec.yLog ? { callback: logTick, autoSkip: true } : { maxTicksLimit: 7, callback: (v) => yFmt(v) },
        },
      },
      plugins: {
        legend: { position: "bottom", labels: { boxWidth: 14, boxHeight: 2, padding: 10, filter: (item, data) => !data.datasets[item.datasetIndex].$hideLegend } },
        tooltip: {
          callbacks: {
            title: (items) => (items.length ? spec.xTitle.replace(/ \(.*\)$/, "") + " " + fmt(items[0].parsed.x, 4) : ""),
            label: (c) => " " + c.dataset.label + ": " + yFmt(c.parsed.y),
          },
        },
      },
      elements: { line: { borderWidth: 2, tension: 0 }, point: { radius: 0, hoverRadius: 4 } },
    };
  }
  function makeChart(canvas, type, datasets, options) {
    return new Chart(canvas.getContext("2d"), { type: type, data: { datasets: datasets }, options: options, plugins: [cursorPlugin] });
  }
  function line(label, data, colour, opts) {
    return Object.assign({ label: label, data: data, borderColor: colour, backgroundColor: colour, spanGaps: false, fill: false }, opts || {});
  }
  function frameX(k, mode) { return fval(mode === "time" ? "seconds" : "epoch", k); }
  function xMaxOf(sets) {
    let m = -Infinity;
    for (const d of sets) for (const p of d.data) if (p.x > m) m = p.x;
    return m > 0 ? m : 1;
  }

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
  const NET = { layout: null };
  function layoutNetwork() {
    const box = $("network");
    const W = Math.max(680, Math.floor(box.clientWidth || 1100));
    const shown = sizes.map((n, c) => (c === 0 && image ? 0 : Math.min(n, MAX_UNITS)));
    const maxShown = Math.max(1, ...shown);
    const spacing = Math.min(44, Math.max(10.5, 680 / maxShown));
    const top = 56, bottom = 34;
    let cell = 0, gridH = 0, gridW = 0;
    if (image) {
      cell = Math.max(2, Math.min(10, Math.floor(300 / Math.max(image[0], image[1]))));
      gridH = cell * image[0];
      gridW = cell * image[1];
    }
    const innerH = Math.max(maxShown * spacing, gridH + 16, 220);
    const H = Math.ceil(top + innerH + bottom);
    const cy = top + innerH / 2;
    const rOf = (sp) => clamp(sp * 0.36, 3.6, 11);
    const r = rOf(spacing);
    const textW = (list) => Math.min(160, 12 + 7 * Math.max(0, ...list.map((t) => t.length)));
    const leftW = image ? 16 : textW(featureNames.slice(0, MAX_UNITS)) + 8;
    const rightW = Math.max(56, textW(classNames.slice(0, MAX_UNITS)) + 10);
    const first = image ? 16 + gridW : leftW + r;
    const last = W - rightW - r;
    const cols = [];
    for (let c = 0; c <= L; c++) {
      const x = c === 0 ? (image ? 16 + gridW / 2 : first) : first + ((last - first) * c) / L;
      const m = shown[c];
      const sp = m ? Math.min(44, (innerH - 8) / m) : spacing;
      const ys = new Float32Array(m);
      for (let j = 0; j < m; j++) ys[j] = cy + (j - (m - 1) / 2) * sp;
      cols.push({ x: x, n: sizes[c], m: m, ys: ys, sp: sp, r: rOf(sp) });
    }
    const grid = image ? { x: 16, y: cy - gridH / 2, w: gridW, h: gridH, cell: cell } : null;
    /* edges: per weight layer, every edge or each unit's strongest TOP_K */
    const edges = [];
    for (let l = 0; l < L; l++) {
      const src = l === 0 && image ? sizes[0] : cols[l].m;
      const topk = (l === 0 && !!image) || layers[l].in > MAX_UNITS || layers[l].out > MAX_UNITS;
      const k = topk ? Math.min(TOP_K, src) : src;
      const cap = cols[l + 1].m * k;
      edges.push({ topk: topk, k: k, src: src, src_i: new Int32Array(cap), dst_j: new Int32Array(cap), code: new Uint8Array(cap), order: new Int32Array(cap), n: 0 });
    }
    NET.layout = { W: W, H: H, cols: cols, grid: grid, r: r, top: top, edges: edges, spacing: spacing };
  }

  function buildNetworkSvg() {
    const Lo = NET.layout, svg = $("net-svg"), canvas = $("net-canvas"), box = $("network");
    const dpr = window.devicePixelRatio || 1;
    box.style.height = Lo.H + "px";
    canvas.width = Math.round(Lo.W * dpr);
    canvas.height = Math.round(Lo.H * dpr);
    canvas.style.width = Lo.W + "px";
    canvas.style.height = Lo.H + "px";
    NET.dpr = dpr;
    svg.setAttribute("width", Lo.W);
    svg.setAttribute("height", Lo.H);
    svg.setAttribute("viewBox", "0 0 " + Lo.W + " " + Lo.H);
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    NET.nodes = [];
    for (let c = 0; c <= L; c++) {
      const col = Lo.cols[c];
      const g = s("g", { class: "layer", "data-layer": c });
      let title, sub;
      if (c === 0) { title = "input"; sub = image ? image[0] + "×" + image[1] + " pixels" : plural(sizes[0], "feature"); }
      else if (c === L) { title = "output"; sub = plural(sizes[c], "unit") + " · " + actOf(c - 1); }
      else { title = "hidden " + c; sub = plural(sizes[c], "unit") + " · " + actOf(c - 1); }
      g.appendChild(s("text", { class: "col-title", x: col.x, y: 18, text: title }));
      g.appendChild(s("text", { class: "col-sub", x: col.x, y: 33, text: sub }));
      const nodes = [];
      if (c === 0 && image) {
        const gr = Lo.grid;
        g.appendChild(s("rect", { class: "grid-frame", x: gr.x - 0.5, y: gr.y - 0.5, width: gr.w + 1, height: gr.h + 1, "data-grid": 1 }));
        NET.gridCaption = s("text", { class: "caption", x: gr.x, y: gr.y + gr.h + 16 });
        NET.gridCaption2 = s("text", { class: "caption", x: gr.x, y: gr.y + gr.h + 30 });
        g.appendChild(NET.gridCaption);
        g.appendChild(NET.gridCaption2);
      } else {
        for (let j = 0; j < col.m; j++) {
          const circ = s("circle", { class: "node" + (c === 0 ? " input" : ""), cx: col.x, cy: col.ys[j], r: col.r, "data-c": c, "data-u": j, fill: c === 0 ? null : "#f7f7f7" });
          g.appendChild(circ);
          nodes.push(circ);
          if (c === 0 || c === L) {
            const name = c === 0 ? featureNames[j] : classNames[j];
            const short = name.length > 20 ? name.slice(0, 19) + "…" : name;
            if (col.sp >= 9)
              g.appendChild(s("text", { class: "label", x: c === 0 ? col.x - col.r - 6 : col.x + col.r + 6, y: col.ys[j], "text-anchor": c === 0 ? "end" : "start",
                style: col.sp < 13 ? "font-size:" + Math.max(8, Math.floor(col.sp - 1)) + "px" : null, text: short }));
          }
        }
        if (col.n > col.m) g.appendChild(s("text", { class: "more", x: col.x, y: col.ys[col.m - 1] + col.r + 16, text: "+" + int(col.n - col.m) + " more" }));
      }
      svg.appendChild(g);
      NET.nodes.push(nodes);
    }
    NET.ctx = canvas.getContext("2d");
    if (image) {
      NET.gridCanvas = h("canvas", { width: image[1], height: image[0] });
      NET.gridCtx = NET.gridCanvas.getContext("2d");
      NET.gridImg = NET.gridCtx.createImageData(image[1], image[0]);
      NET.grid32 = new Uint32Array(NET.gridImg.data.buffer);
    }
    NET.fills = NET.nodes.map((n) => new Array(n.length).fill(""));
    NET.impCache = new Array(S);
    NET.impMax = null;
  }

  /* Per pixel, how much layer 1's weights from it have changed since the first
   * frame (mean |w_k - w_0| over the units), or with one frame their mean |w|;
   * as greys on one scale for all frames: the pixels the network learned to use. */
  function pixelSums(k) {
    const lay = layers[0], n = lay.in, base = k * P + lay.w_offset, b0 = lay.w_offset;
    const sk = scaleOf(k, 0), s0 = scaleOf(0, 0), diff = S > 1;
    const acc = new Float32Array(n);
    for (let j = 0; j < lay.out; j++) {
      const o = base + j * n, o0 = b0 + j * n;
      for (let i = 0; i < n; i++) {
        const v = diff ? (codes[o + i] - 32) * sk - (codes[o0 + i] - 32) * s0 : (codes[o + i] - 32) * sk;
        acc[i] += v < 0 ? -v : v;
      }
    }
    return acc;
  }
  function importance(k) {
    if (NET.impCache[k]) return NET.impCache[k];
    let last = null;
    if (NET.impMax == null) {
      last = pixelSums(S - 1);
      let mx = 0;
      for (let i = 0; i < last.length; i++) if (last[i] > mx) mx = last[i];
      NET.impMax = mx;
    }
    const acc = last && k === S - 1 ? last : pixelSums(k), n = acc.length, mx = NET.impMax;
    const out = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      const g = Math.round(250 - 205 * clamp(mx > 0 ? acc[i] / mx : 0, 0, 1));
      out[i] = ((255 << 24) | (g << 16) | (g << 8) | g) >>> 0;
    }
    NET.impCache[k] = out;
    return out;
  }

  function drawNetwork(k) {
    const Lo = NET.layout, ctx = NET.ctx, dpr = NET.dpr;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, Lo.W, Lo.H);
    const have = !!codes;
    /* input grid */
    if (image) {
      const gr = Lo.grid;
      if (have) {
        if (NET.hoverUnit != null && NET.hoverUnit.c === 1) {
          const lut = codeIdx(k, 0, false), lay = layers[0], base = k * P + lay.w_offset + NET.hoverUnit.j * lay.in;
          for (let i = 0; i < lay.in; i++) NET.grid32[i] = LUT32[lut[codes[base + i]]];
          NET.gridCaption.textContent = "hidden unit " + (NET.hoverUnit.j + 1) + "'s incoming weights";
          NET.gridCaption2.textContent = "(blue negative, red positive)";
        } else {
          NET.grid32.set(importance(k));
          NET.gridCaption.textContent = S > 1 ? "darker: pixels whose weights have" : "darker: pixels with larger weights";
          NET.gridCaption2.textContent = S > 1 ? "changed most since the start" : "";
        }
        NET.gridCtx.putImageData(NET.gridImg, 0, 0);
        ctx.imageSmoothingEnabled = false;
        ctx.drawImage(NET.gridCanvas, gr.x, gr.y, gr.w, gr.h);
      } else {
        ctx.fillStyle = "#f3f4f6";
        ctx.fillRect(gr.x, gr.y, gr.w, gr.h);
        NET.gridCaption.textContent = "";
        NET.gridCaption2.textContent = "";
      }
    }
    /* edges; without weights, the connections of small layers in grey */
    if (have) {
      for (let l = 0; l < L; l++) drawEdges(k, l);
    } else {
      ctx.strokeStyle = "#dfe3ea";
      ctx.lineWidth = 1;
      for (let l = 0; l < L; l++) {
        if (Lo.edges[l].topk) continue;
        const a = Lo.cols[l], b = Lo.cols[l + 1];
        ctx.beginPath();
        for (let j = 0; j < b.m; j++) for (let i = 0; i < a.m; i++) {
          const x1 = a.x + a.r, x2 = b.x - b.r, xm = (x1 + x2) / 2;
          ctx.moveTo(x1, a.ys[i]);
          ctx.bezierCurveTo(xm, a.ys[i], xm, b.ys[j], x2, b.ys[j]);
        }
        ctx.stroke();
      }
    }
    /* node colours: biases */
    for (let c = 1; c <= L; c++) {
      const nodes = NET.nodes[c], fills = NET.fills[c];
      const l = c - 1;
      const lut = have ? codeIdx(k, l, true) : null;
      const base = k * P + layers[l].b_offset;
      for (let j = 0; j < nodes.length; j++) {
        const f = have ? LUT_CSS[lut[codes[base + j]]] : "#f7f7f7";
        if (fills[j] !== f) { nodes[j].setAttribute("fill", f); fills[j] = f; }
      }
    }
  }

  const ORDER = (() => {        /* codes by |code - 32|, weakest first */
    const o = [];
    for (let d = 0; d <= 32; d++) { if (32 - d >= 0) o.push(32 - d); if (d > 0 && 32 + d < 64) o.push(32 + d); }
    return o;
  })();
  function drawEdges(k, l) {
    const Lo = NET.layout, E = Lo.edges[l], ctx = NET.ctx;
    const lay = layers[l], nIn = lay.in, base = k * P + lay.w_offset;
    const srcCol = Lo.cols[l], dstCol = Lo.cols[l + 1];
    const m = dstCol.m;
    let n = 0;
    if (!E.topk) {
      for (let j = 0; j < m; j++) {
        const o = base + j * nIn;
        for (let i = 0; i < E.src; i++) { E.src_i[n] = i; E.dst_j[n] = j; E.code[n] = codes[o + i]; n++; }
      }
    } else {
      const K = E.k, bestA = new Int32Array(K), bestI = new Int32Array(K);
      for (let j = 0; j < m; j++) {
        const o = base + j * nIn;
        bestA.fill(-1);
        for (let i = 0; i < E.src; i++) {
          let a = codes[o + i] - 32;
          if (a < 0) a = -a;
          if (a <= bestA[K - 1]) continue;
          let p = K - 1;
          while (p > 0 && bestA[p - 1] < a) { bestA[p] = bestA[p - 1]; bestI[p] = bestI[p - 1]; p--; }
          bestA[p] = a;
          bestI[p] = i;
        }
        for (let q = 0; q < K; q++) {
          if (bestA[q] < 0) continue;
          E.src_i[n] = bestI[q]; E.dst_j[n] = j; E.code[n] = codes[o + bestI[q]]; n++;
        }
      }
    }
    E.n = n;
    /* counting sort by code, then one path per code, weakest first */
    const cnt = new Int32Array(65);
    for (let e = 0; e < n; e++) cnt[E.code[e] + 1]++;
    for (let c = 0; c < 64; c++) cnt[c + 1] += cnt[c];
    const pos = cnt.slice(0, 64);
    for (let e = 0; e < n; e++) E.order[pos[E.code[e]]++] = e;
    const sc = scaleOf(k, 2 * l) / clampW(l);
    const r = srcCol.r, gr = Lo.grid;
    const x2 = dstCol.x - dstCol.r;
    const fromGrid = l === 0 && !!image;
    /* a hovered unit: its own edges on top, the rest faded */
    const hv = NET.hoverUnit;
    const isHot = (e) => hv && ((hv.c === l + 1 && E.dst_j[e] === hv.j) || (hv.c === l && E.src_i[e] === hv.j));
    const path = (e) => {
      const i = E.src_i[e], j = E.dst_j[e];
      let x1, y1;
      if (fromGrid) {
        x1 = gr.x + ((i % image[1]) + 0.5) * gr.cell;
        y1 = gr.y + (Math.floor(i / image[1]) + 0.5) * gr.cell;
      } else {
        x1 = srcCol.x + r;
        y1 = srcCol.ys[i];
      }
      const y2 = dstCol.ys[j];
      const xm = (x1 + x2) / 2;
      ctx.moveTo(x1, y1);
      ctx.bezierCurveTo(xm, y1, xm, y2, x2, y2);
    };
    const style = (c) => {
      const v = (c - 32) * sc;
      const av = Math.min(1, Math.abs(v));
      ctx.strokeStyle = LUT_CSS[cidx(v)];
      ctx.lineWidth = E.topk ? 0.3 + 1.4 * av : 0.35 + 2.6 * av;
    };
    ctx.globalAlpha = hv ? 0.12 : E.topk ? 0.6 : n > 1500 ? 0.55 : n > 400 ? 0.75 : 0.9;
    ctx.lineCap = "round";
    for (const c of ORDER) {
      const from = cnt[c], to = cnt[c + 1];
      if (from === to) continue;
      style(c);
      ctx.beginPath();
      for (let q = from; q < to; q++) path(E.order[q]);
      ctx.stroke();
    }
    if (hv) {
      ctx.globalAlpha = 1;
      for (const c of ORDER) {
        for (let q = cnt[c]; q < cnt[c + 1]; q++) {
          const e = E.order[q];
          if (!isHot(e)) continue;
          style(c);
          ctx.lineWidth += 0.6;
          ctx.beginPath();
          path(e);
          ctx.stroke();
        }
      }
    }
    ctx.globalAlpha = 1;
    /* mark the pixels that carry edges */
    if (fromGrid) {
      ctx.strokeStyle = "rgba(20,20,20,0.7)";
      ctx.lineWidth = 1;
      for (let e = 0; e < n; e++) {
        if (hv && !isHot(e)) continue;
        const i = E.src_i[e];
        ctx.strokeRect(gr.x + (i % image[1]) * gr.cell + 0.5, gr.y + Math.floor(i / image[1]) * gr.cell + 0.5, gr.cell - 1, gr.cell - 1);
      }
    }
  }

  function buildNetwork() {
    layoutNetwork();
    buildNetworkSvg();
    const note = [];
    if (!codes) note.push(F ? "The weights could not be read, so only the shape of the network is drawn." :
      "This run saved no weights (no snapshot and no model), so only the shape of the network is drawn.");
    const wide = [];
    for (let c = 1; c <= L; c++) if (sizes[c] > MAX_UNITS) wide.push(c);
    if (codes) {
      if (image) note.push("Each unit next to the image draws only its " + TOP_K + " strongest pixel weights (outlined in the grid); hover a unit to see all of them in the grid.");
      if (wide.length || sizes[0] > MAX_UNITS && !image) note.push("Layers wider than " + MAX_UNITS + " units show their first " + MAX_UNITS + "; edges next to them show each unit's " + TOP_K + " strongest.");
      if (F && F.source === "model") note.push("These are the final weights: the run has no snapshots, so there is no time to move through.");
    }
    $("net-note").textContent = note.join(" ");
    /* legend */
    const lg = $("net-legend");
    if (codes) {
      lg.classList.add("pairs");
      for (let l = 0; l < L; l++) {
        for (const b of [false, true]) {
          const cval = b ? clampB(l) : clampW(l);
          const row = h("div", { class: "legend-row" });
          row.appendChild(h("div", { class: "legend-name", text: "layer " + (l + 1) + (b ? " biases" : " weights") }));
          const right = h("div");
          right.appendChild(h("div", { class: "scale-bar" }));
          right.appendChild(h("div", { class: "scale-ticks" }, [-1, 0, 1].map((t) => h("span", { text: (t > 0 ? "+" : "") + fmt(t * cval, 2) + (t === -1 ? " or less" : t === 1 ? " or more" : "") }))));
          row.appendChild(right);
          lg.appendChild(row);
        }
      }
      lg.appendChild(h("div", { class: "legend-help", text: "Blue is negative, red positive, white near zero. Each layer has its own colour range, fixed over time " +
        "(the bar's ends are a high percentile of the layer's final weights, so one large weight does not wash out the rest); " +
        "line width grows with |weight| up to the end of that range." }));
    }
    /* hover */
    const svg = $("net-svg");
    svg.addEventListener("mouseover", (e) => {
      const t = e.target;
      if (t.dataset && t.dataset.c != null) {
        const c = +t.dataset.c, j = +t.dataset.u;
        NET.hoverUnit = { c: c, j: j };
        t.classList.add("hot");
        showTip(e, () => nodeTip(c, j));
        if (codes) drawNetwork(cur);
      }
    });
    svg.addEventListener("mouseout", (e) => {
      const t = e.target;
      if (t.dataset && t.dataset.c != null) {
        t.classList.remove("hot");
        const was = NET.hoverUnit;
        NET.hoverUnit = null;
        hideTip();
        if (was && codes) drawNetwork(cur);
      }
    });
    svg.addEventListener("mousemove", (e) => {
      if (e.target.dataset && e.target.dataset.grid && codes) {
        const gr = NET.layout.grid, rect = svg.getBoundingClientRect();
        const cx = Math.floor((e.clientX - rect.left - gr.x) / gr.cell), cy = Math.floor((e.clientY - rect.top - gr.y) / gr.cell);
        if (cx >= 0 && cy >= 0 && cx < image[1] && cy < image[0]) showTip(e, () => pixelTip(cy, cx));
        return;
      }
      moveTip(e);
    });
    svg.addEventListener("mouseleave", hideTip);
    frameHooks.push(drawNetwork);
    let rt = null;
    window.addEventListener("resize", () => {
      clearTimeout(rt);
      rt = setTimeout(() => {
        const w = Math.max(680, Math.floor($("network").clientWidth));
        if (w === NET.layout.W) return;
        layoutNetwork();
        buildNetworkSvg();
        drawNetwork(cur);
      }, 150);
    });
  }

  /* ----------------------------------------------------------------- tooltip */
  const TIP = { el: null, make: null, x: 0, y: 0 };
  function showTip(e, make) {
    TIP.el = $("tooltip");
    TIP.make = make;
    TIP.el.hidden = false;
    refreshTip();
    moveTip(e);
  }
  function refreshTip() {
    if (!TIP.make || !TIP.el || TIP.el.hidden) return;
    const content = TIP.make();
    TIP.el.replaceChildren(content);
  }
  function moveTip(e) {
    if (!TIP.el || TIP.el.hidden) return;
    const el = TIP.el, pad = 14;
    const w = el.offsetWidth, hh = el.offsetHeight;
    let x = e.clientX + pad, y = e.clientY + pad;
    if (x + w > window.innerWidth - 4) x = e.clientX - w - pad;
    if (y + hh > window.innerHeight - 4) y = Math.max(4, window.innerHeight - hh - 4);
    el.style.left = Math.max(4, x) + "px";
    el.style.top = y + "px";
  }
  function hideTip() {
    if (TIP.el) TIP.el.hidden = true;
    TIP.make = null;
  }
  function chip(v) { return h("span", { class: "chip", style: "background:" + rdbu(v) }); }
  function weightImage(w, cval, z) {
    const c = h("canvas", { width: image[1], height: image[0], style: "width:" + image[1] * z + "px;height:" + image[0] * z + "px" });
    const ctx = c.getContext("2d"), im = ctx.createImageData(image[1], image[0]), d = new Uint32Array(im.data.buffer);
    for (let i = 0; i < w.length; i++) d[i] = LUT32[cidx(w[i] / cval)];
    ctx.putImageData(im, 0, 0);
    return c;
  }
  function barList(items, cval) {      /* items: [name, value] */
    const box = h("div", { class: "bars" });
    let mx = cval;
    for (const it of items) mx = Math.max(mx, Math.abs(it[1]));
    for (const it of items) {
      const v = it[1], f = Math.min(1, Math.abs(v) / mx) * 50;
      box.appendChild(h("span", { class: "n", text: it[0] }));
      const t = h("span", { class: "t" });
      t.appendChild(h("i", { style: "background:" + rdbu(v / cval) + ";" + (v >= 0 ? "left:50%;width:" + f + "%" : "right:50%;width:" + f + "%") }));
      box.appendChild(t);
      box.appendChild(h("span", { class: "v", text: fmt(v, 3) }));
    }
    return box;
  }
  function srcName(l, i) { return l === 0 ? (image ? "pixel " + (Math.floor(i / image[1]) + 1) + "," + ((i % image[1]) + 1) : featureNames[i]) : "unit " + (i + 1); }
  function nodeTip(c, j) {
    const box = h("div");
    if (c === 0) {
      box.appendChild(h("h5", { text: "input: " + featureNames[j] }));
      if (!codes) return box;
      const w = outgoingOf(cur, j), mm = minMax(w);
      box.appendChild(kv([["weights out", mm ? fmt(mm[0], 3) + " … " + fmt(mm[1], 3) : "–"]]));
      if (w.length <= 32) box.appendChild(barList(Array.from(w, (v, q) => ["unit " + (q + 1), v]), clampW(0)));
      else box.appendChild(h("div", { class: "muted", text: "into " + int(w.length) + " units" }));
      return box;
    }
    const l = c - 1;
    const name = c === L ? "output " + (j + 1) + ": " + classNames[j] : "hidden layer " + c + ", unit " + (j + 1);
    box.appendChild(h("h5", { text: name }));
    if (!codes) { box.appendChild(h("div", { class: "muted", text: "no weights in this run" })); return box; }
    const w = weightsOf(cur, l, j), b = biasOf(cur, l, j), mm = minMax(w);
    box.appendChild(kv([
      ["bias", h("span", null, [chip(b / clampB(l)), fmt(b, 3)])],
      ["weights in", (mm ? fmt(mm[0], 3) + " … " + fmt(mm[1], 3) : "–") + " (" + int(w.length) + ")"],
    ]));
    if (l === 0 && image) box.appendChild(weightImage(w, clampW(0), 4));
    else if (w.length <= 32) box.appendChild(barList(Array.from(w, (v, i) => [srcName(l, i), v]), clampW(l)));
    else {
      const idx = Array.from(w.keys()).sort((a, q) => Math.abs(w[q]) - Math.abs(w[a])).slice(0, 10);
      box.appendChild(h("div", { class: "muted", text: "strongest 10 of " + int(w.length) + ":" }));
      box.appendChild(barList(idx.map((i) => [srcName(l, i), w[i]]), clampW(l)));
    }
    return box;
  }
  function pixelTip(r, c) {
    const i = r * image[1] + c;
    const w = outgoingOf(cur, i), mm = minMax(w);
    let a = 0;
    for (const v of w) a += Math.abs(v);
    return h("div", null, [h("h5", { text: "pixel row " + (r + 1) + ", column " + (c + 1) }),
      kv([["mean |weight| out", fmt(a / w.length, 3)], ["weights out", mm ? fmt(mm[0], 3) + " … " + fmt(mm[1], 3) : "–"]])]);
  }

  /* ------------------------------------------------------------------- tiles */
  const TILES = {};
  function buildTiles() {
    const box = $("tiles"), lead = $("tiles-lead");
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
        if (t.classList && t.classList.contains("tile")) showTip(e, () => nodeTip(1, +t.dataset.u));
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
          const b = biasOf(cur, 0, j);
          if (i === nIn) return h("div", null, [h("h5", { text: "unit " + (j + 1) + " bias" }), kv([["bias", h("span", null, [chip(b / clampB(0)), fmt(b, 3)])]])]);
          const w = (codes[cur * P + lay.w_offset + j * nIn + i] - 32) * scaleOf(cur, 0);
          return h("div", null, [h("h5", { text: featureNames[i] + " → unit " + (j + 1) }), kv([["weight", h("span", null, [chip(w / clampW(0)), fmt(w, 3)])], ["bias", fmt(b, 3)]])]);
        });
      });
      c.addEventListener("mouseleave", hideTip);
      frameHooks.push(drawTiles);
    }
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
    const wl = codeIdx(k, 0, false);
    const lut = new Uint32Array(64);
    for (let c = 0; c < 64; c++) lut[c] = LUT32[wl[c]];
    if (TILES.heat) {
      const H = TILES.heat, d = H.d32, nOut = H.nOut;
      const bl = codeIdx(k, 0, true);
      for (let j = 0; j < nOut; j++) {
        const o = k * P + lay.w_offset + j * nIn;
        for (let i = 0; i < nIn; i++) d[i * nOut + j] = lut[codes[o + i]];
        d[nIn * nOut + j] = LUT32[bl[codes[k * P + lay.b_offset + j]]];
      }
      H.ctx.putImageData(H.img, 0, 0);
      return;
    }
    for (let j = 0; j < TILES.ctx.length; j++) {
      const d = TILES.d32[j], o = k * P + lay.w_offset + j * nIn;
      for (let i = 0; i < nIn; i++) d[i] = lut[codes[o + i]];
      TILES.ctx[j].putImageData(TILES.img[j], 0, 0);
    }
  }

  /* ------------------------------------------------------ inside the layers */
  const HISTS = [];
  function buildInside() {
    const hb = $("hists");
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
