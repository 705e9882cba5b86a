#include "util/cache_dir.h"

#include <stdio.h>
#include <stdlib.h>

bool nncl_cache_folder(char *out, size_t len)
{
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    int n;
    if (xdg && *xdg)
        n = snprintf(out, len, "%s/nncl", xdg);
    else if (home && *home)
        n = snprintf(out, len, "%s/.cache/nncl", home);
    else
        return false;
    return n > 0 && (size_t)n < len;
}
