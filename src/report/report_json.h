/* The report page's data, built from a run read back (see report_json.c for
 * the weights' encoding and src/report/assets/report.js for its reader). */
#ifndef NNCL_REPORT_JSON_H
#define NNCL_REPORT_JSON_H

#include "report/run_record.h"

/* data: the JSON object the page reads; codes: frames x n_params base64
 * digits, NUL-terminated (codes_len of them). */
/* The weights' encoding, shared by both pages: params (W_1, b_1, W_2, ... in
 * nncl's flat layout for network c) as one base64 digit per parameter into
 * codes, each tensor's scale appended to scales (W_l then b_l: value =
 * (code - 32) * scale) and, when they are not NULL, each layer's colour
 * clamp (the 99th percentile of |W_l|, or of |b_l|) to clamp and
 * bias_clamp. Layers with keep[l] false are left out of codes and get null
 * scales and clamps (keep NULL: every layer). Returns how many codes were
 * written: the kept layers' parameters, in order. */
size_t report_encode_params(const nncl_net_config *c, const float *params, const bool *keep, char *codes,
                            json_t *scales, json_t *clamp, json_t *bias_clamp);

/* Feature or class names as a JSON array (a missing name as ""), or null
 * when there are none; shared by both pages. */
json_t *report_names_json(char **names, size_t n);

/* A network given as a layer list (cfg->n_specs > 0), for both pages:
 * {input_shape [c, h, w], rows: one per layer from nncl_net_config_describe
 * ({index, layer, in, out, activation, params}, or {text} for a line that
 * does not read), n_params, filters, filters_note}. filters is the first
 * convolution's: {name, layer, dims [k, c, kh, kw], codes (one base64 digit
 * per weight, value = (code - 32) * scale), scale, clamp (the 99th
 * percentile of |w|: the colour range), bias [k] or null}; null, with
 * filters_note saying why, when params is NULL (n_params floats, the flat
 * vector) or the network has no convolution. */
json_t *report_layer_list_json(const nncl_net_config *c, const float *params, size_t n_params);

nncl_status report_data(const run_record *r, json_t **data, char **codes, size_t *codes_len);

#endif
