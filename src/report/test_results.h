/* A run's test results as the report shows them (evaluation.json):
 *   {"rows": N,
 *    "classify": {"class_names": [C], "confusion": [[C x C], rows true, columns predicted],
 *                 "accuracy": a, "per_class_accuracy": [C] (null for a class without rows),
 *                 "wrong": [the TEST_RESULTS_WRONG most confidently wrong rows, most confident
 *                           first: {"index", "true", "pred", "confidence" (softmax of pred),
 *                           "p_true", "pixels" (base64 of the image's bytes; images only)}]}
 *    or "regress": {"true": [...], "pred": [...] (at most TEST_RESULTS_POINTS rows, evenly
 *                   spaced), "rmse", "mae", "r2" (over every row)}} */
#ifndef NNCL_TEST_RESULTS_H
#define NNCL_TEST_RESULTS_H

#include <jansson.h>

#include "nncl/data.h"

#define TEST_RESULTS_WRONG 24
#define TEST_RESULTS_POINTS 2000

/* outputs: the network's rows x width outputs for test (logits, or
 * standardised predictions undone with t = y / t_scale + t_shift). */
nncl_status test_results_json(const nncl_dataset *test, const float *outputs, size_t width, float t_shift,
                              float t_scale, json_t **out);

#endif
