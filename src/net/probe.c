/* Looking inside a network between training steps without disturbing them:
 * validation metrics and dead units on a sample, for the run's snapshots. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "net/network_impl.h"

nncl_status nncl_net_probe(nncl_net *net, const nncl_device_data *dd, nncl_eval_result *ev,
                           float *dead_fraction)
{
    const nncl_net_config *cfg = &net->cfg;
    const int L = cfg->layers;
    /* A ReLU unit is dead when no row makes it positive: then it passes no
     * gradient and never recovers. Only plain ReLUs die that way (a leaky
     * one still passes its slope). */
    bool relu = cfg->act == NNCL_ACT_RELU;
    for (int l = 0; l < L; l++)
        dead_fraction[l] = NAN;
    /* The running training sums live in the accumulator the evaluation
     * uses: keep them, and put them back exactly. */
    float saved[2];
    nncl_status st = nncl_buffer_read(net->acc, 0, saved, sizeof saved);
    if (st != NNCL_OK)
        return st;
    size_t widest = 0, alive_len = 0;
    for (int l = 1; l < L; l++) {
        widest = cfg->sizes[l] > widest ? cfg->sizes[l] : widest;
        alive_len += cfg->sizes[l];
    }
    size_t chunk = net->max_batch;
    float *a = relu && L > 1 ? malloc(chunk * widest * sizeof *a) : NULL;
    unsigned char *alive = relu && L > 1 ? calloc(alive_len, 1) : NULL;
    if (relu && L > 1 && (!a || !alive)) {
        free(a);
        free(alive);
        return nncl_fail(NNCL_E_NOMEM, "out of memory probing the network");
    }
    memset(ev, 0, sizeof *ev);
    st = nncl_net_acc_reset(net);
    for (size_t first = 0; first < dd->rows && st == NNCL_OK; first += chunk) {
        size_t rows = dd->rows - first < chunk ? dd->rows - first : chunk;
        st = nncl_net_load_batch(net, dd, first, rows);
        if (st == NNCL_OK)
            st = nncl_net_forward(net, rows, false, 0, 0);
        if (st == NNCL_OK && dd->has_y)
            st = nncl_net_loss(net, rows, false, 0, 0);
        unsigned char *al = alive;
        for (int l = 1; a && l < L && st == NNCL_OK; l++) {
            size_t w = cfg->sizes[l];
            st = nncl_buffer_read(net->acts, net->act_off[l] * sizeof(float), a, rows * w * sizeof(float));
            for (size_t r = 0; st == NNCL_OK && r < rows; r++)
                for (size_t j = 0; j < w; j++)
                    al[j] |= a[r * w + j] > 0.0f;
            al += w;
        }
    }
    double s0 = 0, s1 = 0;
    if (st == NNCL_OK && dd->has_y)
        st = nncl_net_acc_read(net, &s0, &s1);
    if (st == NNCL_OK)
        st = nncl_buffer_write(net->acc, 0, saved, sizeof saved);
    if (st == NNCL_OK && dd->rows > 0) {
        ev->rows = dd->rows;
        ev->loss = s0 / (double)dd->rows;
        if (cfg->task == NNCL_TASK_CLASSIFY) {
            ev->accuracy = s1 / (double)dd->rows;
        } else {
            double sd = 1.0 / (double)net->t_scale;     /* in the target's units */
            ev->loss *= sd * sd;
            ev->mae = s1 / (double)dd->rows * sd;
        }
        const unsigned char *al = alive;
        for (int l = 1; alive && l < L; l++) {
            size_t w = cfg->sizes[l], dead = 0;
            for (size_t j = 0; j < w; j++)
                dead += !al[j];
            dead_fraction[l - 1] = (float)dead / (float)w;
            al += w;
        }
    }
    free(a);
    free(alive);
    return st;
}

nncl_status nncl_net_outputs(nncl_net *net, const nncl_device_data *dd, float *out)
{
    const size_t width = net->cfg.sizes[net->cfg.layers];
    nncl_status st = NNCL_OK;
    for (size_t first = 0; first < dd->rows && st == NNCL_OK; first += net->max_batch) {
        size_t rows = dd->rows - first < net->max_batch ? dd->rows - first : net->max_batch;
        st = nncl_net_load_batch(net, dd, first, rows);
        if (st == NNCL_OK)
            st = nncl_net_forward(net, rows, false, 0, 0);
        if (st == NNCL_OK)
            st = nncl_net_read_output(net, rows, out + first * width);
    }
    return st;
}
