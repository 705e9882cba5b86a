/* nncl pages: the code report.html and compare.html share. DOM helpers,
 * number formats, the diverging colour scale, the weight codes, the network
 * drawing (TensorFlow Playground's colour for sign, width for size), the
 * first layer's tiles, tooltips and Chart.js options. Plain ES2017, no
 * modules, nothing fetched; it defines one global, nnclCommon. */
"use strict";
var nnclCommon = (function () {
  const doc = document;
  const $ = (id) => doc.getElementById(id);
  const SVGNS = "http://www.w3.org/2000/svg";

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
  function kv(rows) {
    const dl = h("dl", { class: "kv" });
    for (const r of rows) {
      if (!r || r[1] == null || r[1] === "") continue;
      dl.appendChild(h("dt", { text: r[0] }));
      dl.appendChild(h("dd", null, r[1] instanceof Node ? r[1] : String(r[1])));
    }
    return dl;
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
  function alpha(c, a) {
    if (c.charAt(0) !== "#") {
      const m = c.match(/[\d.]+/g);
      return m ? "rgba(" + m[0] + "," + m[1] + "," + m[2] + "," + a + ")" : c;
    }
    const x = hexRGB(c);
    return "rgba(" + x[0] + "," + x[1] + "," + x[2] + "," + a + ")";
  }
  /* The colour-scale legend: a bar from -range to +range. */
  function scaleBar(range) {
    const right = h("div");
    right.appendChild(h("div", { class: "scale-bar" }));
    right.appendChild(h("div", { class: "scale-ticks" }, [-1, 0, 1].map((t) => h("span", { text: (t > 0 ? "+" : "") + fmt(t * range, 2) + (t === -1 ? " or less" : t === 1 ? " or more" : "") }))));
    return right;
  }

  /* ------------------------------------------------------------ weight codes */
  /* The weights travel as one base64 digit per parameter (report_json.c):
   * code c means (c - 32) * scale. need: how many codes the text holds. */
  function decodeCodes(txt, need) {
    if (txt.length !== need) txt = txt.replace(/\s+/g, "");
    if (txt.length !== need) return null;
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
    return c;
  }

  /* A network and its weights as a page holds them. spec:
   *   sizes, layers [{in, out, w_offset, b_offset}] (w_offset < 0 or null:
   *   that layer's weights are not in the page), act (hidden activation),
   *   classify, image [h, w] or null, featureNames, classNames,
   *   codes (Uint8Array of codes 0..63, frame after frame, or null),
   *   P (codes per frame), S (frames), scale(k, t): the scale of tensor t
   *   (W_l is 2l, b_l 2l + 1) in frame k, clamp[l] and biasClamp[l]: the
   *   colour range of layer l. */
  function netModel(spec) {
    const M = Object.assign({}, spec);
    M.L = M.layers.length;
    M.has = (l) => !!M.codes && !!M.layers[l] && isNum(M.layers[l].w_offset) && M.layers[l].w_offset >= 0;
    M.any = () => { for (let l = 0; l < M.L; l++) if (M.has(l)) return true; return false; };
    M.clampW = (l) => { const c = spec.clamp && spec.clamp[l]; return isNum(c) && c > 0 ? c : 1; };
    M.clampB = (l) => { const c = spec.biasClamp && spec.biasClamp[l]; return isNum(c) && c > 0 ? c : 1; };
    M.actOf = (l) => (l === M.L - 1 ? (M.classify ? "softmax" : "identity") : String(M.act || "?"));
    /* colour LUT indices from a code (0..63), for layer l's weights (or biases) at frame k */
    M.codeIdx = (k, l, bias) => {
      const sc = M.scale(k, 2 * l + (bias ? 1 : 0)) / (bias ? M.clampB(l) : M.clampW(l));
      const out = new Uint16Array(64);
      for (let c = 0; c < 64; c++) out[c] = cidx((c - 32) * sc);
      return out;
    };
    M.weightsOf = (k, l, j) => {
      const lay = M.layers[l], n = lay.in, base = k * M.P + lay.w_offset + j * n, sc = M.scale(k, 2 * l);
      const w = new Float32Array(n);
      for (let i = 0; i < n; i++) w[i] = (M.codes[base + i] - 32) * sc;
      return w;
    };
    M.biasOf = (k, l, j) => (M.codes[k * M.P + M.layers[l].b_offset + j] - 32) * M.scale(k, 2 * l + 1);
    M.outgoingOf = (k, i) => {      /* input i's weights into layer 1 */
      const lay = M.layers[0], n = lay.in, base = k * M.P + lay.w_offset + i, sc = M.scale(k, 0);
      const w = new Float32Array(lay.out);
      for (let j = 0; j < lay.out; j++) w[j] = (M.codes[base + j * n] - 32) * sc;
      return w;
    };
    /* 64 colours (ABGR) for layer 0's weight codes at frame k */
    M.tileLut = (k) => {
      const wl = M.codeIdx(k, 0, false), lut = new Uint32Array(64);
      for (let c = 0; c < 64; c++) lut[c] = LUT32[wl[c]];
      return lut;
    };
    /* unit j of the first layer into d (ABGR pixels, one per input) */
    M.fillTile = (k, j, lut, d) => {
      const lay = M.layers[0], nIn = lay.in, o = k * M.P + lay.w_offset + j * nIn;
      for (let i = 0; i < nIn; i++) d[i] = lut[M.codes[o + i]];
    };
    M.srcName = (l, i) => (l === 0 ? (M.image ? "pixel " + (Math.floor(i / M.image[1]) + 1) + "," + ((i % M.image[1]) + 1) : M.featureNames[i]) : "unit " + (i + 1));
    return M;
  }

  /* ------------------------------------------------------------- layer lists */
  /* A network given as a layer list (a CNN) comes as report_json.c's
   * report_layer_list_json: rows from nncl's own layer description, and the
   * first convolution's filters. Its sizes are flattened outputs, so none of
   * the dense drawing above applies to it. */
  /* [c, h, w] as "4×28×28"; a dense layer's [n, 1, 1] as "n" */
  function shapeText(sh) {
    sh = arr(sh);
    return sh.length === 3 && sh[1] === 1 && sh[2] === 1 ? int(sh[0]) : sh.map(int).join("×");
  }
  const layerNames = (list) => arr(obj(list).rows).map((r) => String(obj(r).layer || obj(r).text || "?"));
  /* The layers as a table: #, layer, shape in → out, activation, parameters. */
  function layerTable(list, classify) {
    const rows = arr(obj(list).rows);
    const t = h("table", { class: "layers layer-list" });
    t.appendChild(h("thead", null, h("tr", null, [h("th", { text: "#" }), h("th", { text: "layer" }), h("th", { text: "shape in → out" }),
      h("th", { text: "activation" }), h("th", { class: "r", text: "parameters" })])));
    const tb = h("tbody");
    let total = 0;
    rows.forEach((r, k) => {
      r = obj(r);
      if (!Array.isArray(r.in) || !Array.isArray(r.out)) {   /* a line that did not read: shown as it is */
        tb.appendChild(h("tr", null, h("td", { colspan: 5, class: "mono", text: String(r.text || "") })));
        return;
      }
      const last = k === rows.length - 1;
      total += isNum(r.params) ? r.params : 0;
      tb.appendChild(h("tr", null, [h("td", { text: String(r.index) }), h("td", { class: "mono", text: String(r.layer) }),
        h("td", { text: shapeText(r.in) + " → " + shapeText(r.out) }),
        h("td", { text: r.activation ? String(r.activation) : last ? (classify ? "softmax" : "identity") : "–" }),
        h("td", { class: "r", text: int(r.params) })]));
    });
    tb.appendChild(h("tr", { class: "total" }, [h("td", { text: "total" }), h("td"), h("td"), h("td"), h("td", { class: "r", text: int(total) })]));
    const kept = isNum(obj(list).n_params) ? list.n_params - total : 0;
    if (kept > 0)   /* batch normalisation's running statistics: saved, never trained */
      tb.appendChild(h("tr", null, [h("td"), h("td", { colspan: 3, text: "kept, not trained (running statistics)" }), h("td", { class: "r", text: int(kept) })]));
    t.appendChild(tb);
    return t;
  }
  /* The first convolution's filters F ([k, c, kh, kw] as codes): one tile of
   * kh × kw per filter and input channel (a filter's channels side by side),
   * on the weights' diverging scale, ±F.clamp, with its scale bar.
   * opts.run: data-run on every canvas (compare); opts.size: a tile's side
   * in CSS pixels; opts.max: filters drawn at most. */
  function filterView(F, opts) {
    opts = opts || {};
    const d = arr(F.dims).map(Number), K = d[0], Cn = d[1], kh = d[2], kw = d[3], n = K * Cn * kh * kw;
    const box = h("div", { class: "filters" });
    const codes = n > 0 ? decodeCodes(String(F.codes || ""), n) : null;
    if (!codes) {
      box.appendChild(h("div", { class: "empty", text: "The filters in this file could not be read." }));
      return box;
    }
    const range = isNum(F.clamp) && F.clamp > 0 ? F.clamp : 1, sc = isNum(F.scale) ? F.scale : 0;
    const lut = new Uint32Array(64);
    for (let c = 0; c < 64; c++) lut[c] = LUT32[cidx(((c - 32) * sc) / range)];
    const z = Math.max(2, Math.round((opts.size || 56) / Math.max(kh, kw)));
    const shown = Math.min(K, opts.max || 256), bias = arr(F.bias);
    const grid = h("div", { class: "filter-grid" });
    for (let k = 0; k < shown; k++) {
      const row = h("div", { class: "filter-row" });
      for (let c = 0; c < Cn; c++) {
        const cv = h("canvas", { class: "filter", width: kw, height: kh, "data-filter": k, "data-channel": c, "data-run": opts.run,
          style: "width:" + kw * z + "px;height:" + kh * z + "px" });
        const ctx = cv.getContext("2d"), im = ctx.createImageData(kw, kh), px = new Uint32Array(im.data.buffer);
        const o = (k * Cn + c) * kh * kw;
        for (let i = 0; i < kh * kw; i++) px[i] = lut[codes[o + i]];
        ctx.putImageData(im, 0, 0);
        row.appendChild(cv);
      }
      const tip = "filter " + (k + 1) + (Cn > 1 ? ", input channels 1 to " + Cn + " left to right" : "") + (isNum(bias[k]) ? "; bias " + fmt(bias[k], 3) : "");
      grid.appendChild(h("figure", { class: "filter-fig", title: tip }, [row, h("figcaption", { text: String(k + 1) })]));
    }
    box.appendChild(grid);
    if (shown < K) box.appendChild(h("p", { class: "note", text: "The first " + shown + " of " + int(K) + " filters." }));
    box.appendChild(h("div", { class: "legend-row filter-scale" }, [h("span", { class: "legend-name", text: kh + "×" + kw + " weights" }), scaleBar(range)]));
    return box;
  }

  /* ----------------------------------------------------------------- tooltip */
  const TIP = { el: null, make: null };
  function showTip(e, make) {
    TIP.el = $("tooltip");
    if (!TIP.el) return;
    TIP.make = make;
    TIP.el.hidden = false;
    refreshTip();
    moveTip(e);
  }
  function refreshTip() {
    if (!TIP.make || !TIP.el || TIP.el.hidden) return;
    TIP.el.replaceChildren(TIP.make());
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
  function weightImage(M, w, cval, z) {
    const im0 = M.image;
    const c = h("canvas", { width: im0[1], height: im0[0], style: "width:" + im0[1] * z + "px;height:" + im0[0] * z + "px" });
    const ctx = c.getContext("2d"), im = ctx.createImageData(im0[1], im0[0]), d = new Uint32Array(im.data.buffer);
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
  /* A unit's tooltip: column c (0 inputs .. L outputs), unit j, frame k. */
  function nodeTip(M, k, c, j) {
    const box = h("div");
    const L = M.L;
    if (c === 0) {
      box.appendChild(h("h5", { text: "input: " + M.featureNames[j] }));
      if (!M.has(0)) return box;
      const w = M.outgoingOf(k, j), mm = minMax(w);
      box.appendChild(kv([["weights out", mm ? fmt(mm[0], 3) + " … " + fmt(mm[1], 3) : "–"]]));
      if (w.length <= 32) box.appendChild(barList(Array.from(w, (v, q) => ["unit " + (q + 1), v]), M.clampW(0)));
      else box.appendChild(h("div", { class: "muted", text: "into " + int(w.length) + " units" }));
      return box;
    }
    const l = c - 1;
    const name = c === L ? "output " + (j + 1) + ": " + M.classNames[j] : "hidden layer " + c + ", unit " + (j + 1);
    box.appendChild(h("h5", { text: name }));
    if (!M.has(l)) { box.appendChild(h("div", { class: "muted", text: M.codes ? "this layer's weights are not in the page" : "no weights in this run" })); return box; }
    const w = M.weightsOf(k, l, j), b = M.biasOf(k, l, j), mm = minMax(w);
    box.appendChild(kv([
      ["bias", h("span", null, [chip(b / M.clampB(l)), fmt(b, 3)])],
      ["weights in", (mm ? fmt(mm[0], 3) + " … " + fmt(mm[1], 3) : "–") + " (" + int(w.length) + ")"],
    ]));
    if (l === 0 && M.image) box.appendChild(weightImage(M, w, M.clampW(0), 4));
    else if (w.length <= 32) box.appendChild(barList(Array.from(w, (v, i) => [M.srcName(l, i), v]), M.clampW(l)));
    else {
      const idx = Array.from(w.keys()).sort((a, q) => Math.abs(w[q]) - Math.abs(w[a])).slice(0, 10);
      box.appendChild(h("div", { class: "muted", text: "strongest 10 of " + int(w.length) + ":" }));
      box.appendChild(barList(idx.map((i) => [M.srcName(l, i), w[i]]), M.clampW(l)));
    }
    return box;
  }
  function pixelTip(M, k, r, c) {
    const i = r * M.image[1] + c;
    const w = M.outgoingOf(k, i), mm = minMax(w);
    let a = 0;
    for (const v of w) a += Math.abs(v);
    return h("div", null, [h("h5", { text: "pixel row " + (r + 1) + ", column " + (c + 1) }),
      kv([["mean |weight| out", fmt(a / w.length, 3)], ["weights out", mm ? fmt(mm[0], 3) + " … " + fmt(mm[1], 3) : "–"]])]);
  }

  /* ----------------------------------------------------------------- network */
  const ORDER = (() => {        /* codes by |code - 32|, weakest first */
    const o = [];
    for (let d = 0; d <= 32; d++) { if (32 - d >= 0) o.push(32 - d); if (d > 0 && 32 + d < 64) o.push(32 + d); }
    return o;
  })();

  /* The network drawn into box (a .network div holding a canvas for the
   * edges and an svg for the units): one column per layer, every circle a
   * unit coloured by its bias, every line a weight, blue negative, red
   * positive, thicker for larger; an image input as a grid of pixels. Wide
   * layers show their first maxUnits units and each unit's topK strongest
   * edges. opts: {minWidth, maxUnits, topK, maxHeight}. view.draw(k) draws
   * frame k; hovering a unit shows its weights. */
  function networkView(M, box, opts) {
    opts = Object.assign({ minWidth: 680, maxUnits: 64, topK: 6, innerMax: 0 }, opts || {});
    const MAX_UNITS = opts.maxUnits, TOP_K = opts.topK;
    const sizes = M.sizes, L = M.L, image = M.image;
    const canvas = box.querySelector("canvas") || box.appendChild(h("canvas", { "aria-hidden": "true" }));
    const svg = box.querySelector("svg") || box.appendChild(s("svg", { role: "img", "aria-label": "network drawing" }));
    const V = { layout: null, k: 0, hoverUnit: null };

    function layout() {
      const W = Math.max(opts.minWidth, Math.floor(box.clientWidth || 1100));
      const shown = sizes.map((n, c) => (c === 0 && image ? 0 : Math.min(n, MAX_UNITS)));
      const maxShown = Math.max(1, ...shown);
      const spacing = Math.min(44, Math.max(10.5, (opts.innerMax || 680) / maxShown));
      const top = 56, bottom = 34;
      let cell = 0, gridH = 0, gridW = 0;
      if (image) {
        cell = Math.max(2, Math.min(10, Math.floor((opts.gridMax || 300) / Math.max(image[0], image[1]))));
        gridH = cell * image[0];
        gridW = cell * image[1];
      }
      const innerH = Math.max(maxShown * spacing, gridH + 16, opts.minInner || 220);
      const H = Math.ceil(top + innerH + bottom);
      const cy = top + innerH / 2;
      const rOf = (sp) => clamp(sp * 0.36, 3.6, 11);
      const r = rOf(spacing);
      const textW = (list) => Math.min(160, 12 + 7 * Math.max(0, ...list.map((t) => t.length)));
      const leftW = image ? 16 : textW(M.featureNames.slice(0, MAX_UNITS)) + 8;
      const rightW = Math.max(56, textW(M.classNames.slice(0, MAX_UNITS)) + 10);
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
        const topk = (l === 0 && !!image) || M.layers[l].in > MAX_UNITS || M.layers[l].out > MAX_UNITS;
        const k = topk ? Math.min(TOP_K, src) : src;
        const cap = cols[l + 1].m * k;
        edges.push({ topk: topk, k: k, src: src, src_i: new Int32Array(cap), dst_j: new Int32Array(cap), code: new Uint8Array(cap), order: new Int32Array(cap), n: 0 });
      }
      V.layout = { W: W, H: H, cols: cols, grid: grid, r: r, top: top, edges: edges, spacing: spacing };
    }

    function build() {
      const Lo = V.layout;
      const dpr = window.devicePixelRatio || 1;
      box.style.height = Lo.H + "px";
      canvas.width = Math.round(Lo.W * dpr);
      canvas.height = Math.round(Lo.H * dpr);
      canvas.style.width = Lo.W + "px";
      canvas.style.height = Lo.H + "px";
      V.dpr = dpr;
      svg.setAttribute("width", Lo.W);
      svg.setAttribute("height", Lo.H);
      svg.setAttribute("viewBox", "0 0 " + Lo.W + " " + Lo.H);
      while (svg.firstChild) svg.removeChild(svg.firstChild);
      V.nodes = [];
      for (let c = 0; c <= L; c++) {
        const col = Lo.cols[c];
        const g = s("g", { class: "layer", "data-layer": c });
        let title, sub;
        if (c === 0) { title = "input"; sub = image ? image[0] + "×" + image[1] + " pixels" : plural(sizes[0], "feature"); }
        else if (c === L) { title = "output"; sub = plural(sizes[c], "unit") + " · " + M.actOf(c - 1); }
        else { title = "hidden " + c; sub = plural(sizes[c], "unit") + " · " + M.actOf(c - 1); }
        g.appendChild(s("text", { class: "col-title", x: col.x, y: 18, text: title }));
        g.appendChild(s("text", { class: "col-sub", x: col.x, y: 33, text: sub }));
        const nodes = [];
        if (c === 0 && image) {
          const gr = Lo.grid;
          g.appendChild(s("rect", { class: "grid-frame", x: gr.x - 0.5, y: gr.y - 0.5, width: gr.w + 1, height: gr.h + 1, "data-grid": 1 }));
          V.gridCaption = s("text", { class: "caption", x: gr.x, y: gr.y + gr.h + 16 });
          V.gridCaption2 = s("text", { class: "caption", x: gr.x, y: gr.y + gr.h + 30 });
          g.appendChild(V.gridCaption);
          g.appendChild(V.gridCaption2);
        } else {
          for (let j = 0; j < col.m; j++) {
            const circ = s("circle", { class: "node" + (c === 0 ? " input" : ""), cx: col.x, cy: col.ys[j], r: col.r, "data-c": c, "data-u": j, fill: c === 0 ? null : "#f7f7f7" });
            g.appendChild(circ);
            nodes.push(circ);
            if (c === 0 || c === L) {
              const name = c === 0 ? M.featureNames[j] : M.classNames[j];
              const short = name.length > 20 ? name.slice(0, 19) + "…" : name;
              if (col.sp >= 9)
                g.appendChild(s("text", { class: "label", x: c === 0 ? col.x - col.r - 6 : col.x + col.r + 6, y: col.ys[j], "text-anchor": c === 0 ? "end" : "start",
                  style: col.sp < 13 ? "font-size:" + Math.max(8, Math.floor(col.sp - 1)) + "px" : null, text: short }));
            }
          }
          if (col.n > col.m) g.appendChild(s("text", { class: "more", x: col.x, y: col.ys[col.m - 1] + col.r + 16, text: "+" + int(col.n - col.m) + " more" }));
        }
        svg.appendChild(g);
        V.nodes.push(nodes);
      }
      V.ctx = canvas.getContext("2d");
      if (image) {
        V.gridCanvas = h("canvas", { width: image[1], height: image[0] });
        V.gridCtx = V.gridCanvas.getContext("2d");
        V.gridImg = V.gridCtx.createImageData(image[1], image[0]);
        V.grid32 = new Uint32Array(V.gridImg.data.buffer);
      }
      V.fills = V.nodes.map((n) => new Array(n.length).fill(""));
      V.impCache = new Array(M.S);
      V.impMax = null;
    }

    /* Per pixel, how much layer 1's weights from it have changed since the first
     * frame (mean |w_k - w_0| over the units), or with one frame their mean |w|;
     * as greys on one scale for all frames: the pixels the network learned to use. */
    function pixelSums(k) {
      const lay = M.layers[0], n = lay.in, base = k * M.P + lay.w_offset, b0 = lay.w_offset;
      const sk = M.scale(k, 0), s0 = M.scale(0, 0), diff = M.S > 1;
      const acc = new Float32Array(n);
      const codes = M.codes;
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
      if (V.impCache[k]) return V.impCache[k];
      let last = null;
      if (V.impMax == null) {
        last = pixelSums(M.S - 1);
        let mx = 0;
        for (let i = 0; i < last.length; i++) if (last[i] > mx) mx = last[i];
        V.impMax = mx;
      }
      const acc = last && k === M.S - 1 ? last : pixelSums(k), n = acc.length, mx = V.impMax;
      const out = new Uint32Array(n);
      for (let i = 0; i < n; i++) {
        const g = Math.round(250 - 205 * clamp(mx > 0 ? acc[i] / mx : 0, 0, 1));
        out[i] = ((255 << 24) | (g << 16) | (g << 8) | g) >>> 0;
      }
      V.impCache[k] = out;
      return out;
    }

    function draw(k) {
      k = k || 0;
      V.k = k;
      const Lo = V.layout, ctx = V.ctx, dpr = V.dpr, codes = M.codes;
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, Lo.W, Lo.H);
      /* input grid */
      if (image) {
        const gr = Lo.grid;
        if (M.has(0)) {
          if (V.hoverUnit != null && V.hoverUnit.c === 1) {
            const lut = M.codeIdx(k, 0, false), lay = M.layers[0], base = k * M.P + lay.w_offset + V.hoverUnit.j * lay.in;
            for (let i = 0; i < lay.in; i++) V.grid32[i] = LUT32[lut[codes[base + i]]];
            V.gridCaption.textContent = "hidden unit " + (V.hoverUnit.j + 1) + "'s incoming weights";
            V.gridCaption2.textContent = "(blue negative, red positive)";
          } else {
            V.grid32.set(importance(k));
            V.gridCaption.textContent = M.S > 1 ? "darker: pixels whose weights have" : "darker: pixels with larger weights";
            V.gridCaption2.textContent = M.S > 1 ? "changed most since the start" : "";
          }
          V.gridCtx.putImageData(V.gridImg, 0, 0);
          ctx.imageSmoothingEnabled = false;
          ctx.drawImage(V.gridCanvas, gr.x, gr.y, gr.w, gr.h);
        } else {
          ctx.fillStyle = "#f3f4f6";
          ctx.fillRect(gr.x, gr.y, gr.w, gr.h);
          V.gridCaption.textContent = "";
          V.gridCaption2.textContent = "";
        }
      }
      /* edges; without weights, the connections of small layers in grey */
      for (let l = 0; l < L; l++) {
        if (M.has(l)) { drawEdges(k, l); continue; }
        if (Lo.edges[l].topk) continue;
        ctx.strokeStyle = "#dfe3ea";
        ctx.lineWidth = 1;
        const a = Lo.cols[l], b = Lo.cols[l + 1];
        ctx.beginPath();
        for (let j = 0; j < b.m; j++) for (let i = 0; i < a.m; i++) {
          const x1 = a.x + a.r, x2 = b.x - b.r, xm = (x1 + x2) / 2;
          ctx.moveTo(x1, a.ys[i]);
          ctx.bezierCurveTo(xm, a.ys[i], xm, b.ys[j], x2, b.ys[j]);
        }
        ctx.stroke();
      }
      /* node colours: biases */
      for (let c = 1; c <= L; c++) {
        const nodes = V.nodes[c], fills = V.fills[c];
        const l = c - 1, have = M.has(l);
        const lut = have ? M.codeIdx(k, l, true) : null;
        const base = have ? k * M.P + M.layers[l].b_offset : 0;
        for (let j = 0; j < nodes.length; j++) {
          const f = have ? LUT_CSS[lut[codes[base + j]]] : "#f7f7f7";
          if (fills[j] !== f) { nodes[j].setAttribute("fill", f); fills[j] = f; }
        }
      }
    }

    function drawEdges(k, l) {
      const Lo = V.layout, E = Lo.edges[l], ctx = V.ctx, codes = M.codes;
      const lay = M.layers[l], nIn = lay.in, base = k * M.P + lay.w_offset;
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
      const sc = M.scale(k, 2 * l) / M.clampW(l);
      const r = srcCol.r, gr = Lo.grid;
      const x2 = dstCol.x - dstCol.r;
      const fromGrid = l === 0 && !!image;
      /* a hovered unit: its own edges on top, the rest faded */
      const hv = V.hoverUnit;
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

    /* hover: a unit's edges on top and its weights in a tooltip */
    svg.addEventListener("mouseover", (e) => {
      const t = e.target;
      if (t.dataset && t.dataset.c != null) {
        const c = +t.dataset.c, j = +t.dataset.u;
        V.hoverUnit = { c: c, j: j };
        t.classList.add("hot");
        showTip(e, () => nodeTip(M, V.k, c, j));
        if (M.codes) draw(V.k);
      }
    });
    svg.addEventListener("mouseout", (e) => {
      const t = e.target;
      if (t.dataset && t.dataset.c != null) {
        t.classList.remove("hot");
        const was = V.hoverUnit;
        V.hoverUnit = null;
        hideTip();
        if (was && M.codes) draw(V.k);
      }
    });
    svg.addEventListener("mousemove", (e) => {
      if (e.target.dataset && e.target.dataset.grid && M.has(0)) {
        const gr = V.layout.grid, rect = svg.getBoundingClientRect();
        const cx = Math.floor((e.clientX - rect.left - gr.x) / gr.cell), cy = Math.floor((e.clientY - rect.top - gr.y) / gr.cell);
        if (cx >= 0 && cy >= 0 && cx < image[1] && cy < image[0]) showTip(e, () => pixelTip(M, V.k, cy, cx));
        return;
      }
      moveTip(e);
    });
    svg.addEventListener("mouseleave", hideTip);

    layout();
    build();
    return {
      draw: draw,
      get k() { return V.k; },
      /* a new width: lay out and draw again (false when nothing changed) */
      resize() {
        const w = Math.max(opts.minWidth, Math.floor(box.clientWidth));
        if (w === V.layout.W) return false;
        layout();
        build();
        draw(V.k);
        return true;
      },
    };
  }

  /* A note under a network drawing: what is left out and why. */
  function networkNotes(M, opts) {
    opts = Object.assign({ maxUnits: 64, topK: 6 }, opts || {});
    const note = [];
    const wide = [];
    for (let c = 1; c <= M.L; c++) if (M.sizes[c] > opts.maxUnits) wide.push(c);
    if (M.any()) {
      if (M.image) note.push("Each unit next to the image draws only its " + opts.topK + " strongest pixel weights (outlined in the grid); hover a unit to see all of them in the grid.");
      if (wide.length || (M.sizes[0] > opts.maxUnits && !M.image)) note.push("Layers wider than " + opts.maxUnits + " units show their first " + opts.maxUnits + "; edges next to them show each unit's " + opts.topK + " strongest.");
    }
    return note;
  }

  /* The colour legend of a network's layers: one bar per layer's weights and biases. */
  function networkLegend(M, lg, help) {
    lg.classList.add("pairs");
    for (let l = 0; l < M.L; l++) {
      if (!M.has(l)) continue;
      for (const b of [false, true]) {
        const row = h("div", { class: "legend-row" });
        row.appendChild(h("div", { class: "legend-name", text: "layer " + (l + 1) + (b ? " biases" : " weights") }));
        row.appendChild(scaleBar(b ? M.clampB(l) : M.clampW(l)));
        lg.appendChild(row);
      }
    }
    if (help) lg.appendChild(h("div", { class: "legend-help", text: help }));
  }

  /* ----------------------------------------------------------------- charts */
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
  /* spec: {xTitle, yTitle, yLog, yFmt, xMin, xMax, yMin, yMax} */
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
  function line(label, data, colour, opts) {
    return Object.assign({ label: label, data: data, borderColor: colour, backgroundColor: colour, spanGaps: false, fill: false }, opts || {});
  }
  function xMaxOf(sets) {
    let m = -Infinity;
    for (const d of sets) for (const p of d.data) if (p.x > m) m = p.x;
    return m > 0 ? m : 1;
  }
  function chartDefaults() {
    if (typeof Chart === "undefined") return;
    Chart.defaults.font.family = getComputedStyle(doc.body).fontFamily;
    Chart.defaults.font.size = 12;
    Chart.defaults.color = "#4a5263";
  }

  return {
    $: $, h: h, s: s, isNum: isNum, arr: arr, obj: obj, clamp: clamp, fmt: fmt, pct: pct, int: int, secs: secs,
    plural: plural, shellQuote: shellQuote, minMax: minMax, kv: kv,
    RDBU: RDBU, hexRGB: hexRGB, LUT_CSS: LUT_CSS, LUT32: LUT32, LUT_DARK: LUT_DARK, cidx: cidx, rdbu: rdbu,
    viridis: viridis, SERIES: SERIES, alpha: alpha, scaleBar: scaleBar,
    decodeCodes: decodeCodes, netModel: netModel, networkView: networkView, networkNotes: networkNotes,
    networkLegend: networkLegend,
    showTip: showTip, refreshTip: refreshTip, moveTip: moveTip, hideTip: hideTip, chip: chip, barList: barList,
    weightImage: weightImage, nodeTip: nodeTip, shapeText: shapeText, layerNames: layerNames, layerTable: layerTable,
    filterView: filterView,
    logTick: logTick, xy: xy, hasY: hasY, chartCard: chartCard, emptyCard: emptyCard, lineOptions: lineOptions,
    line: line, xMaxOf: xMaxOf, chartDefaults: chartDefaults,
  };
})();
