/* report.html: one self-contained page. Its data and weights go in inline
 * <script> blocks that are not run (JSON, text), then Chart.js and the
 * page's own script; a Content-Security-Policy forbids every request, so the
 * page works from a USB stick and cannot phone anywhere. */
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "report/report_assets.h"
#include "report/report_json.h"
#include "util/atomic_file.h"

typedef struct page {
    char *buf;
    size_t len, cap;
    bool failed;
} page;

static void put(page *p, const void *s, size_t n)
{
    if (p->failed)
        return;
    if (p->len + n + 1 > p->cap) {
        size_t cap = p->cap ? p->cap : 1 << 20;
        while (cap < p->len + n + 1)
            cap *= 2;
        char *b = realloc(p->buf, cap);
        if (!b) {
            p->failed = true;
            return;
        }
        p->buf = b;
        p->cap = cap;
    }
    memcpy(p->buf + p->len, s, n);
    p->len += n;
    p->buf[p->len] = '\0';
}

static void puts_(page *p, const char *s) { put(p, s, strlen(s)); }

static const nncl_embedded_source *asset(const char *name)
{
    for (int i = 0; i < report_asset_count; i++)
        if (strcmp(report_assets[i].name, name) == 0)
            return &report_assets[i];
    return NULL;
}

static void put_asset(page *p, const char *name)
{
    const nncl_embedded_source *a = asset(name);
    if (a)
        put(p, a->data, a->size);
}

/* Text inside <script> must not contain "</" (it ends the element) nor
 * "<!--" (it changes how the rest is parsed): every '<' in the JSON is
 * written as \u003c, which JSON reads back as '<'. */
static void put_script_safe(page *p, const char *s)
{
    for (const char *q; (q = strchr(s, '<')) != NULL; s = q + 1) {
        put(p, s, (size_t)(q - s));
        puts_(p, "\\u003c");
    }
    puts_(p, s);
}

static void put_html_escaped(page *p, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': puts_(p, "&lt;"); break;
        case '>': puts_(p, "&gt;"); break;
        case '&': puts_(p, "&amp;"); break;
        case '"': puts_(p, "&quot;"); break;
        default: put(p, s, 1);
        }
    }
}

nncl_status report_write_html(const char *run_dir, const char *out_path)
{
    run_record r;
    nncl_status st = run_record_load(run_dir, &r);
    if (st != NNCL_OK)
        return st;
    json_t *data = NULL;
    char *codes = NULL, *json = NULL;
    size_t codes_len = 0;
    if ((st = report_data(&r, &data, &codes, &codes_len)) != NNCL_OK)
        goto done;
    json = json_dumps(data, JSON_COMPACT | JSON_ENSURE_ASCII);
    if (!json) {
        st = nncl_fail(NNCL_E_NOMEM, "out of memory writing the report's data");
        goto done;
    }
    page p = {0};
    puts_(&p, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
              "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
              "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:\">\n"
              "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>nncl report: ");
    put_html_escaped(&p, json_string_value(json_object_get(data, "title")));
    puts_(&p, "</title>\n<style>");
    put_asset(&p, "report.css");
    puts_(&p, "</style></head>\n<body>\n");
    put_asset(&p, "report.html");
    puts_(&p, "\n<script id=\"nncl-data\" type=\"application/json\">");
    put_script_safe(&p, json);
    puts_(&p, "</script>\n<script id=\"nncl-weights\" type=\"text/plain\">");
    put(&p, codes, codes_len);
    puts_(&p, "</script>\n<script>");
    put_asset(&p, "chart.min.js");
    puts_(&p, "</script>\n<script>");
    put_asset(&p, "report.js");
    puts_(&p, "</script>\n</body></html>\n");
    if (p.failed)
        st = nncl_fail(NNCL_E_NOMEM, "out of memory writing %s", out_path);
    else
        st = nncl_write_file_atomic(out_path, p.buf, p.len);
    free(p.buf);
done:
    free(json);
    free(codes);
    json_decref(data);
    run_record_free(&r);
    return st;
}
