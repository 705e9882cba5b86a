/* nncl: the command-line entry point. Parses the global options, then hands
 * the rest of the command line to one subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "util/clock.h"

static void usage(FILE *out)
{
    fprintf(out,
            "nncl %s: neural networks in C, trained on any OpenCL device\n"
            "\n"
            "usage: nncl [--device DEVICE] COMMAND [options]\n"
            "       nncl --device list [--json]\n"
            "\n"
            "commands:\n"
            "  train       train a network (default data: the shipped MNIST)\n"
            "  eval        evaluate a saved model: loss, accuracy, confusion matrix\n"
            "  predict     write one prediction per input (plain or Kaggle format)\n"
            "  report      a run's report page, and its training as a video\n"
            "  sweep       train over a grid of hyper-parameters, one run per point\n"
            "  compare     runs and sweeps side by side: differing flags and results\n"
            "  bench       GEMM GFLOP/s and a training step's time on every device\n"
            "  tune        search the GEMM kernel's parameters for a device, keep the best\n"
            "  check       every op, gradients, training and determinism against host,\n"
            "              on every device: run it first on a new GPU or driver\n"
            "  devices     list devices (the same as --device list)\n"
            "\n"
            "global options:\n"
            "  --device DEVICE  an index from the list, 'host', or part of a device or\n"
            "                   platform name ('pocl', 'nvidia'); 'list' lists them.\n"
            "                   Default: NNCL_DEVICE, else 0, the best device present.\n"
            "  --json           machine-readable output where a command has it\n"
            "  --help, -h       this text (also: nncl help); 'nncl COMMAND --help' for a\n"
            "                   command's options\n"
            "  --version        the version (also: nncl version)\n"
            "\n"
            "environment:\n"
            "  NNCL_DEVICE       the default device\n"
            "  NNCL_DATA         a folder searched first for datasets by name (NNCL_DATA/mnist)\n"
            "  NNCL_KERNEL_PATH  load cl/*.cl from this folder instead of the built-in copy\n"
            "  NNCL_NO_CACHE=1   do not use the compiled-kernel cache (~/.cache/nncl)\n"
            "  NNCL_SYNC=1       wait for every kernel (errors point at the kernel at fault)\n"
            "  NNCL_TUNE         auto (default: tune a device on first use, ~20 s once),\n"
            "                    cached (use tuning results, never search), off (neither)\n"
            "  NNCL_VERBOSE=1    show the OpenCL compiler's own output\n",
            nncl_version());
}

typedef int (*command_fn)(const cli_globals *g, int argc, char **argv);

static const struct {
    const char *name;
    command_fn run;
} commands[] = {
    {"train", cmd_train},
    {"eval", cmd_eval},
    {"predict", cmd_predict},
    {"report", cmd_report},
    {"sweep", cmd_sweep},
    {"compare", cmd_compare},
    {"bench", cmd_bench},
    {"check", cmd_check},
    {"tune", cmd_tune},
    {"devices", cmd_devices},
};

int main(int argc, char **argv)
{
    cli_globals g = {.started = nncl_seconds_now()};
    int i = 1;
    nncl_set_notice_handler(cli_notice, NULL);
    bool list = false;
    /* Global options come before the command. */
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return CLI_OK;
        } else if (strcmp(a, "--version") == 0) {
            printf("nncl %s\n", nncl_version());
            return CLI_OK;
        } else if (strcmp(a, "--json") == 0) {
            g.json = true;
        } else if (strcmp(a, "--device") == 0 || strncmp(a, "--device=", 9) == 0) {
            const char *v = a[8] == '=' ? a + 9 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v || !*v) {
                cli_error("--device needs a value: an index, 'host', a name, or 'list'");
                return CLI_USAGE;
            }
            if (strcmp(v, "list") == 0)
                list = true;
            else
                g.device = v;
        } else {
            cli_error("unknown option '%s' (see nncl --help)", a);
            return CLI_USAGE;
        }
    }
    if (list) {
        /* `nncl --device list --json` may put --json after "list". */
        for (int j = i; j < argc; j++) {
            if (strcmp(argv[j], "--json") == 0) {
                g.json = true;
            } else {
                cli_error("unexpected '%s' after --device list", argv[j]);
                return CLI_USAGE;
            }
        }
        return cmd_devices(&g, 0, NULL);
    }
    if (i >= argc) {
        usage(stderr);
        return CLI_USAGE;
    }
    /* The words people try first. */
    if (strcmp(argv[i], "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[i], "version") == 0) {
        printf("nncl %s\n", nncl_version());
        return CLI_OK;
    }
    cli_command_line_set(argc, argv, i);
    for (size_t c = 0; c < sizeof commands / sizeof commands[0]; c++)
        if (strcmp(argv[i], commands[c].name) == 0)
            return commands[c].run(&g, argc - i, argv + i);
    cli_error("unknown command '%s' (see nncl --help)", argv[i]);
    return CLI_USAGE;
}
