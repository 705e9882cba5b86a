/* Shared pieces of the command-line interface: the only part of nncl that
 * prints to the terminal and decides exit codes. */
#ifndef NNCL_CLI_H
#define NNCL_CLI_H

#include <stdbool.h>

#include "nncl/nncl.h"

/* Exit codes: 0 success, 1 a failure while running, 2 bad usage or input. */
enum { CLI_OK = 0, CLI_FAILED = 1, CLI_USAGE = 2 };

/* Options every command shares, parsed before the command's own. */
typedef struct cli_globals {
    const char *device;     /* --device CHOICE, or NULL for the default */
    bool json;              /* --json */
    double started;         /* nncl_seconds_now() when main began */
} cli_globals;

/* The whole command line (command_line.c): main() keeps it, so a run can
 * record the global options given before its subcommand. argv[0] is the
 * program, argv[command_at] the subcommand. Returns argc, 0 when unset. */
void cli_command_line_set(int argc, char **argv, int command_at);
int cli_command_line(char ***argv, int *command_at);
/* As a JSON array of strings, for a record: the global options of the
 * command line, then argv (the subcommand's: "train ..."). */
struct json_t;
struct json_t *cli_command_json(int argc, char **argv);

/* "nncl: error: ..." on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "nncl: warning: ..." on stderr. */
void cli_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Exit code for a failed library call: 2 for bad input, 1 otherwise. */
int cli_exit_code(nncl_status st);

/* Print the library's last error and return the matching exit code. */
int cli_fail(nncl_status st);

/* A device's number for the user: its index in the listing, or "host" for
 * the host opened alone (nncl_device_list_host), which has none. */
const char *cli_device_number(const nncl_device_info *info, char buf[16]);

/* List devices (for "host", or NNCL_DEVICE=host with no choice, the host
 * alone: nncl_device_list_host), select `choice`, open it. On failure prints and returns the
 * exit code; on success returns 0 and fills *dev (close with
 * nncl_device_close). */
int cli_open_device(const char *choice, nncl_device **dev);

/* What cli_open_device_timed's opening took: listing the devices (the
 * list's own account: the OpenCL loader, each platform) and opening the
 * one chosen (a context, a queue). */
typedef struct cli_open_times {
    bool opencl_listed;         /* false: "host" was chosen, OpenCL never asked */
    double listing_seconds, loader_seconds, opening_seconds;
    int n_platforms;
    nncl_platform_time platforms[NNCL_MAX_TIMED_PLATFORMS];
} cli_open_times;

/* cli_open_device, and what it took in *times. */
int cli_open_device_timed(const char *choice, nncl_device **dev, cli_open_times *times);

/* When the device profiled its ops (NNCL_PROFILE=1, --profile), print the
 * per-op table to stderr. */
void cli_print_profile(const nncl_device *dev);

/* Commands: argv[0] is the command name. */
int cmd_devices(const cli_globals *g, int argc, char **argv);
int cmd_train(const cli_globals *g, int argc, char **argv);
int cmd_eval(const cli_globals *g, int argc, char **argv);
int cmd_report(const cli_globals *g, int argc, char **argv);
int cmd_sweep(const cli_globals *g, int argc, char **argv);
int cmd_compare(const cli_globals *g, int argc, char **argv);
int cmd_predict(const cli_globals *g, int argc, char **argv);
int cmd_bench(const cli_globals *g, int argc, char **argv);
int cmd_check(const cli_globals *g, int argc, char **argv);
int cmd_tune(const cli_globals *g, int argc, char **argv);

/* The library's notices on stderr (main.c installs it): what a first use
 * is doing, warnings; the compiler's own output only with NNCL_VERBOSE=1. */
void cli_notice(void *ctx, nncl_notice_level level, const char *text);
/* Drop the informational notices ("compiling kernels...") from here on:
 * `--quiet` means the final line alone, also on a device's first use. */
void cli_quiet_notices(bool quiet);

#endif
