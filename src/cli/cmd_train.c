/* `nncl train`: train a network. (Options and the loop land with the
 * training issue; for now the device is resolved and reported.) */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

int cmd_train(const cli_globals *g, int argc, char **argv)
{
    const char *device = g->device;
    static const struct option opts[] = {
        {"device", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': device = optarg; break;
        case 'h':
            printf("usage: nncl train [--device DEVICE]\n");
            return CLI_OK;
        default: return CLI_USAGE;
        }
    }
    if (device && strcmp(device, "list") == 0) {
        cli_globals lg = *g;
        return cmd_devices(&lg, 0, NULL);
    }
    nncl_device *dev;
    int rc = cli_open_device(device, &dev);
    if (rc != CLI_OK)
        return rc;
    const nncl_device_info *info = nncl_device_get_info(dev);
    printf("device: %d %s (%s)\n", info->index, info->name, nncl_backend_name(info->backend));
    cli_error("training is not implemented yet");
    nncl_device_close(dev);
    return CLI_FAILED;
}
