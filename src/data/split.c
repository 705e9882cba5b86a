/* Deterministic train/held-out splits, plain or stratified by class. */
#include "nncl/data.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct { double rem; int cls; } class_rem;

static int cmp_rem(const void *a, const void *b)
{
    const class_rem *x = a, *y = b;
    if (x->rem > y->rem) return -1;
    if (x->rem < y->rem) return 1;
    return (x->cls > y->cls) - (x->cls < y->cls);
}

/* Marks held[i] = 1 for the rows of each class chosen as described in data.h. */
static nncl_status choose_stratified(const nncl_dataset *src, double fraction, size_t n_hold,
                                     nncl_rng *rng, unsigned char *held)
{
    size_t k = (size_t)src->num_classes;
    size_t *count = calloc(k + 1, sizeof *count);
    size_t *quota = calloc(k, sizeof *quota);
    class_rem *rem = calloc(k, sizeof *rem);
    size_t *order = malloc((src->rows ? src->rows : 1) * sizeof *order);
    if (!count || !quota || !rem || !order) {
        free(count); free(quota); free(rem); free(order);
        return nncl_fail(NNCL_E_NOMEM, "out of memory splitting %zu rows", src->rows);
    }
    /* Counting sort of the row indices by class: order[count[c] .. count[c+1]). */
    for (size_t i = 0; i < src->rows; i++) count[src->labels[i] + 1]++;
    for (size_t c = 0; c < k; c++) count[c + 1] += count[c];
    size_t *fill = quota; /* reuse as a cursor, reset below */
    for (size_t c = 0; c < k; c++) fill[c] = count[c];
    for (size_t i = 0; i < src->rows; i++) order[fill[src->labels[i]]++] = i;

    size_t total = 0;
    for (size_t c = 0; c < k; c++) {
        size_t nc = count[c + 1] - count[c];
        double want = fraction * (double)nc;
        size_t q = (size_t)floor(want);
        if (q > nc) q = nc;
        quota[c] = q;
        rem[c].rem = q < nc ? want - (double)q : -1.0;
        rem[c].cls = (int)c;
        total += q;
    }
    qsort(rem, k, sizeof *rem, cmp_rem);
    for (size_t i = 0; total < n_hold && i < k; i++) {
        size_t c = (size_t)rem[i].cls;
        if (quota[c] < count[c + 1] - count[c]) { quota[c]++; total++; }
    }
    /* Within each class (in class order), shuffle and take the first quota rows. */
    for (size_t c = 0; c < k; c++) {
        size_t *g = order + count[c], nc = count[c + 1] - count[c];
        nncl_rng_shuffle(rng, g, nc);
        for (size_t i = 0; i < quota[c]; i++) held[g[i]] = 1;
    }
    free(count); free(quota); free(rem); free(order);
    return NNCL_OK;
}

static nncl_status gather(const nncl_dataset *src, const unsigned char *held, unsigned char want,
                          size_t n, nncl_dataset *out)
{
    size_t *idx = malloc((n ? n : 1) * sizeof *idx);
    if (!idx) return nncl_fail(NNCL_E_NOMEM, "out of memory splitting %zu rows", src->rows);
    size_t j = 0;
    for (size_t i = 0; i < src->rows; i++)
        if (held[i] == want) idx[j++] = i;
    nncl_status st = nncl_dataset_subset(src, idx, j, out);
    free(idx);
    return st;
}

nncl_status nncl_dataset_split(const nncl_dataset *src, double fraction, uint64_t seed,
                               bool stratified, nncl_dataset *held_out, nncl_dataset *rest)
{
    if (held_out) memset(held_out, 0, sizeof *held_out);
    if (rest) memset(rest, 0, sizeof *rest);
    if (!src) return nncl_fail(NNCL_E_INVALID, "nncl_dataset_split: NULL dataset");
    if (!(fraction >= 0.0 && fraction <= 1.0))
        return nncl_fail(NNCL_E_INVALID, "split fraction %g is not in [0, 1]", fraction);
    size_t n_hold = (size_t)floor(fraction * (double)src->rows + 0.5);
    if (n_hold > src->rows) n_hold = src->rows;

    bool strat = stratified && src->task == NNCL_TASK_CLASSIFY && src->labels && src->num_classes > 0;
    if (strat)
        for (size_t i = 0; i < src->rows; i++)
            if (src->labels[i] < 0 || src->labels[i] >= src->num_classes)
                return nncl_fail(NNCL_E_INVALID, "split: row %zu has class %d, outside [0, %d)",
                                 i, (int)src->labels[i], src->num_classes);

    unsigned char *held = calloc(src->rows ? src->rows : 1, 1);
    if (!held) return nncl_fail(NNCL_E_NOMEM, "out of memory splitting %zu rows", src->rows);
    nncl_rng rng;
    nncl_rng_seed(&rng, seed);
    nncl_status st = NNCL_OK;
    if (strat) {
        st = choose_stratified(src, fraction, n_hold, &rng, held);
    } else {
        size_t *idx = malloc((src->rows ? src->rows : 1) * sizeof *idx);
        if (!idx) {
            st = nncl_fail(NNCL_E_NOMEM, "out of memory splitting %zu rows", src->rows);
        } else {
            for (size_t i = 0; i < src->rows; i++) idx[i] = i;
            nncl_rng_shuffle(&rng, idx, src->rows);
            for (size_t i = 0; i < n_hold; i++) held[idx[i]] = 1;
            free(idx);
        }
    }
    size_t nh = 0;
    for (size_t i = 0; st == NNCL_OK && i < src->rows; i++) nh += held[i];
    if (st == NNCL_OK && held_out) st = gather(src, held, 1, nh, held_out);
    if (st == NNCL_OK && rest) st = gather(src, held, 0, src->rows - nh, rest);
    if (st != NNCL_OK) {
        if (held_out) nncl_dataset_free(held_out);
        if (rest) nncl_dataset_free(rest);
    }
    free(held);
    return st;
}
