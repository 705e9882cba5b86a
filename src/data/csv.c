/* The CSV reader: header, delimiter, Kaggle digit files, tables, labels.
 *
 * One pass over the bytes (a buffer in memory, or a stream pulled through a
 * window): fields are slices of the input, numbers are parsed straight into
 * the output matrix, and no per-cell strings are made. Rows are counted as
 * they come; the matrix is allocated for the most rows the remaining bytes
 * could hold (2 bytes per cell at least) and trimmed at the end, so untouched
 * pages cost address space only. A stream's window holds a record's limit
 * plus a read's worth of bytes, so the peak stays near the size of the
 * result, and no record can be longer than its limit (data.h): before each
 * record the window is topped up to hold the limit, and the tokenizer never
 * scans past it. Control bytes (a binary file) are refused: the first
 * WINDOW_READ bytes are searched for them before the header is read, and
 * the tokenizer, which every later byte passes, refuses them where it meets
 * them. */
#include "nncl/data.h"
#include "data/csv_internal.h"
#include "data/data_internal.h"
#include "data/numparse.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KAGGLE_SIDE 28
#define KAGGLE_PIXELS (KAGGLE_SIDE * KAGGLE_SIDE)
/* A stream's window holds the current record's limit plus this much. */
#define WINDOW_READ ((size_t)4 << 20)

/* Byte classes for the tokenizer: plain bytes are 0. */
enum { BYTE_PLAIN = 0, BYTE_STOP = 1 /* delimiter, \n, \r */, BYTE_BINARY = 2 };

typedef struct field {
    const char *s;
    size_t n;
    size_t line;      /* where the field starts */
    bool quoted;
    bool escaped;     /* holds "" pairs: the text needs unescaping */
} field;

enum { LAB_NONE, LAB_EXPECT, LAB_COLLECT, LAB_REGRESS };

typedef struct parser {
    const char *name;
    /* The input window: b[0..n) are the input's bytes at offsets off.. on;
     * more come from src until eof. A buffer in memory is one window with
     * eof set. */
    const char *b;
    size_t n, pos, line;
    uint64_t off;
    bool eof;
    const nncl_csv_source *src;
    char *win;
    size_t win_cap;
    unsigned char head[8];  /* the input's first bytes, for hints on binary files */
    size_t head_n;
    /* The current record: scanning stops at rec_end (its start + limit + 1);
     * rec_cut says the input goes on past it, so reaching it means the
     * record is too long. */
    size_t limit, rec_end;
    bool rec_cut;
    char delim;
    unsigned char cls[256]; /* BYTE_* per byte value */
    size_t budget_rows;     /* the most rows the memory budget allows */

    const nncl_csv_options *opt;
    size_t ncols;
    char **names;           /* ncols header names */
    int32_t *colmap;        /* per column: feature index, or -1 for the label */
    long label_col;         /* -1: none */
    bool images;
    size_t nfeat;

    size_t rows, cap;
    uint8_t *xu8;
    float *xf32;

    int lmode;
    nncl_strtab expect;     /* LAB_EXPECT: class name -> index */
    nncl_strtab dict;       /* LAB_COLLECT: label text -> first-seen id */
    bool dict_overflow;
    bool all_numeric, all_integer;
    size_t big_line;        /* first label line out of float range, or 0 */
    int32_t *lab;           /* LAB_EXPECT */
    double *num;            /* LAB_COLLECT, LAB_REGRESS: NaN when not a number */
    uint32_t *ids;          /* LAB_COLLECT: dict id */
    char *scratch;
    size_t scratch_cap;
} parser;

/* ------------------------------------------------------------ messages */

