/* The whole command line, kept by main() so that what a run records
 * (config.json's "command") includes the global options given before the
 * subcommand: `nncl --device host train ...` trains on host, and a record of
 * `train ...` alone would not. */
#include <stddef.h>

#include <jansson.h>

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

/* The command that made the run, without the program's name (the report
 * page prefixes "nncl"): the global options given before the subcommand
 * (`--device host`: they decide the run too), then argv ("train ..."; a
 * sweep's trial gets its own, after the sweep's globals). */
json_t *cli_command_json(int argc, char **argv)
{
    json_t *cmd = json_array();
    char **line;
    int at;
    int line_argc = cli_command_line(&line, &at);
    for (int i = 1; i < at && i < line_argc && argc > 0; i++)
        json_array_append_new(cmd, json_string(line[i]));
    for (int i = 0; i < argc; i++)
        json_array_append_new(cmd, json_string(argv[i]));
    return cmd;
}
