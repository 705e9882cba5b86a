/* The error for a file that is not what it should be. */
#include "util/bad_file.h"

#include <stdarg.h>
#include <stdio.h>

nncl_status nncl_bad_file(const char *path, const char *kind, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return nncl_fail(NNCL_E_FORMAT, "%s: not a valid %s: %s", path, kind, msg);
}
