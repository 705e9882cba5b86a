/* The GEMM parameters' text form (the tuning cache stores it, `nncl tune`
 * prints it), their defines, and what makes a set valid. One field table
 * drives all of them, so a new parameter is one line. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/gemm_impl.h"

typedef struct field {
    const char *name;           /* the kernel's define */
    size_t offset;
    int lo, hi;                 /* accepted range */
    int path;                   /* -1 both paths, 0 register-blocked, 1 local-memory */
} field;

#define F(name, member, lo, hi, path) {name, offsetof(nncl_gemm_params, member), lo, hi, path}
static const field fields[] = {
    F("USE_LOCAL", use_local, 0, 1, -1),
    F("VW", vw, 1, 16, 0),
    F("TM", tm, 1, 32, 0),
    F("TNV", tnv, 1, 8, 0),
    F("DM", dm, 1, 16, 0),
    F("DN", dn, 1, 16, 0),
    F("LX", lx, 1, 1024, 0),
    F("LY", ly, 1, 1024, 0),
    F("PK", pk, 0, 1, 0),
    F("TSM", tsm, 1, 256, 1),
    F("TSN", tsn, 1, 256, 1),
    F("TSK", tsk, 1, 128, 1),
    F("WPTM", wptm, 1, 32, 1),
    F("WPTN", wptn, 1, 32, 1),
    F("LVW", lvw, 0, 4, 1),
    F("PF", pf, 0, 1, 1),
    F("GVW", gvw, 0, 4, 1),
    F("KU", ku, 0, 1, 1),
    F("DB", db, 0, 1, 1),
    F("RC", rc, 0, 255, 1),
};
#undef F
enum { NFIELDS = sizeof fields / sizeof fields[0] };

static int *at(nncl_gemm_params *p, const field *f) { return (int *)((char *)p + f->offset); }
static int get(const nncl_gemm_params *p, const field *f) { return *(const int *)((const char *)p + f->offset); }

static void format(const nncl_gemm_params *p, char *out, size_t len, const char *prefix, bool only_used)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < NFIELDS && used < len; i++) {
        if (only_used && fields[i].path >= 0 && fields[i].path != p->use_local)
            continue;
        used += (size_t)snprintf(out + used, len - used, "%s%s%s=%d", used ? " " : "", prefix, fields[i].name,
                                 get(p, &fields[i]));
    }
}

void nncl_gemm_params_format(const nncl_gemm_params *p, char *out, size_t len) { format(p, out, len, "", false); }

void nncl_gemm_params_describe(const nncl_gemm_params *p, char *out, size_t len) { format(p, out, len, "", true); }

void nncl_gemm_params_defines(const nncl_gemm_params *p, char *out, size_t len) { format(p, out, len, "-D", false); }

nncl_status nncl_gemm_params_parse(const char *text, nncl_gemm_params *p)
{
    nncl_gemm_params q = {0};
    bool seen[NFIELDS] = {false};
    const char *s = text;
    while (*s) {
        while (*s == ' ')
            s++;
        if (!*s)
            break;
        size_t n = strcspn(s, "= ");
        int i = 0;
        while (i < NFIELDS && !(strlen(fields[i].name) == n && strncmp(fields[i].name, s, n) == 0))
            i++;
        if (i == NFIELDS || s[n] != '=')
            return nncl_fail(NNCL_E_FORMAT, "gemm parameters: unknown '%.*s'", (int)n, s);
        char *end;
        long v = strtol(s + n + 1, &end, 10);
        if (end == s + n + 1 || (*end && *end != ' ') || v < fields[i].lo || v > fields[i].hi)
            return nncl_fail(NNCL_E_FORMAT, "gemm parameters: %s out of range [%d, %d]", fields[i].name,
                             fields[i].lo, fields[i].hi);
        *at(&q, &fields[i]) = (int)v;
        seen[i] = true;
        s = end;
    }
    for (int i = 0; i < NFIELDS; i++)
        if (!seen[i])
            return nncl_fail(NNCL_E_FORMAT, "gemm parameters: %s missing", fields[i].name);
    *p = q;
    return NNCL_OK;
}

nncl_status nncl_gemm_params_check(const nncl_gemm_params *p, size_t max_work_group, uint64_t local_mem)
{
    for (int i = 0; i < NFIELDS; i++)
        if (get(p, &fields[i]) < fields[i].lo || get(p, &fields[i]) > fields[i].hi)
            return nncl_fail(NNCL_E_INVALID, "%s=%d out of range", fields[i].name, get(p, &fields[i]));
    if (!p->use_local) {
        if (p->vw != 1 && p->vw != 2 && p->vw != 4 && p->vw != 8 && p->vw != 16)
            return nncl_fail(NNCL_E_INVALID, "VW=%d is not an OpenCL vector width", p->vw);
        if ((size_t)p->lx * (size_t)p->ly > max_work_group)
            return nncl_fail(NNCL_E_INVALID, "work-group %dx%d above the device's %zu", p->lx, p->ly,
                             max_work_group);
        return NNCL_OK;
    }
    if (p->tsm % p->wptm || p->tsn % p->wptn)
        return nncl_fail(NNCL_E_INVALID, "tiles %dx%d not divisible by %dx%d outputs per work-item", p->tsm, p->tsn,
                         p->wptm, p->wptn);
    int lvw = p->lvw > 1 ? p->lvw : 1;
    if (lvw == 3 || p->wptm % lvw || p->wptn % lvw)
        return nncl_fail(NNCL_E_INVALID, "LVW=%d: not 1, 2 or 4 dividing %dx%d outputs per work-item", p->lvw,
                         p->wptm, p->wptn);
    size_t wg = (size_t)(p->tsm / p->wptm) * (size_t)(p->tsn / p->wptn);
    /* GVW (cl/gemm.cl): no run of GVW floats crosses one of a tile's rows */
    if (p->gvw == 3 || (p->gvw > 1 && (p->tsk % p->gvw || p->tsm % p->gvw || p->tsn % p->gvw)))
        return nncl_fail(NNCL_E_INVALID, "GVW=%d: not 1, 2 or 4 dividing the tiles %dx%dx%d", p->gvw, p->tsm,
                         p->tsn, p->tsk);
    if (p->db && !p->pf)
        return nncl_fail(NNCL_E_INVALID, "DB=1 needs PF=1 (the second local tile is filled from the prefetch)");
    if (p->rc && p->rc < 32)
        return nncl_fail(NNCL_E_INVALID, "RC=%d: 0 (the compiler's choice) or at least 32 registers", p->rc);
    if (wg > max_work_group)
        return nncl_fail(NNCL_E_INVALID, "work-group of %zu above the device's %zu", wg, max_work_group);
    /* Asub and Bsub, rows padded by LPAD = LVW, two of each with DB (cl/gemm.cl) */
    uint64_t bytes = (uint64_t)p->tsk * (uint64_t)(p->tsm + lvw + p->tsn + lvw) * 4 * (p->db ? 2 : 1);
    if (bytes > local_mem)
        return nncl_fail(NNCL_E_INVALID, "%llu bytes of local memory above the device's %llu",
                         (unsigned long long)bytes, (unsigned long long)local_mem);
    return NNCL_OK;
}

bool nncl_gemm_params_equal(const nncl_gemm_params *a, const nncl_gemm_params *b)
{
    for (int i = 0; i < NFIELDS; i++)
        if (get(a, &fields[i]) != get(b, &fields[i]))
            return false;
    return true;
}
