#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "util/mkdir_p.h"

nncl_status nncl_mkdir_p(const char *path)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return nncl_fail(NNCL_E_INVALID, "%s: the path is too long", path);
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return nncl_fail(NNCL_E_IO, "%s: cannot create: %s", buf, strerror(errno));
        *p = c;
        if (!c)
            return NNCL_OK;
    }
}
