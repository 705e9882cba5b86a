/* Lexical path arithmetic: absolute and relative forms of a path. */
#include "cli/paths.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Append the components of path to out (at *n), dropping empty and "."
 * components. While out holds only a physical path (*physical: the
 * current directory from getcwd, or "/"), a ".." removes its last
 * component: that is exactly where the system's ".." leads. */
static bool append_components(const char *path, char *out, size_t len, size_t *n, bool *physical)
{
    const char *p = path;
    while (*p) {
        while (*p == '/')
            p++;
        const char *end = strchr(p, '/');
        size_t c = end ? (size_t)(end - p) : strlen(p);
        if (c == 2 && p[0] == '.' && p[1] == '.' && *physical) {
            while (*n > 0 && out[*n - 1] != '/')
                (*n)--;
            if (*n > 1)
                (*n)--;         /* the slash before it, but not the root */
            out[*n] = '\0';
        } else if (c > 0 && !(c == 1 && p[0] == '.')) {
            *physical = false;
            if (*n + 1 + c + 1 > len)
                return false;
            if (*n == 0 || out[*n - 1] != '/')
                out[(*n)++] = '/';
            memcpy(out + *n, p, c);
            *n += c;
            out[*n] = '\0';
        }
        p += c;
    }
    return true;
}

bool path_absolute(const char *path, char *out, size_t len)
{
    char cwd[4096];
    size_t n = 0;
    bool physical = false;
    if (len < 2)
        return false;
    out[0] = '\0';
    if (path[0] != '/') {
        if (!getcwd(cwd, sizeof cwd) || !append_components(cwd, out, len, &n, &physical))
            return false;
    }
    physical = true;
    if (!append_components(path, out, len, &n, &physical))
        return false;
    if (n == 0)
        snprintf(out, len, "/");
    return true;
}

/* The length of the next component of p (after any slashes, skipped in *p). */
static size_t component(const char **p)
{
    while (**p == '/')
        (*p)++;
    const char *end = strchr(*p, '/');
    return end ? (size_t)(end - *p) : strlen(*p);
}

bool path_relative(const char *target, const char *base, char *out, size_t len)
{
    const char *t = target, *b = base;
    /* Skip the components both share. */
    for (;;) {
        const char *t2 = t, *b2 = b;
        size_t tc = component(&t2), bc = component(&b2);
        if (tc == 0 || tc != bc || memcmp(t2, b2, tc) != 0)
            break;
        t = t2 + tc;
        b = b2 + bc;
    }
    size_t n = 0;
    out[0] = '\0';
    /* One ".." for each component of base left. */
    for (size_t c; (c = component(&b)) > 0; b += c) {
        if (n + 3 + 1 > len)
            return false;
        memcpy(out + n, n ? "/.." : "..", n ? 3 : 2);
        n += n ? 3 : 2;
        out[n] = '\0';
    }
    for (size_t c; (c = component(&t)) > 0; t += c) {
        if (n + 1 + c + 1 > len)
            return false;
        if (n)
            out[n++] = '/';
        memcpy(out + n, t, c);
        n += c;
        out[n] = '\0';
    }
    if (n == 0)
        snprintf(out, len, ".");
    return true;
}
