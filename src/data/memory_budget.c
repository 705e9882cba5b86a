/* The data readers' memory budget: how many bytes one file's rows may take.
 *
 * A reader checks what a file would need against it before allocating, so
 * a header that claims terabytes, or a table too big for the machine, is an
 * error that says so instead of an allocation that the kernel's OOM killer
 * ends later. The default is half the memory the process may use: the
 * physical RAM, or the cgroup's memory.max when that is lower (a container).
 * NNCL_MEMORY_LIMIT overrides it. */
#include "nncl/data.h"
#include "data/data_internal.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* "1.5 GiB", "512 MiB", "1000 bytes". */
void nncl_format_bytes(double bytes, char *out, size_t cap)
{
    static const char *const unit[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    int u = 0;
    while (bytes >= 1024 && u < 6) { bytes /= 1024; u++; }
    if (u == 0) snprintf(out, cap, "%.0f bytes", bytes);
    else if (bytes == (double)(long long)bytes) snprintf(out, cap, "%.0f %s", bytes, unit[u]);
    else snprintf(out, cap, "%.*f %s", bytes < 10 ? 2 : bytes < 100 ? 1 : 0, bytes, unit[u]);
}

/* "123", "512K", "4G", "1.5T" (powers of 1024): bytes, or 0 when malformed. */
static double parse_size(const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !(v > 0)) return 0;
    while (*end == ' ') end++;
    double mul = 1;
    switch (toupper((unsigned char)*end)) {
    case 'K': mul = 1024.0; end++; break;
    case 'M': mul = 1024.0 * 1024; end++; break;
    case 'G': mul = 1024.0 * 1024 * 1024; end++; break;
    case 'T': mul = 1024.0 * 1024 * 1024 * 1024; end++; break;
    default: break;
    }
    if (mul > 1 && toupper((unsigned char)*end) == 'I') end++;   /* "GiB" */
    if (mul > 1 && toupper((unsigned char)*end) == 'B') end++;
    if (mul == 1 && toupper((unsigned char)*end) == 'B') end++;  /* "100B" */
    while (*end == ' ') end++;
    return *end ? 0 : v * mul;
}

/* The cgroup v2 memory.max of this process, or 0 when there is none. */
static double cgroup_limit(void)
{
    FILE *f = fopen("/proc/self/cgroup", "r");
    if (!f) return 0;
    char line[512], path[600];
    path[0] = '\0';
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "0::", 3) == 0) {
            line[strcspn(line, "\n")] = '\0';
            snprintf(path, sizeof path, "/sys/fs/cgroup%s/memory.max", line + 3);
            break;
        }
    fclose(f);
    if (!path[0] || !(f = fopen(path, "r"))) return 0;
    char v[64] = "";
    bool got = fgets(v, sizeof v, f) != NULL;
    fclose(f);
    if (!got || !isdigit((unsigned char)v[0])) return 0;   /* "max": no limit */
    return strtod(v, NULL);
}

/* The memory the process may use, found once (readers ask on every call;
 * the fuzzers call them thousands of times a second). */
static double usable_total;
static bool usable_from_cgroup;
static pthread_once_t usable_once = PTHREAD_ONCE_INIT;

static void find_usable(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    double ram = pages > 0 && page > 0 ? (double)pages * (double)page : 0;
    double cg = cgroup_limit();
    usable_from_cgroup = cg > 0 && (ram == 0 || cg < ram);
    usable_total = usable_from_cgroup ? cg : ram;
    if (usable_total <= 0) usable_total = 8.0 * 1024 * 1024 * 1024;   /* unknown: assume 8 GiB */
}

nncl_status nncl_data_memory_budget(size_t *bytes, char *why, size_t why_len)
{
    char tmp[160];
    if (!why) { why = tmp; why_len = sizeof tmp; }
    const char *env = getenv("NNCL_MEMORY_LIMIT");
    if (env && *env) {
        double v = parse_size(env);
        if (v < 1)
            return nncl_fail(NNCL_E_INVALID, "NNCL_MEMORY_LIMIT='%s': expected a size in bytes, "
                             "optionally with K, M, G or T (powers of 1024), such as 512M or 8G",
                             env);
        *bytes = v >= (double)SIZE_MAX ? SIZE_MAX : (size_t)v;
        snprintf(why, why_len, "NNCL_MEMORY_LIMIT=%s", env);
        return NNCL_OK;
    }
    pthread_once(&usable_once, find_usable);
    double total = usable_total, half = total / 2;
    *bytes = half >= (double)SIZE_MAX ? SIZE_MAX : (size_t)half;
    char t[32];
    nncl_format_bytes(total, t, sizeof t);
    snprintf(why, why_len, "half of the %s %s; set NNCL_MEMORY_LIMIT to change it", t,
             usable_from_cgroup ? "that the cgroup allows" : "of RAM");
    return NNCL_OK;
}

nncl_status nncl_check_budget(const char *path, const char *what, double bytes)
{
    size_t budget;
    char why[160];
    nncl_status st = nncl_data_memory_budget(&budget, why, sizeof why);
    if (st) return st;
    if (bytes <= (double)budget) return NNCL_OK;
    char need[32], have[32];
    nncl_format_bytes(bytes, need, sizeof need);
    nncl_format_bytes((double)budget, have, sizeof have);
    return nncl_fail(NNCL_E_FORMAT, "%s: %s would take %s of memory, more than the data "
                     "memory budget of %s (%s)", path, what, need, have, why);
}
