#include "train/divergence.h"

#include <math.h>
#include <stdlib.h>

#include "util/clock.h"

/* Each layer's largest |w| over its weights (not its biases); a non-finite
 * weight makes it infinite. */
static nncl_status layer_max(const nncl_net *net, float *out)
{
    const nncl_net_config *c = nncl_net_get_config(net);
    size_t n = nncl_net_param_count(net);
    float *p = malloc(n * sizeof *p);
    if (!p)
        return nncl_fail(NNCL_E_NOMEM, "out of memory reading %zu parameters", n);
    nncl_status st = nncl_net_get_params(net, p);
    for (int l = 0; st == NNCL_OK && l < c->layers; l++) {
        const float *w = p + nncl_net_weight_offset(net, l);
        size_t count = nncl_net_weight_count(net, l);
        float m = 0;
        for (size_t i = 0; i < count; i++) {
            float a = fabsf(w[i]);
            m = isfinite(a) ? (a > m ? a : m) : INFINITY;
        }
        out[l] = m;
    }
    free(p);
    return st;
}

nncl_status divergence_watch_init(divergence_watch *w, const nncl_net *net)
{
    const nncl_net_config *c = nncl_net_get_config(net);
    double guess = c->task == NNCL_TASK_CLASSIFY ? log((double)c->sizes[c->layers]) : 1.0;
    *w = (divergence_watch){.limit = NNCL_DIVERGE_FACTOR * (guess > 1 ? guess : 1), .polled = nncl_seconds_now()};
    return layer_max(net, w->start_max);
}

void divergence_watch_epoch(divergence_watch *w, double s0, size_t seen)
{
    w->s0 = s0;
    w->seen = seen;
}

bool divergence_exploded(const divergence_watch *w, double mean_loss)
{
    return !isfinite(mean_loss) || mean_loss > w->limit;
}

nncl_status divergence_poll(divergence_watch *w, nncl_net *net, size_t seen, bool *diverged, double *loss)
{
    *diverged = false;
    *loss = NAN;
    double now = nncl_seconds_now();
    if (now - w->polled < DIVERGE_POLL_SECONDS || seen <= w->seen)
        return NNCL_OK;
    double s0, s1;
    nncl_status st = nncl_net_acc_read(net, &s0, &s1);
    if (st != NNCL_OK)
        return st;
    *loss = (s0 - w->s0) / (double)(seen - w->seen);
    *diverged = divergence_exploded(w, *loss);
    w->s0 = s0;
    w->seen = seen;
    w->polled = nncl_seconds_now();
    return NNCL_OK;
}

nncl_status divergence_describe(const divergence_watch *w, const nncl_net *net, nncl_divergence *d)
{
    const nncl_net_config *c = nncl_net_get_config(net);
    float now[NNCL_MAX_LAYERS];
    nncl_status st = layer_max(net, now);
    if (st != NNCL_OK)
        return st;
    double best = -1;
    for (int l = 0; l < c->layers; l++) {
        double growth = !isfinite(now[l]) ? INFINITY : w->start_max[l] > 0 ? now[l] / w->start_max[l] : now[l];
        if (growth > best) {
            best = growth;
            d->layer = l + 1;
            d->max_before = w->start_max[l];
            d->max_after = now[l];
        }
    }
    d->limit = w->limit;
    return NNCL_OK;
}
