/* `nncl check`: rows' host memory, random awkward inputs, buffers on one
 * side of a comparison, and the comparison itself (see check.h). */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/check.h"

/* ---- rows' host memory ---------------------------------------------------- */

struct check_mem {
    check_mem *next;
    max_align_t data[];
};

void *check_alloc(check_ctx *c, size_t bytes)
{
    check_mem *m = calloc(1, sizeof *m + (bytes ? bytes : 1));
    if (!m) {
        c->nomem = true;
        return NULL;
    }
    m->next = c->mem;
    c->mem = m;
    return m->data;
}

void check_mem_free(check_ctx *c)
{
    while (c->mem) {
        check_mem *next = c->mem->next;
        free(c->mem);
        c->mem = next;
    }
    c->nomem = false;
}

nncl_status check_nomem(void)
{
    return nncl_fail(NNCL_E_NOMEM, "nncl check: out of host memory");
}

/* ---- random inputs -------------------------------------------------------- */

static bool is_prime(size_t n)
{
    if (n < 2)
        return false;
    for (size_t d = 2; d * d <= n; d++)
        if (n % d == 0)
            return false;
    return true;
}

size_t check_awkward(nncl_rng *r, size_t lo, size_t hi)
{
    if (hi <= lo)
        return lo;
    size_t any = lo + (size_t)nncl_rng_below(r, hi - lo + 1);
    switch (nncl_rng_below(r, 8)) {
    case 0: return lo;
    case 1:
    case 2: {   /* one off a power of two: 2^k - 1 or 2^k + 1 */
        size_t p = 2;
        while (p * 2 <= any)
            p *= 2;
        size_t v = nncl_rng_below(r, 2) ? p + 1 : p - 1;
        return v >= lo && v <= hi ? v : any;
    }
    case 3:
    case 4:
    case 5: /* the next prime from a uniform draw (most often) */
        for (size_t v = any; v <= hi; v++)
            if (is_prime(v))
                return v;
        return any;
    default: return any;
    }
}

const char *check_act_name(nncl_act act)
{
    static const char *const names[] = {"identity", "relu", "leaky_relu", "sigmoid", "tanh"};
    return (unsigned)act < sizeof names / sizeof names[0] ? names[act] : "?";
}

const char *check_part_of_pass(char *buf, size_t len, const char *part, int pass)
{
    if (!pass)
        return part;
    snprintf(buf, len, "%s before relu", part);
    return buf;
}

float check_act(nncl_act act, float slope, float z)
{
    switch (act) {
    case NNCL_ACT_RELU: return z > 0 ? z : 0;
    case NNCL_ACT_LEAKY_RELU: return z > 0 ? z : slope * z;
    case NNCL_ACT_SIGMOID: return 1.0f / (1.0f + expf(-z));
    case NNCL_ACT_TANH: return tanhf(z);
    default: return z;
    }
}

float check_uniform(nncl_rng *r, float lo, float hi)
{
    return lo + (hi - lo) * nncl_rng_float(r);
}

float *check_random(check_ctx *c, size_t n, float lo, float hi)
{
    float *x = check_alloc(c, n * sizeof *x);
    for (size_t i = 0; x && i < n; i++)
        x[i] = check_uniform(&c->rng, lo, hi);
    return x;
}

int32_t *check_random_ints(check_ctx *c, size_t n, uint64_t below)
{
    int32_t *x = check_alloc(c, n * sizeof *x);
    for (size_t i = 0; x && i < n; i++)
        x[i] = (int32_t)nncl_rng_below(&c->rng, below);
    return x;
}

uint8_t *check_random_bytes(check_ctx *c, size_t n)
{
    uint8_t *x = check_alloc(c, n);
    for (size_t i = 0; x && i < n; i++)
        x[i] = (uint8_t)(nncl_rng_next(&c->rng) >> 56);
    return x;
}

uint64_t check_seed_for(uint64_t seed, const char *name)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return seed ^ h;
}

/* ---- one side of a comparison --------------------------------------------- */

void check_side_init(check_side *s, nncl_device *dev, size_t off)
{
    memset(s, 0, sizeof *s);
    s->dev = dev;
    s->off = off;
}

