/* A struct's int members named by a table (int_fields.h). */
#include "util/int_fields.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_FIELDS = 64, MAX_SIZE = 512 };

int nncl_int_field_get(const void *obj, const nncl_int_field *f)
{
    return *(const int *)((const char *)obj + f->offset);
}

void nncl_int_fields_format(const nncl_int_field *f, size_t n, const void *obj, const char *prefix,
                            bool (*keep)(const nncl_int_field *f, const void *obj), char *out, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && used < len; i++) {
        if (keep && !keep(&f[i], obj))
            continue;
        used += (size_t)snprintf(out + used, len - used, "%s%s%s=%d", used ? " " : "", prefix, f[i].name,
                                 nncl_int_field_get(obj, &f[i]));
    }
}

/* A decimal int at s, ending at a space or the text's end: *v, and *end
 * after it. Digits right after the '=' (strtol alone would skip spaces). */
static bool read_value(const char *s, long *v, char **end)
{
    if (!isdigit((unsigned char)s[s[0] == '-']))
        return false;
    *v = strtol(s, end, 10);
    return **end == '\0' || **end == ' ';
}

nncl_status nncl_int_fields_parse(const nncl_int_field *f, size_t n, const char *what, const char *text,
                                  bool (*ok)(const nncl_int_field *f, int v),
                                  const char *(*expect)(const nncl_int_field *f), void *obj, size_t size)
{
    if (n > MAX_FIELDS || size > MAX_SIZE)
        return nncl_fail(NNCL_E_INVALID, "%s parameters: a table of %zu fields for %zu bytes (at most %d, %d)", what,
                         n, size, MAX_FIELDS, MAX_SIZE);
    _Alignas(max_align_t) char q[MAX_SIZE] = {0}; /* obj as read so far */
    bool seen[MAX_FIELDS] = {false};
    const char *s = text;
    for (;;) {
        while (*s == ' ')
            s++;
        if (!*s)
            break;
        size_t len = strcspn(s, "= ");
        size_t i = 0;
        while (i < n && !(strlen(f[i].name) == len && strncmp(f[i].name, s, len) == 0))
            i++;
        if (i == n || s[len] != '=')
            return nncl_fail(NNCL_E_FORMAT, "%s parameters: unknown '%.*s'", what, (int)len, s);
        if (seen[i])
            return nncl_fail(NNCL_E_FORMAT, "%s parameters: %s given twice", what, f[i].name);
        const char *at = s + len + 1;
        long v;
        char *end;
        if (!read_value(at, &v, &end) || v < f[i].lo || v > f[i].hi || (ok && !ok(&f[i], (int)v))) {
            char range[48];
            snprintf(range, sizeof range, "from %d to %d", f[i].lo, f[i].hi);
            return nncl_fail(NNCL_E_FORMAT, "%s parameters: %s=%.*s is not %s", what, f[i].name,
                             (int)strcspn(at, " "), at, expect ? expect(&f[i]) : range);
        }
        *(int *)(q + f[i].offset) = (int)v;
        seen[i] = true;
        s = end;
    }
    for (size_t i = 0; i < n; i++)
        if (!seen[i])
            return nncl_fail(NNCL_E_FORMAT, "%s parameters: %s missing", what, f[i].name);
    memcpy(obj, q, size);
    return NNCL_OK;
}

bool nncl_int_fields_equal(const nncl_int_field *f, size_t n, const void *a, const void *b)
{
    for (size_t i = 0; i < n; i++)
        if (nncl_int_field_get(a, &f[i]) != nncl_int_field_get(b, &f[i]))
            return false;
    return true;
}
