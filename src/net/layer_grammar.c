/* The --layers grammar of include/nncl/layers.h: text to layer specs and
 * back, and the names of the kinds. */
#include "nncl/layers.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nncl/ops.h" /* NNCL_PAD_SAME, NNCL_PAD_VALID */

enum {
    MAX_UNITS = 65536, /* dense outputs, conv filters */
    MAX_SIDE = 64,     /* filter and window sides, strides, padding */
    MAX_FIELDS = 8,    /* ':' parts kept per item; every kind takes fewer */
    SHOWN_MAX = 64,    /* characters of an item quoted in a message */
};

/* A piece of the text, not NUL-terminated. */
typedef struct span {
    const char *p;
    size_t n;
} span;

/* One item of the list: its place and text for the messages, and its
 * ':'-separated parts (nf counts them all, f keeps the first MAX_FIELDS). */
typedef struct item {
    int index; /* 1-based */
    span text;
    span f[MAX_FIELDS];
    int nf;
} item;

typedef nncl_status (*parse_fn)(const item *it, nncl_layer_spec *s);

static nncl_status parse_dense(const item *it, nncl_layer_spec *s);
static nncl_status parse_conv(const item *it, nncl_layer_spec *s);
static nncl_status parse_pool(const item *it, nncl_layer_spec *s);
static nncl_status parse_bare(const item *it, nncl_layer_spec *s);
static nncl_status parse_dropout(const item *it, nncl_layer_spec *s);

/* In the order of nncl_layer_kind, so that kinds[k] is kind k. */
static const struct kind_entry {
    nncl_layer_kind kind;
    const char *name;
    parse_fn parse;
} kinds[] = {
    {NNCL_LAYER_DENSE, "dense", parse_dense},
    {NNCL_LAYER_CONV2D, "conv", parse_conv},
    {NNCL_LAYER_MAXPOOL, "maxpool", parse_pool},
    {NNCL_LAYER_AVGPOOL, "avgpool", parse_pool},
    {NNCL_LAYER_BATCHNORM, "batchnorm", parse_bare},
    {NNCL_LAYER_DROPOUT, "dropout", parse_dropout},
    {NNCL_LAYER_FLATTEN, "flatten", parse_bare},
};
enum { KIND_COUNT = (int)(sizeof kinds / sizeof kinds[0]) };

const char *nncl_layer_kind_name(nncl_layer_kind kind)
{
    if ((int)kind < 0 || (int)kind >= KIND_COUNT)
        return "?";
    return kinds[kind].name;
}

/* ---- Small helpers on spans ---- */

static bool span_is(span s, const char *word) { return strlen(word) == s.n && memcmp(s.p, word, s.n) == 0; }

static span trim(const char *p, const char *end)
{
    while (p < end && isspace((unsigned char)*p))
        p++;
    while (end > p && isspace((unsigned char)end[-1]))
        end--;
    return (span){p, (size_t)(end - p)};
}

/* Digits only (no sign, no spaces, no hex), lo..hi. The value is checked
 * against hi after every digit, so a long number cannot overflow. */
static bool parse_uint(span s, size_t lo, size_t hi, size_t *out)
{
    if (s.n == 0)
        return false;
    size_t v = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return false;
        v = v * 10 + (size_t)(s.p[i] - '0');
        if (v > hi)
            return false;
    }
    if (v < lo)
        return false;
    *out = v;
    return true;
}

/* An option spelled as a letter and a number ("s2", "p1"): true when s is
 * the letter followed by digits only, with the digits in *digits. */
static bool lettered(span s, char letter, span *digits)
{
    if (s.n < 2 || s.p[0] != letter)
        return false;
    for (size_t i = 1; i < s.n; i++)
        if (s.p[i] < '0' || s.p[i] > '9')
            return false;
    *digits = (span){s.p + 1, s.n - 1};
    return true;
}

/* s made safe to quote on one line: at most SHOWN_MAX characters, control
 * characters as '?'. */
static void show(span s, char *buf, size_t len)
{
    size_t n = s.n < SHOWN_MAX ? s.n : SHOWN_MAX;
    if (n > len - 4)
        n = len - 4;
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        buf[o++] = iscntrl((unsigned char)s.p[i]) ? '?' : s.p[i];
    if (n < s.n) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
}

