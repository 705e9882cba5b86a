/* The fused ops' parameters (the byte-input kernels' shape, the optimiser's
 * vector width): the capability table's choice, their text form (the
 * tuning cache stores it, `nncl tune` prints it) and what makes a set
 * valid. One field table (util/int_fields.h) drives the text and the
 * ranges, as for the GEMM (gemm_params.c); the names are the kernels' -D
 * defines. */
#include <stddef.h>

#include "ops/kernel_params.h"
#include "util/int_fields.h"

/* tag 1: an OpenCL vector width the kernels have a case for: 4, 8 or 16 */
#define F(name, member, lo, hi, vector) {name, offsetof(nncl_fused_params, member), lo, hi, vector}
static const nncl_int_field fields[] = {
    F("U8_VW", u8.vw, 4, 16, 1),
    F("U8_DM", u8.dm, 1, 16, 0),
    F("U8_DN", u8.dn, 1, 16, 0),
    F("U8_TM", u8.tm, 1, 16, 0),
    F("OPTIM_VW", optim.vw, 4, 16, 1),
};
#undef F
enum { NFIELDS = sizeof fields / sizeof fields[0] };

static bool field_ok(const nncl_int_field *f, int v)
{
    return v >= f->lo && v <= f->hi && (!f->tag || v == 4 || v == 8 || v == 16);
}

static const char *field_expects(const nncl_int_field *f) { return f->tag ? "4, 8 or 16" : "from 1 to 16"; }

/* The byte kernels hold U8_DM x U8_DN fwd accumulators and U8_TM x 2 wgrad
 * ones, each a vector of U8_VW floats, so the shape follows the register
 * file the native width implies, as the GEMM's does. On 16 registers of 8
 * floats (AVX2), 3 x 3 + 3 vectors of W + a row of bytes, and 5 x 2 + 2:
 * the 16-float shape there (40 registers of accumulators) spilled on every
 * FMA and a tutorial step took 1.6x as long (tools/BENCHMARKS.md), and 3 x 3
 * ran the fwd 1.3-1.6x as fast as the 2 x 5 before it (`nncl tune`, quick
 * and full, on the AVX2 EPYC; the bare `nncl train` on PoCL 0.885x the
 * time, the tutorial 0.95x, tools/bench_ab.sh). GPUs keep the shape they
 * had. The optimiser's 16 floats per work-item run its square roots and
 * divisions as wide as any CPU can; 8 and 4 were no faster on the AVX2
 * EPYC (nncl tune --full). */
void nncl_fused_params_for(const nncl_device_info *info, nncl_fused_params *p)
{
    if (info->local_mem_dedicated || info->native_vector_float >= 16)
        p->u8 = (nncl_u8_params){.vw = 16, .dm = 4, .dn = 5, .tm = 10};
    else if (info->native_vector_float >= 8)
        p->u8 = (nncl_u8_params){.vw = 8, .dm = 3, .dn = 3, .tm = 5};
    else
        p->u8 = (nncl_u8_params){.vw = 4, .dm = 2, .dn = 5, .tm = 5};
    p->optim.vw = 16;
}

nncl_status nncl_fused_params_check(const nncl_fused_params *p)
{
    for (int i = 0; i < NFIELDS; i++)
        if (!field_ok(&fields[i], nncl_int_field_get(p, &fields[i])))
            return nncl_fail(NNCL_E_INVALID, "%s=%d is not %s", fields[i].name, nncl_int_field_get(p, &fields[i]),
                             field_expects(&fields[i]));
    return NNCL_OK;
}

void nncl_fused_params_format(const nncl_fused_params *p, char *out, size_t len)
{
    nncl_int_fields_format(fields, NFIELDS, p, "", NULL, out, len);
}

nncl_status nncl_fused_params_parse(const char *text, nncl_fused_params *p)
{
    return nncl_int_fields_parse(fields, NFIELDS, "fused-op", text, field_ok, field_expects, p, sizeof *p);
}

bool nncl_fused_params_equal(const nncl_fused_params *a, const nncl_fused_params *b)
{
    return nncl_int_fields_equal(fields, NFIELDS, a, b);
}
