/* The whole command line, kept by main() so that what a run records
 * (config.json's "command") includes the global options given before the
 * subcommand: `nncl --device host train ...` trains on host, and a record of
 * `train ...` alone would not. */
#include <stddef.h>

#include "cli/cli.h"

static int line_argc;
static char **line_argv;
static int line_command_at;

void cli_command_line_set(int argc, char **argv, int command_at)
{
    line_argc = argc;
    line_argv = argv;
    line_command_at = command_at;
}

int cli_command_line(char ***argv, int *command_at)
{
    *argv = line_argv;
    *command_at = line_command_at;
    return line_argv ? line_argc : 0;
}
