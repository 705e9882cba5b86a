/* nncl's cache folder: $XDG_CACHE_HOME/nncl, or ~/.cache/nncl (the XDG
 * base directory rule), shared by the program cache and the tuning cache. */
#ifndef NNCL_CACHE_DIR_H
#define NNCL_CACHE_DIR_H

#include <stdbool.h>
#include <stddef.h>

/* The folder's path into out (not created); false when neither variable is
 * set, or the path does not fit. */
bool nncl_cache_folder(char *out, size_t len);

#endif