static void side_fail(check_side *s, nncl_status st, const char *what)
{
    if (s->st != NNCL_OK || st == NNCL_OK)
        return;
    s->st = st;
    snprintf(s->err, sizeof s->err, "%s: %s", what, nncl_last_error());
}

enum { PAD = 3 };   /* poisoned elements after every view */

nncl_view check_side_put(check_side *s, const void *data, size_t n, size_t esz)
{
    nncl_view v = {NULL, 0};
    if (s->st != NNCL_OK)
        return v;
    if (s->n == (int)(sizeof s->bufs / sizeof s->bufs[0])) {
        side_fail(s, nncl_fail(NNCL_E_INVALID, "too many buffers for one check"), "nncl check");
        return v;
    }
    size_t bytes = (s->off + n + PAD) * esz;
    unsigned char *init = malloc(bytes);
    if (!init) {
        side_fail(s, check_nomem(), "host memory");
        return v;
    }
    memset(init, 0xff, bytes);
    if (data && n)
        memcpy(init + s->off * esz, data, n * esz);
    nncl_buffer *b = NULL;
    nncl_status st = nncl_buffer_alloc(s->dev, bytes, &b);
    if (st == NNCL_OK) {
        s->bufs[s->n++] = b;
        st = nncl_buffer_write(b, 0, init, bytes);
    }
    free(init);
    side_fail(s, st, "buffer");
    if (st == NNCL_OK)
        v = nncl_view_of(b, s->off);
    return v;
}

void check_side_ran(check_side *s, nncl_status st, const char *op)
{
    side_fail(s, st, op);
}

static void *side_read(check_ctx *c, check_side *s, nncl_view v, size_t n, size_t esz)
{
    if (s->st != NNCL_OK || !v.buf)
        return NULL;
    void *out = check_alloc(c, n * esz);
    if (!out) {
        side_fail(s, check_nomem(), "host memory");
        return NULL;
    }
    side_fail(s, nncl_buffer_read(v.buf, v.off * esz, out, n * esz), "read");
    return s->st == NNCL_OK ? out : NULL;
}

float *check_side_floats(check_ctx *c, check_side *s, nncl_view v, size_t n)
{
    return side_read(c, s, v, n, sizeof(float));
}

float *check_side_ints(check_ctx *c, check_side *s, nncl_view v, size_t n)
{
    int32_t *x = side_read(c, s, v, n, sizeof(int32_t));
    float *f = x ? check_alloc(c, n * sizeof *f) : NULL;
    if (x && !f)
        side_fail(s, check_nomem(), "host memory");
    for (size_t i = 0; f && i < n; i++)
        f[i] = (float)x[i];
    return f;
}

void check_side_free(check_side *s)
{
    for (int i = 0; i < s->n; i++)
        nncl_buffer_free(s->bufs[i]);
    s->n = 0;
}

bool check_sides_ok(check_row *r, const check_side *dev, const check_side *host)
{
    if (dev->st != NNCL_OK)
        check_row_error(r, "on the device: %s", dev->err);
    else if (host->st != NNCL_OK)
        check_row_error(r, "on host (the oracle): %s", host->err);
    return dev->st == NNCL_OK && host->st == NNCL_OK;
}

/* ---- comparing ------------------------------------------------------------ */

void check_row_error(check_row *r, const char *fmt, ...)
{
    if (!r->error && r->bad == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->detail, sizeof r->detail, fmt, ap);
        va_end(ap);
    }
    r->error = true;
}

bool check_row_passed(const check_row *r)
{
    return !r->error && r->bad == 0 && r->compared;
}

/* A change no tolerance here forgives: used to prove a check can fail. */
static double perturb(double x)
{
    return isfinite(x) ? x + 1.0 + fabs(x) : 0.0;
}