/* Fail naming the item: "layer 3 'conv:32:x': <what>". */
__attribute__((format(printf, 2, 3))) static nncl_status bad(const item *it, const char *fmt, ...)
{
    char what[512], shown[SHOWN_MAX + 4];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    show(it->text, shown, sizeof shown);
    return nncl_fail(NNCL_E_INVALID, "layer %d '%s': %s", it->index, shown, what);
}

/* ---- The kinds ---- */

static nncl_status parse_dense(const item *it, nncl_layer_spec *s)
{
    if (it->nf != 2)
        return bad(it, "dense takes one number, its width, like dense:128");
    if (!parse_uint(it->f[1], 1, MAX_UNITS, &s->units))
        return bad(it, "the width must be a number 1..%d, like dense:128", MAX_UNITS);
    return NNCL_OK;
}

/* "128": a dense layer. Anything starting with a digit or a sign comes here,
 * so that "-5" or "1e3" is told about numbers rather than kinds. */
static nncl_status parse_plain(const item *it, nncl_layer_spec *s)
{
    s->kind = NNCL_LAYER_DENSE;
    if (it->nf != 1)
        return bad(it, "a plain number is a dense layer and takes nothing after it, like 128");
    if (!parse_uint(it->f[0], 1, MAX_UNITS, &s->units))
        return bad(it, "a dense layer's width must be a number 1..%d, like 128", MAX_UNITS);
    return NNCL_OK;
}

static nncl_status conv_option(const item *it, span o, bool *have_pad, bool *have_stride, nncl_layer_spec *s)
{
    span digits;
    bool pad_n = lettered(o, 'p', &digits);
    if (span_is(o, "same") || span_is(o, "valid") || pad_n) {
        if (*have_pad)
            return bad(it, "the padding is given twice (same, valid and pN are one choice)");
        *have_pad = true;
        size_t v = 0;
        if (pad_n && !parse_uint(digits, 0, MAX_SIDE, &v))
            return bad(it, "the padding must be p0..p%d zeros per side, like conv:32:3:p1", MAX_SIDE);
        s->padding = pad_n ? (int)v : span_is(o, "valid") ? NNCL_PAD_VALID : NNCL_PAD_SAME;
        return NNCL_OK;
    }
    if (lettered(o, 's', &digits)) {
        if (*have_stride)
            return bad(it, "the stride is given twice");
        *have_stride = true;
        if (!parse_uint(digits, 1, MAX_SIDE, &s->stride))
            return bad(it, "the stride must be s1..s%d, like conv:32:3:s2", MAX_SIDE);
        return NNCL_OK;
    }
    char shown[SHOWN_MAX + 4];
    show(o, shown, sizeof shown);
    return bad(it, "unknown option '%s' (expected same, valid, pN or sN), like conv:32:3:valid:s2", shown);
}

static nncl_status parse_conv(const item *it, nncl_layer_spec *s)
{
    if (it->nf < 3)
        return bad(it, "conv needs a filter count and a filter size, like conv:32:5");
    /* Two options at most: one padding and one stride. */
    if (it->nf > 5)
        return bad(it, "conv takes at most two options (same, valid or pN; sN), like conv:32:3:valid:s2");
    if (!parse_uint(it->f[1], 1, MAX_UNITS, &s->units))
        return bad(it, "the filter count must be a number 1..%d, like conv:32:5", MAX_UNITS);
    if (!parse_uint(it->f[2], 1, MAX_SIDE, &s->kernel))
        return bad(it, "the filter size must be a number 1..%d, like conv:32:5", MAX_SIDE);
    s->stride = 1;
    s->padding = NNCL_PAD_SAME;
    bool have_pad = false, have_stride = false;
    for (int i = 3; i < it->nf; i++) {
        nncl_status st = conv_option(it, it->f[i], &have_pad, &have_stride, s);
        if (st != NNCL_OK)
            return st;
    }
    return NNCL_OK;
}

