/* The error for a file that is not what it should be: NNCL_E_FORMAT with the
 * message "<path>: not a valid <kind>: <why>". */
#ifndef NNCL_BAD_FILE_H
#define NNCL_BAD_FILE_H

#include "nncl/status.h"

/* kind names the file's type ("nncl checkpoint"); fmt and what follows say why. */
nncl_status nncl_bad_file(const char *path, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
