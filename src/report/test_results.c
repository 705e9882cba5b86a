/* evaluation.json: the confusion matrix and the most confidently wrong test
 * rows, or predicted against true for regression. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/test_results.h"
#include "util/base64.h"

typedef struct wrong {
    size_t index;
    int truth, pred;
    float confidence, p_true;
} wrong;

static int by_confidence(const void *a, const void *b)
{
    const wrong *x = a, *y = b;
    if (x->confidence != y->confidence)
        return x->confidence > y->confidence ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;     /* ties: a fixed order */
}

static json_t *real_or_null(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static nncl_status classify_json(const nncl_dataset *test, const float *outputs, size_t width, json_t *o)
{
    const int C = (int)width;
    size_t *conf = calloc((size_t)C * (size_t)C, sizeof *conf);
    wrong *w = malloc((test->rows ? test->rows : 1) * sizeof *w);
    if (!conf || !w) {
        free(conf);
        free(w);
        return nncl_fail(NNCL_E_NOMEM, "out of memory for the test results");
    }
    size_t n_wrong = 0, correct = 0;
    for (size_t r = 0; r < test->rows; r++) {
        const float *z = outputs + r * width;
        int pred = 0;
        for (int c = 1; c < C; c++)
            pred = z[c] > z[pred] ? c : pred;
        /* softmax probabilities of the predicted and the true class */
        double sum = 0;
        for (int c = 0; c < C; c++)
            sum += exp((double)z[c] - z[pred]);
        int truth = test->labels[r];
        if (truth < 0 || truth >= C)
            continue;
        conf[(size_t)truth * (size_t)C + (size_t)pred]++;
        if (pred == truth) {
            correct++;
        } else {
            w[n_wrong++] = (wrong){r, truth, pred, (float)(1.0 / sum), (float)(exp((double)z[truth] - z[pred]) / sum)};
        }
    }
    qsort(w, n_wrong, sizeof *w, by_confidence);
    json_t *matrix = json_array(), *per_class = json_array(), *names = json_array(), *wr = json_array();
    for (int t = 0; t < C; t++) {
        json_t *row = json_array();
        size_t total = 0;
        for (int p = 0; p < C; p++) {
            json_array_append_new(row, json_integer((json_int_t)conf[(size_t)t * (size_t)C + (size_t)p]));
            total += conf[(size_t)t * (size_t)C + (size_t)p];
        }
        json_array_append_new(matrix, row);
        json_array_append_new(per_class, total ? json_real((double)conf[(size_t)t * (size_t)C + (size_t)t] / (double)total)
                                                : json_null());
        char fallback[16];
        snprintf(fallback, sizeof fallback, "%d", t);
        json_array_append_new(names, json_string(test->class_names && t < test->num_classes && test->class_names[t]
                                                     ? test->class_names[t] : fallback));
    }
    size_t pixels = test->image_h > 0 && test->x_u8 ? test->cols : 0;
    char *b64 = pixels ? malloc(base64_len(pixels) + 1) : NULL;
    for (size_t i = 0; i < n_wrong && i < TEST_RESULTS_WRONG; i++) {
        json_t *e = json_pack("{s:I, s:i, s:i, s:f, s:f}", "index", (json_int_t)w[i].index, "true", w[i].truth,
                              "pred", w[i].pred, "confidence", (double)w[i].confidence, "p_true",
                              (double)w[i].p_true);
        if (b64) {
            base64_encode(test->x_u8 + w[i].index * test->cols, pixels, b64);
            json_object_set_new(e, "pixels", json_string(b64));
        }
        json_array_append_new(wr, e);
    }
    free(b64);
    json_object_set_new(o, "classify",
                        json_pack("{s:o, s:o, s:o, s:o, s:o}", "class_names", names, "confusion", matrix, "accuracy",
                                  real_or_null(test->rows ? (double)correct / (double)test->rows : NAN),
                                  "per_class_accuracy", per_class, "wrong", wr));
    free(conf);
    free(w);
    return NNCL_OK;
}

static void regress_json(const nncl_dataset *test, const float *outputs, float t_shift, float t_scale, json_t *o)
{
    size_t n = test->rows;
    double se = 0, ae = 0, mean = 0, ss = 0;
    for (size_t r = 0; r < n; r++)
        mean += test->targets[r];
    mean = n ? mean / (double)n : 0;
    json_t *truth = json_array(), *pred = json_array();
    size_t every = n > TEST_RESULTS_POINTS ? (n + TEST_RESULTS_POINTS - 1) / TEST_RESULTS_POINTS : 1;
    for (size_t r = 0; r < n; r++) {
        double p = outputs[r] / t_scale + t_shift, t = test->targets[r];
        se += (p - t) * (p - t);
        ae += fabs(p - t);
        ss += (t - mean) * (t - mean);
        if (r % every == 0) {
            json_array_append_new(truth, real_or_null(t));
            json_array_append_new(pred, real_or_null(p));
        }
    }
    json_object_set_new(o, "regress",
                        json_pack("{s:o, s:o, s:o, s:o, s:o}", "true", truth, "pred", pred, "rmse",
                                  real_or_null(n ? sqrt(se / (double)n) : NAN), "mae",
                                  real_or_null(n ? ae / (double)n : NAN), "r2",
                                  real_or_null(ss > 0 ? 1 - se / ss : NAN)));
}

nncl_status test_results_json(const nncl_dataset *test, const float *outputs, size_t width, float t_shift,
                              float t_scale, json_t **out)
{
    json_t *o = json_pack("{s:I}", "rows", (json_int_t)test->rows);
    nncl_status st = NNCL_OK;
    if (test->task == NNCL_TASK_CLASSIFY)
        st = classify_json(test, outputs, width, o);
    else
        regress_json(test, outputs, t_shift, t_scale, o);
    if (st != NNCL_OK) {
        json_decref(o);
        return st;
    }
    *out = o;
    return NNCL_OK;
}
