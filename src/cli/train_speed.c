/* The training speed the default device is chosen by (src/device/device.c,
 * src/device/speed_cache.c): `nncl bench` measures it on every device it
 * runs, and a `nncl train` that is left to pick its device measures the
 * devices that have no figure yet, once, so that the default is the
 * fastest from the first run on (on one 2-core AVX2 machine the host
 * backend trained twice as fast as PoCL, on another AVX-512 one PoCL 2x the
 * host: no rule of thumb picks right). */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "cli/train_speed.h"
#include "nncl/net.h"
#include "nncl/tune.h"
#include "ops/kernel_params.h"
#include "util/clock.h"

nncl_status cli_train_speed(nncl_device *dev, double *seconds, double *flops)
{
    enum { ROWS = 8192, IN = 784, HID = 128, OUT = 10, BATCH = 128 };
    nncl_dataset ds = {.rows = ROWS, .cols = IN, .task = NNCL_TASK_CLASSIFY, .num_classes = OUT};
    ds.x_u8 = malloc((size_t)ROWS * IN);
    ds.labels = malloc(ROWS * sizeof(int32_t));
    if (!ds.x_u8 || !ds.labels) {
        free(ds.x_u8);
        free(ds.labels);
        return nncl_fail(NNCL_E_NOMEM, "out of memory");
    }
    nncl_rng r;
    nncl_rng_seed(&r, 3);
    for (size_t i = 0; i < (size_t)ROWS * IN; i++)
        ds.x_u8[i] = (uint8_t)(nncl_rng_next(&r) >> 56);
    for (size_t i = 0; i < ROWS; i++)
        ds.labels[i] = (int32_t)nncl_rng_below(&r, OUT);
    nncl_net_config cfg = {.layers = 2, .sizes = {IN, HID, OUT}, .act = NNCL_ACT_RELU, .task = NNCL_TASK_CLASSIFY};
    nncl_optim_config opt = {.kind = NNCL_OPTIM_ADAM, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f};
    nncl_net *net = NULL;
    nncl_device_data dd = {0};
    nncl_status st = nncl_net_create(dev, &cfg, BATCH, &net);
    if (st == NNCL_OK)
        st = nncl_net_init(net, NNCL_INIT_HE, 0, 1);
    if (st == NNCL_OK)
        st = nncl_device_data_upload(dev, &ds, &dd);
    unsigned long t = 0;
    int steps = 0;
    double t0 = 0;
    for (int phase = 0; phase < 2 && st == NNCL_OK; phase++) {
        /* phase 0 warms up; phase 1 is timed for at least half a second */
        if (phase == 1)
            t0 = nncl_seconds_now();
        for (int s = 0; st == NNCL_OK; s++) {
            size_t first = (size_t)(t % (ROWS / BATCH)) * BATCH;
            t++;
            st = nncl_net_train_step(net, &dd, first, BATCH, &opt, 1e-3f, 1, t);
            if (phase == 1)
                steps++;
            if (st == NNCL_OK && (s & 15) == 15) {
                st = nncl_device_finish(dev);
                if (phase == 0 || nncl_seconds_now() - t0 > 0.5)
                    break;
            }
        }
    }
    if (st == NNCL_OK)
        st = nncl_device_finish(dev);
    *seconds = st == NNCL_OK ? (nncl_seconds_now() - t0) / steps : 0;
    /* forward 2*B*(IN*HID + HID*OUT), backward dW both layers + dX of layer 2 */
    *flops = 2.0 * BATCH * (IN * HID + HID * OUT) * 2 + 2.0 * BATCH * HID * OUT;
    nncl_device_data_free(&dd);
    nncl_net_free(net);
    free(ds.x_u8);
    free(ds.labels);
    return st;
}

void cli_settle_default_device(void)
{
    /* NNCL_TUNE=off (the tests' setting) keeps a run to what is already
     * known; "auto" and "cached" measure (with "cached" an OpenCL device is
     * measured on the parameters it has, never after a search) */
    const char *env = getenv("NNCL_DEVICE");
    if ((env && *env) || nncl_tune_policy_get() == NNCL_TUNE_POLICY_OFF)
        return;
    nncl_device_list list;
    if (nncl_device_list_get(&list) != NNCL_OK) {
        nncl_clear_error(); /* cli_open_device says what is wrong */
        return;
    }
    int unknown = 0;
    for (int i = 0; i < list.count; i++)
        unknown += !(list.items[i].train_speed > 0) && !list.items[i].wrong_results;
    if (list.count >= 2 && unknown > 0) {
        fprintf(stderr, "nncl: measuring the training speed of %d device%s once, to choose the fastest as the "
                        "default (about a second each; NNCL_TUNE=off skips it, --device chooses)\n",
                unknown, unknown > 1 ? "s" : "");
        for (int i = 0; i < list.count; i++) {
            if (list.items[i].train_speed > 0 || list.items[i].wrong_results)
                continue;
            nncl_device *dev = NULL;
            double sec = 0, flops = 0;
            nncl_status st = nncl_device_open(&list.items[i], &dev);
            if (st == NNCL_OK)
                st = cli_train_speed(dev, &sec, &flops);
            if (st == NNCL_OK)
                st = nncl_device_speed_store(&list.items[i], 128 / sec);
            if (dev)
                nncl_device_close(dev);
            if (st != NNCL_OK) {
                cli_warning("could not measure %s: %s", list.items[i].name, nncl_last_error());
                nncl_clear_error();
                /* A device found computing wrong results is passed over
                 * from now on (its tuning entry says so): measure the rest.
                 * Otherwise its figure stays unknown, and the devices after
                 * it cannot be the default (a first device that fails here
                 * remains it, and says why when it is opened). */
                nncl_tuning_info ti;
                if (nncl_tuning_lookup(&list.items[i], &ti) == NNCL_OK && ti.state == NNCL_TUNING_WRONG)
                    continue;
                nncl_clear_error();
                break;
            }
        }
    }
    nncl_device_list_free(&list);
}