void check_compare_d(check_ctx *c, check_row *r, const char *part, const double *got, const double *ref,
                     size_t n, double atol, double rtol)
{
    double max_abs = 0, max_rel = 0, worst = 0;
    size_t first_bad = n;
    double first_got = 0;
    for (size_t i = 0; i < n; i++) {
        double g = got[i], e = ref[i];
        if (i == 0 && c->inject) {
            g = perturb(g);
            c->inject = false;
        }
        double d, ratio;
        if (isnan(g) || isnan(e) || isinf(g) || isinf(e)) {
            bool same = (isnan(g) && isnan(e)) || g == e;
            d = same ? 0 : INFINITY;
            ratio = d;
        } else {
            d = fabs(g - e);
            double tol = atol + rtol * fabs(e);
            ratio = d == 0 ? 0 : tol > 0 ? d / tol : INFINITY;
            /* relative error where it means something: |ref| above the absolute tolerance */
            if (fabs(e) > atol && fabs(e) > 0 && d / fabs(e) > max_rel)
                max_rel = d / fabs(e);
        }
        if (d > max_abs)
            max_abs = d;
        if (ratio > worst)
            worst = ratio;
        if (ratio > 1 && first_bad == n) {
            first_bad = i;
            first_got = g;
        }
        if (ratio > 1)
            r->bad++;
    }
    if (first_bad < n && !r->error && r->detail[0] == '\0')
        snprintf(r->detail, sizeof r->detail, "%s[%zu] = %.9g, oracle %.9g (tolerance %.3g + %.3g |oracle|)", part,
                 first_bad, first_got, ref[first_bad], atol, rtol);
    if (!r->compared || worst > r->worst) {
        snprintf(r->part, sizeof r->part, "%s", part);
        r->max_abs = max_abs;
        r->max_rel = max_rel;
        r->atol = atol;
        r->rtol = rtol;
        r->worst = worst;
    }
    r->compared = true;
}

void check_compare(check_ctx *c, check_row *r, const char *part, const float *got, const float *ref, size_t n,
                   double atol, double rtol)
{
    if (!got || !ref)
        return;
    double *g = check_alloc(c, n * sizeof *g), *e = check_alloc(c, n * sizeof *e);
    if (!g || !e)
        return;
    for (size_t i = 0; i < n; i++) {
        g[i] = got[i];
        e[i] = ref[i];
    }
    check_compare_d(c, r, part, g, e, n, atol, rtol);
}

void check_compare_bits(check_ctx *c, check_row *r, const char *part, const void *got, const void *ref,
                        size_t bytes)
{
    const unsigned char *g = got, *e = ref;
    size_t first = bytes, differ = 0;
    for (size_t i = 0; i < bytes; i++) {
        unsigned char x = g[i];
        if (i == 0 && c->inject) {
            x ^= 1;
            c->inject = false;
        }
        if (x != e[i]) {
            differ++;
            if (first == bytes)
                first = i;
        }
    }
    if (first < bytes && !r->error && r->detail[0] == '\0')
        snprintf(r->detail, sizeof r->detail, "%s: %zu of %zu bytes differ, the first at byte %zu", part, differ,
                 bytes, first);
    r->bad += differ;
    double worst = differ ? INFINITY : 0;
    if (!r->compared || worst > r->worst) {
        snprintf(r->part, sizeof r->part, "%s", part);
        r->max_abs = r->max_rel = differ ? NAN : 0;
        r->atol = r->rtol = 0;
        r->worst = worst;
    }
    r->compared = true;
}

void check_sides_open(check_ctx *c, check_side s[2])
{
    check_side_init(&s[0], c->dev, 2);
    check_side_init(&s[1], c->host, 0);
}

void check_sides_free(check_side s[2])
{
    check_side_free(&s[0]);
    check_side_free(&s[1]);
}

size_t check_size_up_to(check_ctx *c, size_t full, size_t quick)
{
    return check_awkward(&c->rng, 1, c->quick ? quick : full);
}

float check_max_abs(const float *x, size_t n)
{
    float m = 0;
    for (size_t i = 0; x && i < n; i++)
        if (isfinite(x[i]) && fabsf(x[i]) > m)
            m = fabsf(x[i]);
    return m;
}

nncl_status check_done(check_ctx *c, check_side s[2])
{
    check_sides_free(s);
    return c->nomem ? check_nomem() : NNCL_OK;
}
