/* nncl_host_amx (nncl/device.h): whether the CPU has AMX and Linux lets
 * this process use it, for the host backend's fused byte step
 * (src/ops/u8_amx_host.c). Built with the baseline flags, unlike the tile
 * loops, so it runs on any x86-64.
 *
 * Linux keeps the tile state (8 KB per thread) off until a process asks
 * for it (arch_prctl ARCH_REQ_XCOMP_PERM, Linux 5.16 on); a tile
 * instruction before that kills the process with SIGILL. The answer is
 * asked once and kept. NNCL_U8H_AMX=off says no (read at each call) (an A/B of
 * the two paths, and the tests' run of the vector loops on AMX machines). */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "nncl/device.h"
#include "nncl_config.h"

#if NNCL_HAVE_AMX_KERNELS && defined(__linux__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18 };

static bool ask(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return false;
    /* CPUID.7.0: EDX bit 24 AMX-TILE, bit 25 AMX-INT8 */
    if (!(d & (1u << 24)) || !(d & (1u << 25)))
        return false;
    if (!__builtin_cpu_supports("avx512bw") || !__builtin_cpu_supports("avx512dq"))
        return false;
    return syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
}
#else
static bool ask(void) { return false; }
#endif

bool nncl_host_amx(void)
{
    const char *env = getenv("NNCL_U8H_AMX");
    if (env && strcmp(env, "off") == 0)
        return false;
    /* 0 not asked yet, 1 no, 2 yes; two threads asking at once is harmless */
    static atomic_int known;
    int k = atomic_load(&known);
    if (k == 0) {
        k = ask() ? 2 : 1;
        atomic_store(&known, k);
    }
    return k == 2;
}
