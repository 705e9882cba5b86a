/* The per-thread last-error message behind nncl_status. */
#include "nncl/status.h"

#include <stdio.h>
#include <string.h>

#define NNCL_ERROR_MAX 16384

static _Thread_local char last_error[NNCL_ERROR_MAX];

const char *nncl_last_error(void) { return last_error; }

void nncl_clear_error(void) { last_error[0] = '\0'; }

const char *nncl_status_name(nncl_status s)
{
    switch (s) {
    case NNCL_OK: return "NNCL_OK";
    case NNCL_E_INVALID: return "NNCL_E_INVALID";
    case NNCL_E_NOMEM: return "NNCL_E_NOMEM";
    case NNCL_E_IO: return "NNCL_E_IO";
    case NNCL_E_FORMAT: return "NNCL_E_FORMAT";
    case NNCL_E_DEVICE: return "NNCL_E_DEVICE";
    case NNCL_E_UNSUPPORTED: return "NNCL_E_UNSUPPORTED";
    case NNCL_E_NOT_FOUND: return "NNCL_E_NOT_FOUND";
    case NNCL_E_INTERRUPTED: return "NNCL_E_INTERRUPTED";
    }
    return "NNCL_E_UNKNOWN";
}

/* Formatted apart first: an argument may be nncl_last_error() itself (a
 * message that wraps the one before it), which vsnprintf into the same
 * buffer would overwrite while reading it. */
static _Thread_local char scratch[NNCL_ERROR_MAX];

nncl_status nncl_failv(nncl_status s, const char *fmt, va_list ap)
{
    vsnprintf(scratch, sizeof scratch, fmt, ap);
    memcpy(last_error, scratch, strlen(scratch) + 1);
    return s;
}

nncl_status nncl_fail(nncl_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    nncl_failv(s, fmt, ap);
    va_end(ap);
    return s;
}

nncl_status nncl_fail_context(nncl_status s, const char *fmt, ...)
{
    char prefix[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    /* Shift the old message right and put "prefix: " in front of it. */
    size_t plen = strlen(prefix);
    size_t olen = strnlen(last_error, NNCL_ERROR_MAX - 1);
    if (plen + 2 + olen >= NNCL_ERROR_MAX)
        olen = NNCL_ERROR_MAX - 1 - plen - 2;
    memmove(last_error + plen + 2, last_error, olen);
    memcpy(last_error, prefix, plen);
    last_error[plen] = ':';
    last_error[plen + 1] = ' ';
    last_error[plen + 2 + olen] = '\0';
    return s;
}
