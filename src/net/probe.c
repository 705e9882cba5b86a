/* Looking inside a network between training steps without disturbing them:
 * validation metrics and dead units on a sample, for the run's snapshots. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "net/network_impl.h"

/* Whether layer i's units can die: a hidden dense or convolution layer with
 * a plain ReLU. A convolution's unit is a filter: dead when it is 0 at every
 * position of every row. */
static bool can_die(const net_layer *l)
{
    return l->pos >= 0 && l->act == NNCL_ACT_RELU &&
           (l->spec.kind == NNCL_LAYER_DENSE || l->spec.kind == NNCL_LAYER_CONV2D);
}

nncl_status nncl_net_probe(nncl_net *net, const nncl_device_data *dd, nncl_eval_result *ev,
                           float *dead_fraction)
{
    const nncl_net_config *cfg = &net->cfg;
    const net_layout *lay = &net->lay;
    /* A ReLU unit is dead when no row makes it positive: then it passes no
     * gradient and never recovers. Only plain ReLUs die that way (a leaky
     * one still passes its slope). */
    for (int l = 0; l < cfg->layers; l++)
        dead_fraction[l] = NAN;
    /* The running training sums live in the accumulator the evaluation
     * uses: keep them, and put them back exactly. */
    float saved[2];
    nncl_status st = nncl_buffer_read(net->acc, 0, saved, sizeof saved);
    if (st != NNCL_OK)
        return st;
    size_t widest = 0, alive_len = 0;
    for (int i = 0; i < lay->n; i++)
        if (can_die(&lay->layers[i])) {
            size_t len = shape3_len(lay->layers[i].out);
            widest = len > widest ? len : widest;
            alive_len += lay->layers[i].out.c;
        }
    size_t chunk = net->max_batch;
    float *a = alive_len ? malloc(chunk * widest * sizeof *a) : NULL;
    unsigned char *alive = alive_len ? calloc(alive_len, 1) : NULL;
    if (alive_len && (!a || !alive)) {
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
        for (int i = 0; alive && i < lay->n && st == NNCL_OK; i++) {
            const net_layer *l = &lay->layers[i];
            if (!can_die(l))
                continue;
            size_t units = l->out.c, area = l->out.h * l->out.w, len = shape3_len(l->out);
            st = nncl_buffer_read(net->acts, l->y_off * sizeof(float), a, rows * len * sizeof(float));
            for (size_t r = 0; st == NNCL_OK && r < rows; r++)
                for (size_t j = 0; j < len; j++)
                    al[j / area] |= a[r * len + j] > 0.0f;
            al += units;
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
        for (int i = 0; alive && i < lay->n; i++) {
            const net_layer *l = &lay->layers[i];
            if (!can_die(l))
                continue;
            size_t dead = 0;
            for (size_t j = 0; j < l->out.c; j++)
                dead += !al[j];
            if (l->pos < cfg->layers)
                dead_fraction[l->pos] = (float)dead / (float)l->out.c;
            al += l->out.c;
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
