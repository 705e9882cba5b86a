/* What the pages a person looks at (report.html, compare.html) are built
 * with: a growing buffer, the head with its Content-Security-Policy (no
 * request to any host), JSON made safe inside <script>, and the embedded
 * assets (styles, scripts, Chart.js) looked up by name. */
#ifndef NNCL_REPORT_PAGE_H
#define NNCL_REPORT_PAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "nncl/status.h"

typedef struct page {
    char *buf;
    size_t len, cap;
    bool failed;        /* out of memory: everything after is dropped */
} page;

void page_put(page *p, const void *s, size_t n);
void page_puts(page *p, const char *s);
/* s with every '<' written as \u003c (JSON reads it back as '<'), so that
 * neither "</script" nor "<!--" can appear inside a <script> element. */
void page_put_script_safe(page *p, const char *s);
void page_put_html_escaped(page *p, const char *s);
/* An embedded asset by its file name ("report.css"); false when there is none. */
bool page_put_asset(page *p, const char *name);
/* "<!doctype html>" to "<title>TITLE_PREFIX TITLE</title>": the charset, the
 * Content-Security-Policy and the viewport. */
void page_head(page *p, const char *title_prefix, const char *title);
/* Write the page to path atomically and free it; NNCL_E_NOMEM when a put failed. */
nncl_status page_finish(page *p, const char *path);

/* What tells one page from the other; the rest of the layout is shared. */
typedef struct page_parts {
    const char *title_prefix, *title;   /* for page_head */
    const char *const *styles;          /* style assets, NULL-terminated */
    const char *body;                   /* the body's asset ("report.html") */
    const char *json;                   /* the data, as JSON */
    const char *codes;                  /* the weights' codes, as text */
    size_t codes_len;
    const char *script;                 /* the page's own script asset */
} page_parts;

/* A whole page written to path: the head, the styles, the body, the data and
 * the codes in <script> blocks that are not run (the page's script reads them
 * by id: nncl-data, nncl-weights), then Chart.js, common.js and the page's
 * own script. */
nncl_status page_write(const char *path, const page_parts *parts);

#endif
