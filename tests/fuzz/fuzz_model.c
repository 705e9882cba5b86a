/* libFuzzer target for the model loader (nncl_model_load: safetensors, an
 * 8-byte header length, a JSON header, then the tensors). The input is the
 * file, written to a per-process path; the loader reads files only. */
#include "nncl/model.h"
#include "fuzz_file.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_input_file("model", data, size, NULL);
    if (!path) return 0;
    nncl_model m;
    nncl_status st = nncl_model_load(path, &m);
    if (st != NNCL_OK) {
        /* failures leave it empty and say why */
        if (m.params || m.shift || m.scale || m.class_names || m.feature_names || m.dataset) abort();
        if (!nncl_last_error()[0]) abort();
        return 0;
    }
    size_t n = 0, in = m.cfg.sizes[0];
    if (nncl_net_config_param_count(&m.cfg, &n) != NNCL_OK || n != m.n_params) abort();
    if (!m.params || !m.shift || !m.scale || in == 0 || m.cfg.layers < 1) abort();
    /* touch every element: the sizes must be what the header said, and the
     * loader refuses weights that are not finite */
    for (size_t i = 0; i < m.n_params; i++)
        if (!isfinite(m.params[i])) abort();
    for (size_t i = 0; i < in; i++)
        if (!isfinite(m.shift[i]) || !isfinite(m.scale[i])) abort();
    if (!isfinite(m.t_shift) || !isfinite(m.t_scale) || !isfinite(m.cfg.act_param)) abort();
    volatile size_t sum = 0;
    if (m.num_classes < 0 || (m.num_classes > 0) != (m.class_names != NULL)) abort();
    for (int c = 0; c < m.num_classes; c++) sum += strlen(m.class_names[c]);
    for (size_t j = 0; m.feature_names && j < in; j++) sum += strlen(m.feature_names[j]);
    if (m.dataset) sum += strlen(m.dataset);
    (void)sum;
    nncl_model_free(&m);
    return 0;
}
