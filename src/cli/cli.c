/* Shared CLI helpers: error printing, exit codes, opening the chosen device. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/clock.h"

static void say(const char *what, const char *fmt, va_list ap)
{
    fprintf(stderr, "nncl: %s: ", what);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say("error", fmt, ap);
    va_end(ap);
}

void cli_warning(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say("warning", fmt, ap);
    va_end(ap);
}

/* --quiet: what a first use is doing goes unsaid; warnings still reach stderr. */
static bool notices_quiet;

void cli_quiet_notices(bool quiet) { notices_quiet = quiet; }

void cli_notice(void *ctx, nncl_notice_level level, const char *text)
{
    (void)ctx;
    if (level == NNCL_NOTICE_INFO && notices_quiet)
        return;
    if (level == NNCL_NOTICE_VERBOSE) {
        const char *v = getenv("NNCL_VERBOSE");
        if (!v || !*v || strcmp(v, "0") == 0)
            return;
        fprintf(stderr, "nncl: %s\n", text);
    } else if (level == NNCL_NOTICE_WARNING) {
        cli_warning("%s", text);
    } else {
        fprintf(stderr, "nncl: %s\n", text);
    }
    fflush(stderr);
}

int cli_exit_code(nncl_status st)
{
    switch (st) {
    case NNCL_OK: return CLI_OK;
    case NNCL_E_INVALID:
    case NNCL_E_FORMAT:
    case NNCL_E_NOT_FOUND:
    case NNCL_E_IO: return CLI_USAGE;
    default: return CLI_FAILED;
    }
}

int cli_fail(nncl_status st)
{
    cli_error("%s", nncl_last_error());
    return cli_exit_code(st);
}

int cli_open_device(const char *choice, nncl_device **dev)
{
    cli_open_times ignored;
    return cli_open_device_timed(choice, dev, &ignored);
}

int cli_open_device_timed(const char *choice, nncl_device **dev, cli_open_times *times)
{
    *dev = NULL;
    memset(times, 0, sizeof *times);
    /* "host" needs no listing: OpenCL is never asked (a broken driver
     * cannot stop the host fallback; a GPU's does not start for nothing) */
    nncl_device_list list;
    nncl_status st = nncl_device_list_for(choice, &list);
    if (st != NNCL_OK)
        return cli_fail(st);
    times->opencl_listed = list.opencl_listed;
    times->listing_seconds = list.seconds;
    times->loader_seconds = list.loader_seconds;
    times->n_platforms = list.n_platform_times;
    memcpy(times->platforms, list.platform_times, sizeof times->platforms);
    int index;
    st = nncl_device_select(&list, choice, &index);
    if (st != NNCL_OK) {
        nncl_device_list_free(&list);
        cli_error("--device: %s", nncl_last_error());
        return CLI_USAGE;
    }
    /* A default that passed over a device found computing wrong results
     * says so: a user with a GPU should not silently train on a CPU. */
    for (int i = 0; (!choice || !*choice) && i < index; i++)
        if (list.items[i].wrong_results)
            cli_warning("device %d (%s) computes wrong results with its kernels here (its tuning search "
                        "found), so the default is device %d (%s); `nncl check --device %d` says which ops",
                        i, list.items[i].name, index, list.items[index].name, i);
    double t0 = nncl_seconds_now();
    st = nncl_device_open(&list.items[index], dev);
    times->opening_seconds = nncl_seconds_now() - t0;
    nncl_device_list_free(&list);
    return st == NNCL_OK ? CLI_OK : cli_fail(st);
}

const char *cli_device_number(const nncl_device_info *info, char buf[16])
{
    if (info->index < 0)
        return "host";
    snprintf(buf, 16, "%d", info->index);
    return buf;
}

static int by_seconds(const void *a, const void *b)
{
    double x = ((const nncl_op_stat *)a)->seconds, y = ((const nncl_op_stat *)b)->seconds;
    return (x < y) - (x > y);
}

void cli_print_profile(const nncl_device *dev)
{
    nncl_op_stat st[64];
    int n = nncl_device_profile(dev, st, 64);
    if (n == 0)
        return;
    if (n > 64)
        n = 64;
    qsort(st, (size_t)n, sizeof st[0], by_seconds);
    double total = 0;
    for (int i = 0; i < n; i++)
        total += st[i].seconds;
    fprintf(stderr, "\nprofile (every op waited for; %s)\n", nncl_device_get_info(dev)->name);
    fprintf(stderr, "  %-18s %9s %11s %10s %7s\n", "op", "calls", "total ms", "us/call", "share");
    for (int i = 0; i < n; i++)
        fprintf(stderr, "  %-18s %9lu %11.1f %10.1f %6.1f%%\n", st[i].op, st[i].calls, st[i].seconds * 1e3,
                st[i].seconds * 1e6 / (double)st[i].calls, 100 * st[i].seconds / (total > 0 ? total : 1));
    fprintf(stderr, "  %-18s %9s %11.1f\n", "total", "", total * 1e3);
}
