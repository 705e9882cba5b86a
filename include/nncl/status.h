/* nncl/status.h: how every public function reports success or failure.
 *
 * Every function that can fail returns an nncl_status. On failure it also
 * leaves a human-readable message, retrievable with nncl_last_error(), that
 * names what went wrong (the file and line, the OpenCL call and error name,
 * the flag ...). The message is per thread, like errno. The library never
 * prints and never exits: only the CLI does. */
#ifndef NNCL_STATUS_H
#define NNCL_STATUS_H

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum nncl_status {
    NNCL_OK = 0,
    NNCL_E_INVALID,     /* a bad argument or option from the caller */
    NNCL_E_NOMEM,       /* host allocation failed */
    NNCL_E_IO,          /* a file could not be opened, read or written */
    NNCL_E_FORMAT,      /* a file's contents are not what was expected */
    NNCL_E_DEVICE,      /* the device or its driver reported an error */
    NNCL_E_UNSUPPORTED, /* this device or build cannot do what was asked */
    NNCL_E_NOT_FOUND,   /* a named thing (device, dataset, column) does not exist */
    NNCL_E_INTERRUPTED, /* stopped by the user (SIGINT) */
} nncl_status;

/* The message of the most recent failure on this thread ("" if none). */
const char *nncl_last_error(void);

/* A short constant name for a status ("NNCL_E_FORMAT"). */
const char *nncl_status_name(nncl_status s);

/* Record a failure: format the message, store it, return s. Meant for
 * `return nncl_fail(NNCL_E_IO, "%s: cannot open: %s", path, strerror(errno));` */
nncl_status nncl_fail(nncl_status s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
nncl_status nncl_failv(nncl_status s, const char *fmt, va_list ap);

/* Prefix the current message with more context ("while loading model: ...")
 * and return s unchanged. */
nncl_status nncl_fail_context(nncl_status s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Forget the last message. */
void nncl_clear_error(void);

#ifdef __cplusplus
}
#endif
#endif