static nncl_status parse_pool(const item *it, nncl_layer_spec *s)
{
    const char *name = nncl_layer_kind_name(s->kind);
    if (it->nf < 2)
        return bad(it, "%s needs a window, like %s:2", name, name);
    if (it->nf > 3)
        return bad(it, "%s takes a window and at most a stride, like %s:3:s2", name, name);
    if (!parse_uint(it->f[1], 1, MAX_SIDE, &s->kernel))
        return bad(it, "the window must be a number 1..%d, like %s:2", MAX_SIDE, name);
    if (it->nf == 3) {
        span digits;
        if (!lettered(it->f[2], 's', &digits)) {
            char shown[SHOWN_MAX + 4];
            show(it->f[2], shown, sizeof shown);
            return bad(it, "unknown option '%s' (expected sN, the stride), like %s:3:s2", shown, name);
        }
        if (!parse_uint(digits, 1, MAX_SIDE, &s->stride))
            return bad(it, "the stride must be s1..s%d, like %s:3:s2", MAX_SIDE, name);
        /* A stride equal to the window is the default: keep it as 0, the
         * one way to write it, so that format leaves it out and parse(format)
         * gives back the same spec. */
        if (s->stride == s->kernel)
            s->stride = 0;
    }
    return NNCL_OK;
}

static nncl_status parse_bare(const item *it, nncl_layer_spec *s)
{
    if (it->nf != 1)
        return bad(it, "%s takes no arguments", nncl_layer_kind_name(s->kind));
    return NNCL_OK;
}

/* A rate as written: plain decimal digits, '.', an exponent. strtod alone
 * would also take leading spaces, a sign, hex, "nan" and "inf". */
static bool parse_rate(span f, float *out)
{
    char buf[64];
    if (f.n == 0 || f.n >= sizeof buf)
        return false;
    if (!isdigit((unsigned char)f.p[0]) && f.p[0] != '.')
        return false;
    for (size_t i = 0; i < f.n; i++)
        if (!strchr("0123456789.eE+-", f.p[i]))
            return false;
    memcpy(buf, f.p, f.n);
    buf[f.n] = '\0';
    char *end;
    double d = strtod(buf, &end);
    if (end != buf + f.n || !isfinite(d) || d < 0 || d >= 1)
        return false;
    float r = (float)d;
    if (r >= 1.0f) /* 0.99999999 rounds up to 1 as a float */
        return false;
    *out = r;
    return true;
}

static nncl_status parse_dropout(const item *it, nncl_layer_spec *s)
{
    if (it->nf < 2)
        return bad(it, "dropout needs a rate, like dropout:0.25");
    if (it->nf > 2)
        return bad(it, "dropout takes one rate, like dropout:0.25");
    if (!parse_rate(it->f[1], &s->rate))
        return bad(it, "the rate must be in [0, 1), like dropout:0.25");
    return NNCL_OK;
}

/* ---- Items and the list ---- */

static void split_fields(item *it)
{
    const char *p = it->text.p, *end = it->text.p + it->text.n;
    it->nf = 0;
    for (;;) {
        const char *colon = memchr(p, ':', (size_t)(end - p));
        const char *stop = colon ? colon : end;
        if (it->nf < MAX_FIELDS)
            it->f[it->nf] = (span){p, (size_t)(stop - p)};
        it->nf++;
        if (!colon)
            break;
        p = colon + 1;
    }
}

/* "a number, dense, conv, ... or flatten", from the table. */
static void kind_list(char *buf, size_t len)
{
    int o = snprintf(buf, len, "a number");
    for (int k = 0; k < KIND_COUNT && o > 0 && (size_t)o < len; k++)
        o += snprintf(buf + o, len - (size_t)o, "%s%s", k == KIND_COUNT - 1 ? " or " : ", ", kinds[k].name);
}

static nncl_status parse_item(item *it, nncl_layer_spec *s)
{
    memset(s, 0, sizeof *s);
    if (it->text.n == 0)
        return bad(it, "an empty item (two commas in a row, or one at an end)");
    split_fields(it);
    span head = it->f[0];
    if (head.n > 0 && (isdigit((unsigned char)head.p[0]) || head.p[0] == '+' || head.p[0] == '-'))
        return parse_plain(it, s);
    for (int k = 0; k < KIND_COUNT; k++) {
        if (span_is(head, kinds[k].name)) {
            s->kind = kinds[k].kind;
            return kinds[k].parse(it, s);
        }
    }
    char shown[SHOWN_MAX + 4], list[160];
    show(head, shown, sizeof shown);
    kind_list(list, sizeof list);
    return bad(it, "unknown kind '%s' (expected %s)", shown, list);
}

