/* libFuzzer target for the checkpoint reader (nncl_checkpoint_load). The
 * first byte's low bit asks for the checksums (the header's and each
 * section's, found by walking the lengths) and the header's file length to
 * be made right before the rest is written to a per-process path, so that
 * mutations reach the checks behind them; the replay does the same. */
#include "nncl/checkpoint.h"
#include "fuzz_file.h"
#include "util/crc32_buf.h"
#include "util/le_bytes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void put_u32(unsigned char *p, uint32_t v) { le_put_u32(&p, v); }
static void put_u64(unsigned char *p, uint64_t v) { le_put_u64(&p, v); }

static void repair(unsigned char *b, size_t size)
{
    if (size < 32) return;
    put_u64(b + 16, size);
    put_u32(b + 28, nncl_crc32(b, 28));
    for (size_t pos = 32; size - pos >= 12;) {
        uint64_t len = le_get_u64(b + pos + 4);
        if (len > size - pos - 12 || size - pos - 12 - len < 4) return;
        put_u32(b + pos + 12 + len, nncl_crc32(b + pos, 12 + (size_t)len));
        pos += 12 + (size_t)len + 4;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_input_file("checkpoint", data, size, repair);
    if (!path) return 0;
    nncl_checkpoint c;
    nncl_status st = nncl_checkpoint_load(path, &c);
    if (st != NNCL_OK) {
        /* failures leave it empty and say why */
        if (c.params || c.m || c.v || c.best || c.state.order || c.state.history || c.n_params) abort();
        if (!nncl_last_error()[0]) abort();
        return 0;
    }
    const nncl_train_state *s = &c.state;
    size_t n = 0;
    if (nncl_net_config_param_count(&c.net, &n) != NNCL_OK || n != c.n_params) abort();
    if (!c.params || !c.m || !c.v || (c.best != NULL) != s->have_best) abort();
    if (s->rows == 0 || !s->order || s->epochs_done < 0 || s->epochs_done > s->epochs) abort();
    if (s->epochs_done > 0 && !s->history) abort();
    /* touch every element: the sizes must be what the header said */
    volatile float sum = 0;
    for (size_t i = 0; i < c.n_params; i++) sum += c.params[i] + c.m[i] + c.v[i] + (c.best ? c.best[i] : 0);
    for (size_t i = 0; i < s->rows; i++)
        if (s->order[i] < 0 || (size_t)s->order[i] >= s->rows) abort();
    for (int e = 0; e < s->epochs_done; e++)
        if (s->history[e].epoch != e + 1) abort();
    (void)sum;
    nncl_checkpoint_free(&c);
    return 0;
}
