/* The pieces both pages are assembled from (see page.h). */
#include <stdlib.h>
#include <string.h>

#include "report/page.h"
#include "report/report_assets.h"
#include "util/atomic_file.h"

void page_put(page *p, const void *s, size_t n)
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

void page_puts(page *p, const char *s) { page_put(p, s, strlen(s)); }

bool page_put_asset(page *p, const char *name)
{
    for (int i = 0; i < report_asset_count; i++)
        if (strcmp(report_assets[i].name, name) == 0) {
            page_put(p, report_assets[i].data, report_assets[i].size);
            return true;
        }
    return false;
}

void page_put_script_safe(page *p, const char *s)
{
    for (const char *q; (q = strchr(s, '<')) != NULL; s = q + 1) {
        page_put(p, s, (size_t)(q - s));
        page_puts(p, "\\u003c");
    }
    page_puts(p, s);
}

void page_put_html_escaped(page *p, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': page_puts(p, "&lt;"); break;
        case '>': page_puts(p, "&gt;"); break;
        case '&': page_puts(p, "&amp;"); break;
        case '"': page_puts(p, "&quot;"); break;
        default: page_put(p, s, 1);
        }
    }
}

void page_head(page *p, const char *title_prefix, const char *title)
{
    page_puts(p, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                 "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                 "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:\">\n"
                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
    page_put_html_escaped(p, title_prefix);
    page_puts(p, " ");
    page_put_html_escaped(p, title);
    page_puts(p, "</title>\n");
}

nncl_status page_finish(page *p, const char *path)
{
    nncl_status st = p->failed ? nncl_fail(NNCL_E_NOMEM, "out of memory writing %s", path)
                               : nncl_write_file_atomic(path, p->buf, p->len);
    free(p->buf);
    memset(p, 0, sizeof *p);
    return st;
}

nncl_status page_write(const char *path, const page_parts *parts)
{
    page p = {0};
    page_head(&p, parts->title_prefix, parts->title);
    page_puts(&p, "<style>");
    for (const char *const *style = parts->styles; *style; style++)
        page_put_asset(&p, *style);
    page_puts(&p, "</style></head>\n<body>\n");
    page_put_asset(&p, parts->body);
    page_puts(&p, "\n<script id=\"nncl-data\" type=\"application/json\">");
    page_put_script_safe(&p, parts->json);
    page_puts(&p, "</script>\n<script id=\"nncl-weights\" type=\"text/plain\">");
    page_put(&p, parts->codes, parts->codes_len);
    page_puts(&p, "</script>\n<script>");
    page_put_asset(&p, "chart.min.js");
    page_puts(&p, "</script>\n<script>");
    page_put_asset(&p, "common.js");
    page_puts(&p, "</script>\n<script>");
    page_put_asset(&p, parts->script);
    page_puts(&p, "</script>\n</body></html>\n");
    return page_finish(&p, path);
}
