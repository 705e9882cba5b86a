/* Which kernels OpenBLAS runs on this CPU, and whether that is the CPU's
 * own kind. Debian's OpenBLAS picks its kernels at load time from CPUID;
 * on some virtual machines it has taken an AVX-512 Xeon for a "Prescott"
 * (SSE3) and run the host backend's GEMMs at half their speed or less. It
 * reads OPENBLAS_CORETYPE when it loads, before nncl's main runs, so nncl
 * can only say so and name the setting; it never re-executes itself. */
#include <stdio.h>
#include <string.h>

#include "nncl/device.h"
#include "nncl_config.h"

#if NNCL_HAVE_CBLAS
#include <cblas.h>
#endif

/* The widest vector ISA /proc/cpuinfo's flags show: 512, 256 (AVX2 + FMA) or 0. */
static int cpu_vector_bits(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return 0;
    char line[8192];
    int bits = 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "flags", 5) == 0) {
            if (strstr(line, " avx512f"))
                bits = 512;
            else if (strstr(line, " avx2") && strstr(line, " fma"))
                bits = 256;
            break;
        }
    fclose(f);
    return bits;
}

static bool named_one_of(const char *core, const char *const *names)
{
    for (; *names; names++)
        if (strcmp(core, *names) == 0)
            return true;
    return false;
}

const char *nncl_host_blas_core(void)
{
#if NNCL_HAVE_CBLAS
    const char *core = openblas_get_corename();
    return core ? core : "";
#else
    return "";
#endif
}

bool nncl_host_blas_note(char *out, size_t len)
{
    static const char *const avx512[] = {"SkylakeX", "Cooperlake", "SapphireRapids", NULL};
    static const char *const avx2[] = {"Haswell", "Zen", "Excavator", "SkylakeX", "Cooperlake", "SapphireRapids",
                                       NULL};
    const char *core = nncl_host_blas_core();
    int bits = cpu_vector_bits();
    if (!*core || bits == 0)
        return false;
    const char *want = bits == 512 ? "SkylakeX" : "Haswell";
    if (named_one_of(core, bits == 512 ? avx512 : avx2))
        return false;
    snprintf(out, len,
             "OpenBLAS runs its %s kernels on this CPU, which has %s: the host backend's products run at half "
             "their speed or less; start nncl with OPENBLAS_CORETYPE=%s (OpenBLAS reads it only when it loads)",
             core, bits == 512 ? "AVX-512" : "AVX2 and FMA", want);
    return true;
}