/* Printable excerpt of a cell for messages: at most 40 bytes, controls as '?'. */
static const char *show(const char *s, size_t n, char out[64])
{
    size_t k = 0;
    for (size_t i = 0; i < n && k < 40; i++) {
        unsigned char c = (unsigned char)s[i];
        out[k++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (n > 40) { out[k++] = '.'; out[k++] = '.'; out[k++] = '.'; }
    out[k] = '\0';
    return out;
}

static nncl_status fail_line(const parser *p, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static nncl_status fail_line(const parser *p, size_t line, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return nncl_fail(NNCL_E_FORMAT, "%s: line %zu: %s", p->name, line, msg);
}

static nncl_status fail_cell(const parser *p, size_t line, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static nncl_status fail_cell(const parser *p, size_t line, size_t col, const char *fmt, ...)
{
    char msg[1024], nm[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *cn = p->names && col < p->ncols ? p->names[col] : "";
    return nncl_fail(NNCL_E_FORMAT, "%s: line %zu, column %zu ('%s'): %s", p->name, line,
                     col + 1, show(cn, strlen(cn), nm), msg);
}

/* "1048576 bytes (1 MiB)". */
static const char *show_size(size_t n, char out[64])
{
    char h[32];
    nncl_format_bytes((double)n, h, sizeof h);
    if (n < 1024) snprintf(out, 64, "%zu bytes", n);
    else snprintf(out, 64, "%zu bytes (%s)", n, h);
    return out;
}

static nncl_status too_long(const parser *p, size_t line)
{
    char lim[64], least[64];
    if (line == 1)
        return fail_line(p, line, "the header line is longer than %s, the limit for a header; "
                         "expected a line break (is this a CSV file?)", show_size(p->limit, lim));
    return fail_line(p, line, "the row is longer than %s, the limit for a row of %zu columns "
                     "(%d bytes per column, at least %s); expected a line break, or a closing "
                     "quote", show_size(p->limit, lim), p->ncols, NNCL_CSV_LINE_BYTES_PER_COLUMN,
                     show_size(NNCL_CSV_MAX_LINE, least));
}

/* What a binary file's first bytes say it is. */
static const char *binary_hint(const unsigned char *h, size_t n)
{
    if (n >= 2 && ((h[0] == 0xff && h[1] == 0xfe) || (h[0] == 0xfe && h[1] == 0xff)))
        return "; it looks like UTF-16 text: save it as UTF-8";
    if (n >= 4 && h[0] == 0 && h[1] == 0 && h[2] == 8 && (h[3] == 1 || h[3] == 3))
        return "; it is an IDX file: pass the folder that holds the IDX files instead";
    if (n >= 4 && memcmp(h, "\x7f" "ELF", 4) == 0)
        return "; it is a program (ELF), not data";
    if (n >= 2 && h[0] == 0x1f && h[1] == 0x8b)
        return "; it is gzip data (inside gzip data?)";
    if (n >= 4 && memcmp(h, "PK\x03\x04", 4) == 0)
        return "; it is a zip archive: extract the CSV file first";
    if (n >= 6 && memcmp(h, "\xfd" "7zXZ\x00", 6) == 0)
        return "; it is xz data: decompress it first (nncl reads gzip)";
    if (n >= 4 && memcmp(h, "\x28\xb5\x2f\xfd", 4) == 0)
        return "; it is zstd data: decompress it first (nncl reads gzip)";
    if (n >= 3 && memcmp(h, "BZh", 3) == 0)
        return "; it is bzip2 data: decompress it first (nncl reads gzip)";
    return "; expected a CSV text file";
}

/* b[i], on the given line, is a control byte that no text file holds. */
static nncl_status binary_on_line(const parser *p, size_t i, size_t line)
{
    return nncl_fail(NNCL_E_FORMAT, "%s: not a text file: byte 0x%02x at offset %llu%s (line "
                     "%zu) is a control character that no CSV holds%s", p->name,
                     (unsigned char)p->b[i], (unsigned long long)(p->off + i),
                     p->src && p->src->compressed ? " of the decompressed data" : "", line,
                     binary_hint(p->head, p->head_n));
}

static nncl_status binary_byte(const parser *p, size_t i) { return binary_on_line(p, i, p->line); }

static nncl_status nomem(const parser *p)
{
    return nncl_fail(NNCL_E_NOMEM, "%s: out of memory reading %zu rows x %zu columns", p->name,
                     p->rows, p->ncols);
}

/* ------------------------------------------------------------ tokenizer */

/* ------------------------------------------------------------- the window */

/* Tops the window up so that it holds at least need bytes from p->pos, or
 * everything up to the end of the input. Pointers into the window are
 * invalid afterwards; it is called only between records. */
static nncl_status fill(parser *p, size_t need)
{
    if (p->eof || p->n - p->pos >= need) return NNCL_OK;
    size_t keep = p->n - p->pos;
    if (p->pos) {
        memmove(p->win, p->win + p->pos, keep);
        p->off += p->pos;
        p->pos = 0;
        p->n = keep;
    }
    size_t cap = need + WINDOW_READ;
    if (p->win_cap < cap) {
        char *w = realloc(p->win, cap);
        if (!w) return nncl_fail(NNCL_E_NOMEM, "%s: out of memory for a %zu-byte read window",
                                 p->name, cap);
        p->win = w;
        p->win_cap = cap;
    }
    p->b = p->win;
    while (!p->eof && p->n < need) {
        size_t want = p->win_cap - p->n, got = 0;
        nncl_status st = p->src->read(p->src->ctx, p->win + p->n, want, &got);
        if (st) return st;
        p->n += got;
        if (got < want) p->eof = true;
    }
    return NNCL_OK;
}

/* Starts a record at p->pos that may be at most limit bytes long. */
static nncl_status begin_record(parser *p, size_t limit)
{
    /* + 2: the line end after a record of exactly limit bytes, CRLF included */
    nncl_status st = fill(p, limit + 2);
    if (st) return st;
    p->limit = limit;
    size_t room = p->n - p->pos;
    p->rec_end = room > limit + 1 ? p->pos + limit + 1 : p->n;
    p->rec_cut = p->rec_end < p->n || !p->eof;
    return NNCL_OK;
}

/* ------------------------------------------------------------ tokenizer */

/* The next field at p->pos; *eor is set when it ends the record (line end or
 * end of input). Never scans past the record's limit. */
static nncl_status next_field(parser *p, field *f, bool *eor)
{
    const char *b = p->b;
    size_t i = p->pos, n = p->rec_end;
    char d = p->delim;
    f->line = p->line;
    f->quoted = f->escaped = false;
    if (i < n && b[i] == '"') {
        size_t start = ++i;
        for (;;) {
            const char *q = memchr(b + i, '"', n - i);
            /* count the line breaks inside the quotes, and look for binary bytes */
            size_t stop = q ? (size_t)(q - b) : n;
            for (size_t k = i; k < stop; k++) {
                unsigned char c = (unsigned char)b[k];
                if (c == '\n') p->line++;
                else if (p->cls[c] == BYTE_BINARY) return binary_byte(p, k);
            }
            if (!q) {
                if (p->rec_cut) return too_long(p, f->line);
                return fail_line(p, f->line, "a quoted field is never closed (no matching '\"' "
                                 "before the end of the file)");
            }
            i = stop;
            if (i + 1 >= n && p->rec_cut) return too_long(p, f->line);
            if (i + 1 < n && b[i + 1] == '"') {
                f->escaped = true;
                i += 2;
                continue;
            }
            break;
        }
        f->s = b + start;
        f->n = i - start;
        f->quoted = true;
        i++;
        while (i < n && b[i] == ' ') i++;
        if (i < n && p->cls[(unsigned char)b[i]] == BYTE_BINARY) return binary_byte(p, i);
        if (i < n && b[i] != d && b[i] != '\n' && b[i] != '\r') {
            char ex[64];
            return fail_line(p, p->line, "unexpected '%s' after the closing quote of a field, "
                             "expected the delimiter '%s' or the end of the line",
                             show(b + i, 1, ex), d == '\t' ? "\\t" : (d == ';' ? ";" : ","));
        }
    } else {
        size_t start = i;
        while (i < n && p->cls[(unsigned char)b[i]] == BYTE_PLAIN) i++;
        if (i < n && p->cls[(unsigned char)b[i]] == BYTE_BINARY) return binary_byte(p, i);
        f->s = b + start;
        f->n = i - start;
    }
    if (i >= n) {
        if (p->rec_cut) return too_long(p, f->line);
        p->pos = n;
        *eor = true;
    } else if (b[i] == d) {
        p->pos = i + 1;
        *eor = false;
    } else {
        /* the window holds limit + 2 bytes from the record's start: a CR
         * ending the record has its LF here */
        if (b[i] == '\r' && i + 1 < p->n && b[i + 1] == '\n') i++;
        p->pos = i + 1;
        p->line++;
        *eor = true;
    }
    return NNCL_OK;
}

/* The field's text with "" turned into ", in p->scratch when needed. */
static nncl_status field_text(parser *p, const field *f, const char **s, size_t *n)
{
    if (!f->escaped) {
        *s = f->s;
        *n = f->n;
        return NNCL_OK;
    }
    if (p->scratch_cap < f->n + 1) {
        char *t = realloc(p->scratch, f->n + 1);
        if (!t) return nomem(p);
        p->scratch = t;
        p->scratch_cap = f->n + 1;
    }
    size_t k = 0;
    for (size_t i = 0; i < f->n; i++) {
        p->scratch[k++] = f->s[i];
        if (f->s[i] == '"' && i + 1 < f->n && f->s[i + 1] == '"') i++;
    }
    p->scratch[k] = '\0';
    *s = p->scratch;
    *n = k;
    return NNCL_OK;
}

static bool is_blank(char c) { return c == '\n' || c == '\r' || c == ' ' || c == '\t'; }

/* Whether the window from p->pos on holds only blank space (it may not
 * reach the end of the input). */
static bool blank_window(const parser *p)
{
    for (size_t i = p->pos; i < p->n; i++)
        if (!is_blank(p->b[i])) return false;
    return true;
}

/* Consumes blank space to the end of the input: *blank is set when there is
 * nothing else; else p->pos is at the first other byte. */
static nncl_status skip_blank_to_end(parser *p, bool *blank)
{
    for (;;) {
        while (p->pos < p->n && is_blank(p->b[p->pos])) p->pos++;
        if (p->pos < p->n || p->eof) break;
        nncl_status st = fill(p, 1);
        if (st) return st;
    }
    *blank = p->pos >= p->n;
    return NNCL_OK;
}

/* --------------------------------------------------------------- header */

static char detect_delimiter(const char *b, size_t i, size_t n)
{
    size_t comma = 0, semi = 0, tab = 0;
    bool inq = false;
    for (; i < n; i++) {
        char c = b[i];
        if (c == '"') inq = !inq;
        else if (inq) continue;
        else if (c == '\n' || c == '\r') break;
        else if (c == ',') comma++;
        else if (c == ';') semi++;
        else if (c == '\t') tab++;
    }
    if (semi > comma && semi >= tab) return ';';
    if (tab > comma && tab > semi) return '\t';
    return ',';
}

static int cmp_names(const void *a, const void *b, void *ctx)
{
    char **names = ctx;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int c = strcmp(names[x], names[y]);
    return c ? c : (x > y) - (x < y);
}

/* A small merge sort (qsort_r is not C11). */
static void sort_idx(size_t *v, size_t *tmp, size_t n, char **names)
{
    if (n < 2) return;
    size_t h = n / 2;
    sort_idx(v, tmp, h, names);
    sort_idx(v + h, tmp, n - h, names);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) tmp[k++] = cmp_names(&v[i], &v[j], names) <= 0 ? v[i++] : v[j++];
    while (i < h) tmp[k++] = v[i++];
    while (j < n) tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof *v);
}

static nncl_status read_header(parser *p)
{
    size_t cap = 0;
    bool eor = false;
    while (!eor) {
        field f;
        nncl_status st = next_field(p, &f, &eor);
        if (st) return st;
        const char *s = NULL;
        size_t n = 0;
        if ((st = field_text(p, &f, &s, &n))) return st;
        if (!f.quoted) {
            while (n && (*s == ' ' || *s == '\t')) { s++; n--; }
            while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
        }
        if (n > NNCL_CSV_MAX_NAME) {
            char ex[64];
            return fail_line(p, 1, "column %zu's name '%s' is %zu bytes long, more than the "
                             "limit of %d", p->ncols + 1, show(s, n, ex), n, NNCL_CSV_MAX_NAME);
        }
        if (p->ncols == cap) {
            cap = cap ? cap * 2 : 64;
            char **t = realloc(p->names, cap * sizeof *t);
            if (!t) return nomem(p);
            p->names = t;
        }
        char *name = malloc(n + 1);
        if (!name) return nomem(p);
        memcpy(name, s, n);
        name[n] = '\0';
        p->names[p->ncols++] = name;
    }
    /* Repeated names would make "label=name" ambiguous. */
    size_t *idx = malloc(p->ncols * sizeof *idx), *tmp = malloc(p->ncols * sizeof *tmp);
    if (!idx || !tmp) { free(idx); free(tmp); return nomem(p); }
    for (size_t i = 0; i < p->ncols; i++) idx[i] = i;
    sort_idx(idx, tmp, p->ncols, p->names);
    nncl_status st = NNCL_OK;
    for (size_t i = 1; i < p->ncols; i++)
        if (strcmp(p->names[idx[i - 1]], p->names[idx[i]]) == 0) {
            char nm[64];
            const char *s = p->names[idx[i]];
            st = fail_line(p, 1, "column %zu has the same name '%s' as column %zu; expected "
                           "distinct column names", idx[i] + 1, show(s, strlen(s), nm),
                           idx[i - 1] + 1);
            break;
        }
    free(idx);
    free(tmp);
    return st;
}

static bool is_kaggle(const parser *p, bool with_label)
{
    size_t off = with_label ? 1 : 0;
    if (p->ncols != KAGGLE_PIXELS + off) return false;
    if (with_label && strcmp(p->names[0], "label") != 0) return false;
    for (size_t i = 0; i < KAGGLE_PIXELS; i++) {
        char want[16];
        snprintf(want, sizeof want, "pixel%zu", i);
        if (strcmp(p->names[i + off], want) != 0) return false;
    }
    return true;
}

static bool all_digits(const char *s)
{
    if (!*s) return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9') return false;
    return true;
}

/* A list of the header's names for messages: "a, b, c, ... (12 columns)". */
static const char *name_list(const parser *p, char *out, size_t cap)
{
    size_t k = 0;
    out[0] = '\0';
    for (size_t i = 0; i < p->ncols && k + 1 < cap; i++) {
        int w = snprintf(out + k, cap - k, "%s%s", i ? ", " : "", p->names[i]);
        if (w < 0) break;
        k += (size_t)w;
        if (k > 200 && i + 1 < p->ncols) {
            snprintf(out + (k < cap ? k : cap - 1), cap - (k < cap ? k : cap - 1), ", ...");
            break;
        }
    }
    return out;
}

/* Decides the label column, the Kaggle layout and the column map. */
static nncl_status plan_columns(parser *p)
{
    const nncl_csv_options *o = p->opt;
    char list[320];
    bool want_label = o->label_mode != NNCL_CSV_LABEL_NONE;
    bool default_label = !o->label || strcmp(o->label, "label") == 0;
    p->label_col = -1;

    if (!o->no_images && default_label) {
        if (want_label && is_kaggle(p, true)) {
            p->images = true;
            p->label_col = 0;
        } else if (is_kaggle(p, false)) {
            p->images = true;
            if (o->label_mode == NNCL_CSV_LABEL_REQUIRED)
                return fail_line(p, 1, "no label column: this is a Kaggle digit-recognizer "
                                 "test file (pixel0..pixel783), expected label,pixel0..pixel783");
        }
    }
    if (!p->images && want_label) {
        if (!o->label) {
            if (o->label_mode == NNCL_CSV_LABEL_REQUIRED) {
                if (p->ncols < 2)
                    return fail_line(p, 1, "the header has 1 column ('%s'), expected at least "
                                     "2: features and a label (the last column by default)",
                                     p->names[0]);
                /* as many columns as the model has features: no label
                 * column at all, not a missing feature */
                if (o->expect_cols > 0 && p->ncols == o->expect_cols)
                    return fail_line(p, 1, "%zu columns (%s): the model's %zu features and no label "
                                     "column; this needs the labels too, as the last column (nncl "
                                     "predict needs none)", p->ncols, name_list(p, list, sizeof list),
                                     o->expect_cols);
                p->label_col = (long)p->ncols - 1;
            } else {
                size_t want = o->expect_cols;
                if (p->ncols >= 2 && want > 0 && p->ncols == want + 1)
                    p->label_col = (long)p->ncols - 1;
            }
        } else {
            for (size_t i = 0; i < p->ncols; i++)
                if (strcmp(p->names[i], o->label) == 0) { p->label_col = (long)i; break; }
            if (p->label_col < 0 && all_digits(o->label) && o->label_mode == NNCL_CSV_LABEL_REQUIRED) {
                unsigned long long k = strtoull(o->label, NULL, 10);
                if (k >= p->ncols)
                    return fail_line(p, 1, "label column index %s is out of range: the header "
                                     "has %zu columns (0-based indices 0..%zu)", o->label,
                                     p->ncols, p->ncols - 1);
                p->label_col = (long)k;
            }
            if (p->label_col < 0 && o->label_mode == NNCL_CSV_LABEL_REQUIRED &&
                (o->expect_cols || o->expect_features))
                return fail_line(p, 1, "the file lacks the label column '%s' that the training "
                                 "data has; its columns are: %s", o->label,
                                 name_list(p, list, sizeof list));
            if (p->label_col < 0 && o->label_mode == NNCL_CSV_LABEL_REQUIRED)
                return fail_line(p, 1, "no label column '%s' in the header; its columns are: %s",
                                 o->label, name_list(p, list, sizeof list));
            if (p->label_col >= 0 && p->ncols < 2 && o->label_mode == NNCL_CSV_LABEL_REQUIRED)
                return fail_line(p, 1, "the header has only the label column '%s', expected "
                                 "feature columns too", o->label);
        }
    }
    p->nfeat = p->ncols - (p->label_col >= 0 ? 1 : 0);
    if (p->nfeat == 0)
        return fail_line(p, 1, "no feature columns (the only column is the label '%s')",
                         p->names[0]);
    p->colmap = malloc(p->ncols * sizeof *p->colmap);
    if (!p->colmap) return nomem(p);
    for (size_t j = 0, f = 0; j < p->ncols; j++)
        p->colmap[j] = (long)j == p->label_col ? -1 : (int32_t)f++;

    /* The model's expectations. */
    if (o->expect_cols > 0 && p->nfeat != o->expect_cols)
        return fail_line(p, 1, "%zu feature columns (%s%s), expected %zu as in the model",
                         p->nfeat, name_list(p, list, sizeof list),
                         p->label_col >= 0 ? "; the label column excluded" : "", o->expect_cols);
    if (o->expect_features) {
        for (size_t j = 0; j < p->ncols; j++) {
            int32_t f = p->colmap[j];
            if (f < 0) continue;
            const char *want = o->expect_features[f] ? o->expect_features[f] : "";
            if (strcmp(p->names[j], want) != 0) {
                char a[64], b[64];
                return fail_cell(p, 1, (size_t)j, "the column is '%s', but the model's feature "
                                 "%d is '%s'; expected the same columns in the same order",
                                 show(p->names[j], strlen(p->names[j]), a), (int)f + 1,
                                 show(want, strlen(want), b));
            }
        }
    }
    return NNCL_OK;
}

/* --------------------------------------------------------------- labels */

static nncl_status setup_labels(parser *p)
{
    const nncl_csv_options *o = p->opt;
    if (o->expect_classes && o->task == NNCL_CSV_TASK_REGRESS)
        return nncl_fail(NNCL_E_INVALID, "%s: expected class names were given for a regression "
                         "task", p->name);
    if (o->expect_classes && o->expect_num_classes <= 0)
        return nncl_fail(NNCL_E_INVALID, "%s: expect_classes given with expect_num_classes %d",
                         p->name, o->expect_num_classes);
    const char *const *names = o->expect_classes;
    int k = o->expect_num_classes;
    if (!names && p->images) {
        names = nncl_mnist_class_names;
        k = 10;
    }
    if (names) {
        for (int i = 0; i < k; i++) {
            const char *s = names[i] ? names[i] : "";
            if (nncl_strtab_add(&p->expect, s, strlen(s)) < 0) return nomem(p);
        }
    }
    if (p->label_col < 0) { p->lmode = LAB_NONE; return NNCL_OK; }
    if (names) p->lmode = LAB_EXPECT;
    else if (o->task == NNCL_CSV_TASK_REGRESS) p->lmode = LAB_REGRESS;
    else p->lmode = LAB_COLLECT;
    p->all_numeric = p->all_integer = true;
    return NNCL_OK;
}

static bool integral(double v) { return v == floor(v) && fabs(v) <= 9007199254740992.0; }

/* nan, inf, infinity (any case, signed, spaces around): what programs write
 * for a missing or non-finite number. Never a class. */
static bool non_finite_word(const char *s, size_t n)
{
    while (n && (*s == ' ' || *s == '\t')) { s++; n--; }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    if (n && (*s == '+' || *s == '-')) { s++; n--; }
    static const char *const words[] = {"nan", "inf", "infinity"};
    for (size_t w = 0; w < sizeof words / sizeof *words; w++) {
        size_t k = strlen(words[w]);
        if (n != k) continue;
        size_t i = 0;
        while (i < k && (s[i] | 0x20) == words[w][i]) i++;
        if (i == k) return true;
    }
    return false;
}

static nncl_status take_label(parser *p, const field *f, size_t col)
{
    const char *s = NULL;
    size_t n = 0;
    nncl_status st = field_text(p, f, &s, &n);
    if (st) return st;
    char ex[64];
    size_t r = p->rows;
    if (p->lmode == LAB_EXPECT) {
        long k = nncl_strtab_find(&p->expect, s, n);
        if (k < 0) {
            /* "3.0" or " 3" still mean class "3" */
            double v;
            if (nncl_parse_f64(s, n, &v) == NNCL_NUM_OK && integral(v)) {
                char buf[32];
                int w = snprintf(buf, sizeof buf, "%.0f", v == 0 ? 0.0 : v);
                k = nncl_strtab_find(&p->expect, buf, (size_t)w);
            }
        }
        if (k < 0) {
            if (n == 0) return fail_cell(p, f->line, col, "empty label, expected a class name");
            char list[200];
            size_t m = 0;
            list[0] = '\0';
            size_t shown = 0;
            for (; shown < p->expect.n && m + 48 < sizeof list; shown++) {
                char nm[64];
                const char *key = p->expect.keys[shown];
                m += (size_t)snprintf(list + m, sizeof list - m, "%s%s", shown ? ", " : "",
                                      show(key, p->expect.lens[shown], nm));
            }
            if (shown < p->expect.n && m < sizeof list)
                snprintf(list + m, sizeof list - m, ", ...");
            return fail_cell(p, f->line, col, "unknown label '%s': expected one of the %zu "
                             "classes %s (%s)", show(s, n, ex), p->expect.n,
                             p->opt->expect_classes ? "the model was trained on" : "0..9", list);
        }
        p->lab[r] = (int32_t)k;
        return NNCL_OK;
    }
    if (non_finite_word(s, n))
        return fail_cell(p, f->line, col, "the label '%s' is a missing or non-finite value, "
                         "expected %s; remove the row or fill in its label", show(s, n, ex),
                         p->lmode == LAB_REGRESS ? "a finite number" : "a class name or number");
    if (n > NNCL_CSV_MAX_NAME)
        return fail_cell(p, f->line, col, "the label '%s' is %zu bytes long, more than the "
                         "limit of %d for a class name or number", show(s, n, ex), n,
                         NNCL_CSV_MAX_NAME);
    double v;
    int rc = nncl_parse_f64(s, n, &v);
    if (rc == NNCL_NUM_EMPTY)
        return fail_cell(p, f->line, col, "empty label, expected %s",
                         p->lmode == LAB_REGRESS ? "a number" : "a class name or number");
    if (rc == NNCL_NUM_OK && fabs(v) > FLT_MAX && !p->big_line) p->big_line = f->line;
    if (p->lmode == LAB_REGRESS) {
        if (rc != NNCL_NUM_OK)
            return fail_cell(p, f->line, col, "'%s' is not a %snumber, expected a regression "
                             "target", show(s, n, ex), rc == NNCL_NUM_RANGE ? "finite " : "");
        if (fabs(v) > FLT_MAX)
            return fail_cell(p, f->line, col, "target %s is out of the float range",
                             show(s, n, ex));
        p->num[r] = v;
        return NNCL_OK;
    }
    if (rc == NNCL_NUM_OK) {
        p->num[r] = v;
        if (!integral(v)) p->all_integer = false;
    } else {
        p->num[r] = NAN;
        p->all_numeric = false;
    }
    if (!p->dict_overflow) {
        long id = nncl_strtab_add(&p->dict, s, n);
        if (id < 0) return nomem(p);
        p->ids[r] = (uint32_t)id;
        if (p->dict.n > NNCL_CSV_MAX_CLASSES) {
            p->dict_overflow = true;
            nncl_strtab_free(&p->dict);
            free(p->ids);
            p->ids = NULL;
        }
    }
    if (p->dict_overflow && !p->all_numeric && p->opt->task != NNCL_CSV_TASK_REGRESS)
        return fail_cell(p, f->line, col, "more than %d distinct labels, too many classes "
                         "(labels that are not all numbers cannot be regression targets)",
                         NNCL_CSV_MAX_CLASSES);
    return NNCL_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmp_str(const void *a, const void *b, void *ctx)
{
    nncl_strtab *t = ctx;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    size_t lx = t->lens[x], ly = t->lens[y];
    int c = memcmp(t->keys[x], t->keys[y], lx < ly ? lx : ly);
    if (c) return c;
    return (lx > ly) - (lx < ly);
}

static void sort_ids(uint32_t *v, uint32_t *tmp, size_t n, nncl_strtab *t)
{
    if (n < 2) return;
    size_t h = n / 2;
    sort_ids(v, tmp, h, t);
    sort_ids(v + h, tmp, n - h, t);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) tmp[k++] = cmp_str(&v[i], &v[j], t) <= 0 ? v[i++] : v[j++];
    while (i < h) tmp[k++] = v[i++];
    while (j < n) tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof *v);
}

/* Turns the collected labels into out's labels/targets and class names. */
static nncl_status finish_labels(parser *p, nncl_dataset *out)
{
    const nncl_csv_options *o = p->opt;
    size_t rows = p->rows;
    if (p->lmode == LAB_NONE || p->lmode == LAB_EXPECT) {
        if (p->expect.n) {
            out->task = NNCL_TASK_CLASSIFY;
            out->num_classes = (int)p->expect.n;
            out->class_names = nncl_strv_dup((const char *const *)p->expect.keys, p->expect.n);
            if (!out->class_names) return nomem(p);
        } else {
            out->task = o->task == NNCL_CSV_TASK_REGRESS ? NNCL_TASK_REGRESS : NNCL_TASK_CLASSIFY;
        }
        if (p->lmode == LAB_EXPECT) { out->labels = p->lab; p->lab = NULL; }
        return NNCL_OK;
    }
    bool regress = p->lmode == LAB_REGRESS;
    double *uniq = NULL;
    size_t k = 0;
    if (!regress && p->all_numeric && p->all_integer) {
        uniq = malloc((rows ? rows : 1) * sizeof *uniq);
        if (!uniq) return nomem(p);
        memcpy(uniq, p->num, rows * sizeof *uniq);
        qsort(uniq, rows, sizeof *uniq, cmp_double);
        for (size_t i = 0; i < rows; i++)
            if (k == 0 || uniq[i] != uniq[k - 1]) uniq[k++] = uniq[i];
        if (o->task == NNCL_CSV_TASK_AUTO && k > NNCL_CSV_AUTO_MAX_CLASSES) regress = true;
    } else if (!regress && p->all_numeric && o->task == NNCL_CSV_TASK_AUTO) {
        regress = true;
    }
    if (regress) {
        free(uniq);
        if (p->big_line)
            return fail_cell(p, p->big_line, (size_t)p->label_col, "the target is out of the "
                             "float range");
        out->task = NNCL_TASK_REGRESS;
        out->targets = malloc((rows ? rows : 1) * sizeof *out->targets);
        if (!out->targets) return nomem(p);
        for (size_t i = 0; i < rows; i++) out->targets[i] = (float)p->num[i];
        return NNCL_OK;
    }
    out->task = NNCL_TASK_CLASSIFY;
    if (uniq) {
        if (k > NNCL_CSV_MAX_CLASSES) {
            free(uniq);
            return nncl_fail(NNCL_E_FORMAT, "%s: %zu distinct labels in column '%s', more than "
                             "the %d classes nncl allows; is it a regression target?", p->name,
                             k, p->names[p->label_col], NNCL_CSV_MAX_CLASSES);
        }
        out->labels = malloc((rows ? rows : 1) * sizeof *out->labels);
        out->class_names = calloc(k, sizeof *out->class_names);
        out->num_classes = (int)k;
        if (!out->labels || !out->class_names) { free(uniq); return nomem(p); }
        for (size_t c = 0; c < k; c++) {
            char buf[32];
            snprintf(buf, sizeof buf, "%.0f", uniq[c] == 0 ? 0.0 : uniq[c]);
            if (!(out->class_names[c] = nncl_strdup(buf))) { free(uniq); return nomem(p); }
        }
        for (size_t i = 0; i < rows; i++) {
            size_t lo = 0, hi = k;
            while (hi - lo > 1) {
                size_t mid = (lo + hi) / 2;
                if (uniq[mid] <= p->num[i]) lo = mid; else hi = mid;
            }
            out->labels[i] = (int32_t)lo;
        }
        free(uniq);
        return NNCL_OK;
    }
    if (p->dict_overflow)
        return nncl_fail(NNCL_E_FORMAT, "%s: more than %d distinct labels in column '%s', too "
                         "many classes", p->name, NNCL_CSV_MAX_CLASSES, p->names[p->label_col]);
    k = p->dict.n;
    uint32_t *order = malloc((k ? k : 1) * sizeof *order);
    uint32_t *tmp = malloc((k ? k : 1) * sizeof *tmp);
    out->labels = malloc((rows ? rows : 1) * sizeof *out->labels);
    out->class_names = calloc(k ? k : 1, sizeof *out->class_names);
    out->num_classes = (int)k;
    if (!order || !tmp || !out->labels || !out->class_names) {
        free(order); free(tmp);
        return nomem(p);
    }
    for (uint32_t i = 0; i < k; i++) order[i] = i;
    sort_ids(order, tmp, k, &p->dict);
    for (uint32_t c = 0; c < k; c++) {
        tmp[order[c]] = c; /* rank of each first-seen id */
        out->class_names[c] = p->dict.keys[order[c]];
        p->dict.keys[order[c]] = NULL;
    }
    for (size_t i = 0; i < rows; i++) out->labels[i] = (int32_t)tmp[p->ids[i]];
    free(order);
    free(tmp);
    return NNCL_OK;
}

/* ----------------------------------------------------------------- rows */

/* Bytes of memory a row takes: its features, and its label while reading
 * (a number and a dictionary id) and after (a class or a target). */
static size_t row_bytes(const parser *p)
{
    return p->nfeat * (p->images ? 1 : sizeof(float)) + (p->label_col >= 0 ? 16 : 0);
}

/* Row p->rows (the one on line p->line) would not fit in the memory budget. */
static nncl_status over_budget(const parser *p)
{
    char where[600], what[128];
    snprintf(where, sizeof where, "%s: line %zu", p->name, p->line);
    snprintf(what, sizeof what, "%zu rows of %zu features", p->rows + 1, p->nfeat);
    nncl_status st = nncl_check_budget(where, what, (double)(p->rows + 1) * (double)row_bytes(p));
    return st ? st : nomem(p);
}

/* Room for nc rows (nc > p->cap). */
static nncl_status reserve_rows(parser *p, size_t nc)
{
    size_t cells = nncl_mul_size(nc, p->nfeat);
    if (cells == SIZE_MAX || nncl_mul_size(cells, sizeof(float)) == SIZE_MAX) return nomem(p);
    if (p->images) {
        uint8_t *x = realloc(p->xu8, cells);
        if (!x) return nomem(p);
        p->xu8 = x;
    } else {
        float *x = realloc(p->xf32, cells * sizeof *x);
        if (!x) return nomem(p);
        p->xf32 = x;
    }
    if (p->lmode == LAB_EXPECT) {
        int32_t *l = realloc(p->lab, nc * sizeof *l);
        if (!l) return nomem(p);
        p->lab = l;
    }
    if (p->lmode == LAB_COLLECT || p->lmode == LAB_REGRESS) {
        double *v = realloc(p->num, nc * sizeof *v);
        if (!v) return nomem(p);
        p->num = v;
    }
    if (p->lmode == LAB_COLLECT && !p->dict_overflow) {
        uint32_t *v = realloc(p->ids, nc * sizeof *v);
        if (!v) return nomem(p);
        p->ids = v;
    }
    p->cap = nc;
    return NNCL_OK;
}

/* Room for one more row: doubling, within the memory budget. */
static nncl_status ensure_rows(parser *p)
{
    if (p->rows < p->cap) return NNCL_OK;
    if (p->rows >= p->budget_rows) return over_budget(p);
    size_t nc = p->cap ? p->cap * 2 : 64;
    if (nc > p->budget_rows) nc = p->budget_rows;
    return reserve_rows(p, nc);
}

/* The number of fields in the current record, given that field col (0-based)
 * was just read and eor says whether it ended the record. */
static size_t count_fields(parser *p, size_t col, bool eor)
{
    size_t count = col + 1;
    while (!eor) {
        field g;
        if (next_field(p, &g, &eor) != NNCL_OK) return p->ncols; /* unknown: don't claim ragged */
        count++;
    }
    return count;
}

static nncl_status ragged(const parser *p, size_t rec_line, size_t count)
{
    return fail_line(p, rec_line, "%zu field%s, expected %zu as in the header", count,
                     count == 1 ? "" : "s", p->ncols);
}

/* A cell could not be used: report a ragged row instead if the row is ragged
 * (the likelier cause), else the cell. */
static nncl_status cell_problem(parser *p, size_t rec_line, size_t col, const field *f, int rc,
                                bool eor)
{
    size_t count = count_fields(p, col, eor);
    if (count != p->ncols) return ragged(p, rec_line, count);
    char ex[64];
    const char *what = p->images ? "an integer 0..255 (a Kaggle digit-recognizer pixel)"
                                 : "a number";
    if (rc == NNCL_NUM_EMPTY) return fail_cell(p, f->line, col, "empty cell, expected %s", what);
    if (rc == NNCL_NUM_RANGE)
        return fail_cell(p, f->line, col, "'%s' is out of range, expected %s",
                         show(f->s, f->n, ex), p->images ? what : "a finite float");
    return fail_cell(p, f->line, col, "'%s' is not %s", show(f->s, f->n, ex), what);
}

static nncl_status read_rows(parser *p)
{
    /* No row of n cells is shorter than 2n - 1 bytes: when the length of the
     * rest is known, reserve for the most rows it could hold (untouched pages
     * stay virtual); else start small and double. */
    uint64_t rest = p->eof ? p->n - p->pos : 0;
    if (p->src && p->src->size > p->off + p->pos) rest = p->src->size - (p->off + p->pos);
    uint64_t most = rest / (2 * p->ncols - 1) + 1;
    size_t elem = p->images ? 1 : sizeof(float);
    size_t limit = ((size_t)1 << 30) / (p->nfeat * elem) + 1; /* then grow by doubling */
    if (most > limit) most = limit;
    if (most > p->budget_rows) most = p->budget_rows;
    p->cap = 0;
    nncl_status st;
    if (most > 64 && (st = reserve_rows(p, (size_t)most))) return st;
    const size_t nc = p->ncols;
    /* The longest row allowed: NNCL_CSV_LINE_BYTES_PER_COLUMN a column, and
     * at least NNCL_CSV_MAX_LINE. */
    size_t row_limit = nncl_mul_size(nc, NNCL_CSV_LINE_BYTES_PER_COLUMN);
    if (row_limit < NNCL_CSV_MAX_LINE) row_limit = NNCL_CSV_MAX_LINE;
    for (;;) {
        if ((st = begin_record(p, row_limit))) return st;
        if (p->pos >= p->n) break;
        char c0 = p->b[p->pos];
        if (c0 == '\n' || c0 == '\r') {
            size_t at = p->line;
            bool blank;
            if ((st = skip_blank_to_end(p, &blank))) return st;
            if (blank) break;
            if (p->cls[(unsigned char)p->b[p->pos]] == BYTE_BINARY) return binary_byte(p, p->pos);
            return fail_line(p, at, "empty line, expected %zu fields as in the header "
                             "(blank lines are allowed only at the end)", nc);
        }
        if ((st = ensure_rows(p))) return st;
        size_t rec_line = p->line, r = p->rows;
        uint8_t *xu = p->images ? p->xu8 + r * p->nfeat : NULL;
        float *xf = p->images ? NULL : p->xf32 + r * p->nfeat;
        size_t j = 0;
        bool eor = false;
        while (!eor) {
            field f;
            if ((st = next_field(p, &f, &eor))) return st;
            if (j < nc) {
                int32_t k = p->colmap[j];
                if (k >= 0) {
                    int rc = xu ? nncl_parse_u8(f.s, f.n, xu + k) : nncl_parse_f32(f.s, f.n, xf + k);
                    if (rc) return cell_problem(p, rec_line, j, &f, rc, eor);
                } else if ((st = take_label(p, &f, j))) {
                    if (st == NNCL_E_NOMEM) return st;
                    char keep[1024];
                    snprintf(keep, sizeof keep, "%s", nncl_last_error());
                    size_t count = count_fields(p, j, eor);
                    if (count != nc) return ragged(p, rec_line, count);
                    return nncl_fail(st, "%s", keep);
                }
            }
            j++;
        }
        if (j != nc) return ragged(p, rec_line, j);
        p->rows++;
    }
    return NNCL_OK;
}

/* ----------------------------------------------------------------- main */

static void parser_free(parser *p)
{
    nncl_strv_free(p->names, p->ncols);
    free(p->colmap);
    free(p->xu8);
    free(p->xf32);
    free(p->lab);
    free(p->num);
    free(p->ids);
    free(p->scratch);
    free(p->win);
    nncl_strtab_free(&p->expect);
    nncl_strtab_free(&p->dict);
}

/* The bytes that are not text: C0 controls but tab, LF, VT, FF and CR; DEL. */
static void classify_bytes(parser *p)
{
    memset(p->cls, BYTE_PLAIN, sizeof p->cls);
    for (int c = 0; c < 0x20; c++)
        if (c < '\t' || c > '\r') p->cls[c] = BYTE_BINARY;
    p->cls[0x7f] = BYTE_BINARY;
}

/* A binary file is told as such, not by whatever its first "line" breaks
 * first: the first WINDOW_READ bytes (of a stream or of a buffer alike) are
 * searched for a binary byte before the header is read. The tokenizer
 * finds those further on. */
static nncl_status sniff_binary(const parser *p)
{
    size_t line = 1, end = p->n < WINDOW_READ ? p->n : WINDOW_READ;
    for (size_t i = 0; i < end; i++) {
        unsigned char c = (unsigned char)p->b[i];
        if (c == '\n') line++;
        else if (p->cls[c] == BYTE_BINARY) return binary_on_line(p, i, line);
    }
    return NNCL_OK;
}

static nncl_status parse(parser *p, nncl_dataset *out)
{
    nncl_status st;
    if ((st = begin_record(p, NNCL_CSV_MAX_LINE))) return st;
    p->head_n = p->n < sizeof p->head ? p->n : sizeof p->head;
    memcpy(p->head, p->b, p->head_n);
    classify_bytes(p);
    if ((st = sniff_binary(p))) return st;
    if (p->n >= 3 && memcmp(p->b, "\xEF\xBB\xBF", 3) == 0) {
        p->pos = 3;
        if ((st = begin_record(p, NNCL_CSV_MAX_LINE))) return st;
    }
    if (p->eof && blank_window(p))
        return nncl_fail(NNCL_E_FORMAT, "%s: empty file, expected a header line and data rows",
                         p->name);
    if (p->b[p->pos] == '\n' || p->b[p->pos] == '\r')
        return fail_line(p, 1, "the header line is empty, expected column names");
    p->delim = detect_delimiter(p->b, p->pos, p->rec_end);
    p->cls['\n'] = p->cls['\r'] = BYTE_STOP;
    p->cls[(unsigned char)p->delim] = BYTE_STOP;
    if ((st = read_header(p))) return st;
    if ((st = plan_columns(p))) return st;
    if ((st = setup_labels(p))) return st;
    size_t budget;
    if ((st = nncl_data_memory_budget(&budget, NULL, 0))) return st;
    p->budget_rows = budget / row_bytes(p);
    if ((st = read_rows(p))) return st;
    if (p->rows == 0)
        return nncl_fail(NNCL_E_FORMAT, "%s: header only: no data rows after line 1, expected "
                         "at least one", p->name);

    /* Hand the arrays over, trimmed to size. */
    size_t cells = p->rows * p->nfeat;
    out->rows = p->rows;
    out->cols = p->nfeat;
    if (p->images) {
        out->x_u8 = realloc(p->xu8, cells ? cells : 1);
        if (!out->x_u8) return nomem(p);
        p->xu8 = NULL;
        out->image_h = out->image_w = KAGGLE_SIDE;
    } else {
        out->x_f32 = realloc(p->xf32, (cells ? cells : 1) * sizeof(float));
        if (!out->x_f32) return nomem(p);
        p->xf32 = NULL;
    }
    /* The window is no longer needed: free it before the labels' arrays. */
    free(p->win);
    p->win = NULL;
    if ((st = finish_labels(p, out))) return st;
    out->feature_names = calloc(p->nfeat, sizeof *out->feature_names);
    if (!out->feature_names) return nomem(p);
    for (size_t j = 0; j < p->ncols; j++) {
        if (p->colmap[j] >= 0) out->feature_names[p->colmap[j]] = p->names[j];
        else out->label_name = p->names[j];
        p->names[j] = NULL;
    }
    if (!(out->source = nncl_strdup(p->name))) return nomem(p);
    return NNCL_OK;
}

/* Parses with p's input set up; out is zeroed on failure. */
static nncl_status run(parser *p, const char *name, const nncl_csv_options *opt, nncl_dataset *out)
{
    nncl_csv_options defaults = {0};
    p->name = name ? name : "<memory>";
    p->line = 1;
    p->opt = opt ? opt : &defaults;
    nncl_status st = parse(p, out);
    parser_free(p);
    if (st) nncl_dataset_free(out);
    return st;
}

nncl_status nncl_csv_parse_stream(const char *name, const nncl_csv_source *src,
                                  const nncl_csv_options *opt, nncl_dataset *out)
{
    if (!out) return nncl_fail(NNCL_E_INVALID, "nncl_csv_read: NULL output");
    memset(out, 0, sizeof *out);
    parser p = {0};
    p.b = "";
    p.src = src;
    return run(&p, name, opt, out);
}

nncl_status nncl_csv_read_mem(const char *name, const char *buf, size_t len,
                              const nncl_csv_options *opt, nncl_dataset *out)
{
    if (!out) return nncl_fail(NNCL_E_INVALID, "nncl_csv_read_mem: NULL output");
    memset(out, 0, sizeof *out);
    if (!buf && len) return nncl_fail(NNCL_E_INVALID, "nncl_csv_read_mem: NULL buffer");
    parser p = {0};
    p.b = buf ? buf : "";
    p.n = len;
    p.eof = true;
    return run(&p, name, opt, out);
}