static bool blank(const char *text)
{
    for (; *text; text++)
        if (!isspace((unsigned char)*text))
            return false;
    return true;
}

nncl_status nncl_layers_parse(const char *text, nncl_layer_spec *out, int max, int *count)
{
    if (!text || !out || !count || max < 0)
        return nncl_fail(NNCL_E_INVALID, "nncl_layers_parse: no text, no room or a negative count");
    *count = 0;
    if (blank(text))
        return NNCL_OK;
    int n = 0;
    const char *p = text;
    for (int index = 1;; index++) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        item it = {.index = index, .text = trim(p, end)};
        if (n == max)
            return bad(&it, "too many, at most %d layers", max);
        nncl_status st = parse_item(&it, &out[n]);
        if (st != NNCL_OK)
            return st;
        n++;
        if (!comma)
            break;
        p = comma + 1;
    }
    *count = n;
    return NNCL_OK;
}

/* ---- Formatting ---- */

/* Appends to a fixed buffer; once something does not fit, full stays set. */
typedef struct writer {
    char *out;
    size_t len, pos;
    bool full;
} writer;

__attribute__((format(printf, 2, 3))) static void put(writer *w, const char *fmt, ...)
{
    if (w->full)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(w->out + w->pos, w->len - w->pos, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= w->len - w->pos)
        w->full = true;
    else
        w->pos += (size_t)n;
}

/* The shortest "%.Ng" that reads back, the way the parser reads it, as the
 * same float: "0.1" rather than "0.100000001". Nine digits always do. */
static void rate_text(float r, char *buf, size_t len)
{
    for (int digits = 1; digits <= 9; digits++) {
        snprintf(buf, len, "%.*g", digits, (double)r);
        if ((float)strtod(buf, NULL) == r)
            return;
    }
}

static void put_spec(writer *w, const nncl_layer_spec *s)
{
    char rate[32];
    switch (s->kind) {
    case NNCL_LAYER_DENSE: put(w, "%zu", s->units); break;
    case NNCL_LAYER_CONV2D:
        put(w, "conv:%zu:%zu", s->units, s->kernel);
        if (s->padding == NNCL_PAD_VALID)
            put(w, ":valid");
        else if (s->padding != NNCL_PAD_SAME)
            put(w, ":p%d", s->padding);
        if (s->stride != 1)
            put(w, ":s%zu", s->stride);
        break;
    case NNCL_LAYER_MAXPOOL:
    case NNCL_LAYER_AVGPOOL:
        put(w, "%s:%zu", nncl_layer_kind_name(s->kind), s->kernel);
        if (s->stride != 0 && s->stride != s->kernel)
            put(w, ":s%zu", s->stride);
        break;
    case NNCL_LAYER_DROPOUT:
        rate_text(s->rate, rate, sizeof rate);
        put(w, "dropout:%s", rate);
        break;
    case NNCL_LAYER_BATCHNORM:
    case NNCL_LAYER_FLATTEN: put(w, "%s", nncl_layer_kind_name(s->kind)); break;
    }
}

nncl_status nncl_layers_format(const nncl_layer_spec *specs, int count, char *out, size_t len)
{
    if (!out || len == 0)
        return nncl_fail(NNCL_E_INVALID, "nncl_layers_format: no room for the text");
    out[0] = '\0';
    if (count < 0 || (count > 0 && !specs))
        return nncl_fail(NNCL_E_INVALID, "nncl_layers_format: no specs");
    writer w = {out, len, 0, false};
    for (int i = 0; i < count; i++) {
        if ((int)specs[i].kind < 0 || (int)specs[i].kind >= KIND_COUNT)
            return nncl_fail(NNCL_E_INVALID, "layer %d: unknown kind %d", i + 1, (int)specs[i].kind);
        if (i > 0)
            put(&w, ",");
        put_spec(&w, &specs[i]);
    }
    if (w.full) {
        out[0] = '\0';
        return nncl_fail(NNCL_E_INVALID, "the layers' text needs more than %zu bytes", len);
    }
    return NNCL_OK;
}
