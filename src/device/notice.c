/* The notice handler: the library's way to say something to a person
 * without printing (only the CLI prints). */
#include <stdarg.h>
#include <stdio.h>

#include "device/notice.h"

static nncl_notice_fn handler;
static void *handler_ctx;

void nncl_set_notice_handler(nncl_notice_fn fn, void *ctx)
{
    handler = fn;
    handler_ctx = ctx;
}

void nncl_notice(nncl_notice_level level, const char *fmt, ...)
{
    if (!handler)
        return;
    char text[16384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    handler(handler_ctx, level, text);
}
