/* Shared CLI helpers: error printing, exit codes, opening the chosen device. */
#include <stdarg.h>
#include <stdio.h>

#include "cli/cli.h"

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("nncl: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
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
    *dev = NULL;
    nncl_device_list list;
    nncl_status st = nncl_device_list_get(&list);
    if (st != NNCL_OK)
        return cli_fail(st);
    int index;
    st = nncl_device_select(&list, choice, &index);
    if (st != NNCL_OK) {
        nncl_device_list_free(&list);
        cli_error("--device: %s", nncl_last_error());
        return CLI_USAGE;
    }
    st = nncl_device_open(&list.items[index], dev);
    nncl_device_list_free(&list);
    return st == NNCL_OK ? CLI_OK : cli_fail(st);
}
