/* libFuzzer target for the CSV reader (nncl_csv_read_mem).
 * The first byte picks the options; the rest is the file. On success the
 * result's invariants are checked and it is split and standardised. */
#include "nncl/data.h"

#include <stdlib.h>
#include <string.h>

static const char *const classes[] = {
    "a", "b", "0", "1", "x y",
    "a class name long enough to fill the message buffer of unknown labels, twice over",
};
static const char *const feats[] = {"a", "b", "c"};

static void check(const nncl_dataset *ds)
{
    if ((ds->x_u8 == NULL) == (ds->x_f32 == NULL) || ds->rows == 0 || ds->cols == 0) abort();
    if (ds->labels) {
        if (ds->task != NNCL_TASK_CLASSIFY || ds->num_classes <= 0 || !ds->class_names) abort();
        for (size_t i = 0; i < ds->rows; i++)
            if (ds->labels[i] < 0 || ds->labels[i] >= ds->num_classes) abort();
    }
    if (ds->targets && ds->task != NNCL_TASK_REGRESS) abort();
    for (size_t j = 0; j < ds->cols; j++)
        if (!ds->feature_names || !ds->feature_names[j]) abort();
    for (int c = 0; c < ds->num_classes; c++)
        if (!ds->class_names[c]) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint8_t sel = data[0];
    nncl_csv_options o = {0};
    o.label_mode = (nncl_csv_label_mode)(sel % 3);
    o.task = (nncl_csv_task)((sel / 3) % 3);
    o.no_images = (sel & 0x20) != 0;
    if (sel & 0x40) o.label = (sel & 0x80) ? "b" : "1";
    if ((sel & 0xC0) == 0xC0 && o.task != NNCL_CSV_TASK_REGRESS) {
        o.expect_classes = classes;
        o.expect_num_classes = 6;
    }
    if ((sel & 0x90) == 0x90) {
        o.expect_features = feats;
        o.expect_cols = 2 + (sel & 1);
    }
    nncl_dataset ds;
    nncl_status st = nncl_csv_read_mem("fuzz.csv", (const char *)data + 1, size - 1, &o, &ds);
    if (st != NNCL_OK) {
        if (ds.x_u8 || ds.x_f32 || ds.labels || ds.rows) abort(); /* failures leave it zeroed */
        if (!nncl_last_error()[0]) abort();
        return 0;
    }
    check(&ds);
    if (ds.rows * ds.cols < 100000) {
        nncl_dataset a, b;
        if (nncl_dataset_split(&ds, 0.25, sel, true, &a, &b) == NNCL_OK) {
            if (a.rows + b.rows != ds.rows) abort();
            nncl_dataset_free(&a);
            nncl_dataset_free(&b);
        }
        float *shift = malloc(ds.cols * sizeof *shift), *scale = malloc(ds.cols * sizeof *scale);
        if (shift && scale && nncl_dataset_feature_transform(&ds, shift, scale) == NNCL_OK)
            for (size_t j = 0; j < ds.cols; j++)
                if (scale[j] == 0.0f || scale[j] != scale[j]) abort();
        free(shift);
        free(scale);
    }
    nncl_dataset_free(&ds);
    return 0;
}
