/* The GEMM parameters' text form (the tuning cache stores it, `nncl tune`
 * prints it), their defines, and what makes a set valid. One field table
 * (util/int_fields.h) drives all of them, so a new parameter is one line. */
#include <stddef.h>

#include "ops/gemm_impl.h"
#include "util/int_fields.h"

/* tag: the path that reads the field, -1 both, 0 register-blocked, 1 local-memory */
#define F(name, member, lo, hi, path) {name, offsetof(nncl_gemm_params, member), lo, hi, path}
static const nncl_int_field fields[] = {
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
    F("WL", wl, 0, 8, 1),
};
#undef F
enum { NFIELDS = sizeof fields / sizeof fields[0] };

static int get(const nncl_gemm_params *p, const nncl_int_field *f) { return nncl_int_field_get(p, f); }

/* Whether the path p takes reads f. */
static bool used_by_path(const nncl_int_field *f, const void *p)
{
    return f->tag < 0 || f->tag == ((const nncl_gemm_params *)p)->use_local;
}

void nncl_gemm_params_format(const nncl_gemm_params *p, char *out, size_t len)
{
    nncl_int_fields_format(fields, NFIELDS, p, "", NULL, out, len);
}

void nncl_gemm_params_describe(const nncl_gemm_params *p, char *out, size_t len)
{
    nncl_int_fields_format(fields, NFIELDS, p, "", used_by_path, out, len);
}

void nncl_gemm_params_defines(const nncl_gemm_params *p, char *out, size_t len)
{
    nncl_int_fields_format(fields, NFIELDS, p, "-D", NULL, out, len);
}

nncl_status nncl_gemm_params_parse(const char *text, nncl_gemm_params *p)
{
    return nncl_int_fields_parse(fields, NFIELDS, "gemm", text, NULL, NULL, p, sizeof *p);
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
    if (p->wl && ((p->wl != 4 && p->wl != 8) || (p->tsn / p->wptn) % p->wl || (p->tsm / p->wptm) % (32 / p->wl)))
        return nncl_fail(NNCL_E_INVALID, "WL=%d: not 4 or 8 dividing %d work-items along columns, with 32/WL "
                         "dividing %d along rows", p->wl, p->tsn / p->wptn, p->tsm / p->wptm);
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
    return nncl_int_fields_equal(fields, NFIELDS, a, b);
}
