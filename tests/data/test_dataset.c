/* Splits, subsets, the PRNG, feature statistics and transforms. */
#include "testutil.h"

#include <math.h>

/* rows x 2 table, label = i % k (classification), x = (i, 5). */
static nncl_dataset make(size_t rows, int k)
{
    nncl_dataset ds = {0};
    ds.rows = rows;
    ds.cols = 2;
    ds.x_f32 = malloc(rows * 2 * sizeof(float));
    ds.labels = malloc(rows * sizeof(int32_t));
    for (size_t i = 0; i < rows; i++) {
        ds.x_f32[2 * i] = (float)i;
        ds.x_f32[2 * i + 1] = 5.0f;
        ds.labels[i] = (int32_t)(i % 10 < 8 ? 0 : 1 + (int)(i % (size_t)(k - 1)));
    }
    ds.num_classes = k;
    ds.class_names = calloc((size_t)k, sizeof(char *));
    for (int c = 0; c < k; c++) {
        ds.class_names[c] = malloc(8);
        snprintf(ds.class_names[c], 8, "c%d", c);
    }
    ds.task = NNCL_TASK_CLASSIFY;
    return ds;
}

START_TEST(rng_reference)
{
    /* splitmix64 reference values (Vigna's splitmix64.c, seed 1234567) */
    nncl_rng r;
    nncl_rng_seed(&r, 1234567);
    ck_assert_uint_eq(nncl_rng_next(&r), 6457827717110365317ULL);
    ck_assert_uint_eq(nncl_rng_next(&r), 3203168211198807973ULL);
    ck_assert_uint_eq(nncl_rng_next(&r), 9817491932198370423ULL);
    for (int i = 0; i < 1000; i++) {
        ck_assert_uint_lt(nncl_rng_below(&r, 7), 7);
        float f = nncl_rng_float(&r);
        ck_assert(f >= 0.0f && f < 1.0f);
    }
}
END_TEST

START_TEST(split_deterministic)
{
    nncl_dataset ds = make(1003, 3), a, b, c, d;
    ck_assert_int_eq(nncl_dataset_split(&ds, 0.2, 7, false, &a, &b), NNCL_OK);
    ck_assert_uint_eq(a.rows, 201);
    ck_assert_uint_eq(b.rows, 802);
    ck_assert_int_eq(nncl_dataset_split(&ds, 0.2, 7, false, &c, &d), NNCL_OK);
    ck_assert_int_eq(memcmp(a.x_f32, c.x_f32, a.rows * 2 * sizeof(float)), 0);
    ck_assert_int_eq(memcmp(b.labels, d.labels, b.rows * sizeof(int32_t)), 0);
    /* every row is in exactly one part, in the original order */
    char *seen = calloc(ds.rows, 1);
    for (size_t i = 0; i < a.rows; i++) seen[(size_t)a.x_f32[2 * i]]++;
    for (size_t i = 0; i < b.rows; i++) seen[(size_t)b.x_f32[2 * i]]++;
    for (size_t i = 0; i < ds.rows; i++) ck_assert_int_eq(seen[i], 1);
    for (size_t i = 1; i < a.rows; i++) ck_assert(a.x_f32[2 * i] > a.x_f32[2 * i - 2]);
    ck_assert_str_eq(a.class_names[2], "c2");
    free(seen);
    nncl_dataset_free(&c);
    nncl_dataset_free(&d);
    /* another seed, another split */
    ck_assert_int_eq(nncl_dataset_split(&ds, 0.2, 8, false, &c, &d), NNCL_OK);
    ck_assert_int_ne(memcmp(a.x_f32, c.x_f32, a.rows * 2 * sizeof(float)), 0);
    nncl_dataset_free(&a);
    nncl_dataset_free(&b);
    nncl_dataset_free(&c);
    nncl_dataset_free(&d);
    /* edges */
    ck_assert_int_eq(nncl_dataset_split(&ds, 0.0, 1, true, &a, &b), NNCL_OK);
    ck_assert_uint_eq(a.rows, 0);
    ck_assert_uint_eq(b.rows, 1003);
    nncl_dataset_free(&a);
    nncl_dataset_free(&b);
    ck_assert_int_eq(nncl_dataset_split(&ds, 1.0, 1, true, &a, NULL), NNCL_OK);
    ck_assert_uint_eq(a.rows, 1003);
    nncl_dataset_free(&a);
    ck_assert_int_eq(nncl_dataset_split(&ds, 1.5, 1, true, &a, &b), NNCL_E_INVALID);
    nncl_dataset_free(&ds);
}
END_TEST

START_TEST(split_stratified)
{
    nncl_dataset ds = make(1000, 3), a, b;
    size_t total[3] = {0}, held[3] = {0};
    for (size_t i = 0; i < ds.rows; i++) total[ds.labels[i]]++;
    ck_assert_int_eq(nncl_dataset_split(&ds, 0.1, 99, true, &a, &b), NNCL_OK);
    ck_assert_uint_eq(a.rows, 100);
    for (size_t i = 0; i < a.rows; i++) held[a.labels[i]]++;
    for (int c = 0; c < 3; c++) {
        double want = 0.1 * (double)total[c];
        ck_assert_msg(fabs((double)held[c] - want) < 1.0, "class %d: %zu held of %zu", c, held[c], total[c]);
    }
    nncl_dataset_free(&a);
    nncl_dataset_free(&b);
    /* odd fractions still give round(fraction * rows) in all */
    ck_assert_int_eq(nncl_dataset_split(&ds, 0.333, 5, true, &a, &b), NNCL_OK);
    ck_assert_uint_eq(a.rows, 333);
    ck_assert_uint_eq(b.rows, 667);
    nncl_dataset_free(&a);
    nncl_dataset_free(&b);
    nncl_dataset_free(&ds);
}
END_TEST

START_TEST(subset_head_copy)
{
    nncl_dataset ds = make(10, 2), s, h, c;
    size_t idx[] = {9, 0, 9};
    ck_assert_int_eq(nncl_dataset_subset(&ds, idx, 3, &s), NNCL_OK);
    ck_assert_uint_eq(s.rows, 3);
    ck_assert_float_eq(s.x_f32[0], 9.0f);
    ck_assert_float_eq(s.x_f32[2], 0.0f);
    ck_assert_int_eq(s.labels[0], ds.labels[9]);
    nncl_dataset_free(&s);
    size_t bad[] = {10};
    ck_assert_int_eq(nncl_dataset_subset(&ds, bad, 1, &s), NNCL_E_INVALID);
    ck_error_has("index 10", "10 rows");
    ck_assert_int_eq(nncl_dataset_head(&ds, 4, &h), NNCL_OK);
    ck_assert_uint_eq(h.rows, 4);
    ck_assert_float_eq(h.x_f32[6], 3.0f);
    nncl_dataset_free(&h);
    ck_assert_int_eq(nncl_dataset_head(&ds, 100, &h), NNCL_OK);
    ck_assert_uint_eq(h.rows, 10);
    nncl_dataset_free(&h);
    ck_assert_int_eq(nncl_dataset_copy(&ds, &c), NNCL_OK);
    ck_assert_str_eq(c.class_names[1], "c1");
    nncl_dataset_free(&c);
    nncl_dataset_free(&ds);
    nncl_dataset_free(&ds); /* twice is fine */
}
END_TEST

START_TEST(transform)
{
    nncl_dataset ds;
    const char *text = "a,k,c,y\n1,7,1e20,0.5\n3,7,1e20,1.5\n5,7,1e20,4\n";
    ck_assert_int_eq(nncl_csv_read_mem("t.csv", text, strlen(text), NULL, &ds), NNCL_OK);
    float shift[4], scale[4];
    ck_assert_int_eq(nncl_dataset_feature_transform(&ds, shift, scale), NNCL_OK);
    ck_assert_float_eq_tol(shift[0], 3.0f, 1e-6f);
    ck_assert_float_eq_tol(scale[0], (float)(1.0 / sqrt(8.0 / 3.0)), 1e-6f);
    ck_assert_float_eq(shift[1], 7.0f);
    ck_assert_float_eq(scale[1], 1.0f);  /* constant column */
    ck_assert_float_eq(scale[2], 1.0f);  /* constant, large */
    ck_assert(isfinite(scale[0]) && isfinite(scale[1]) && isfinite(scale[2]));
    double m, sd;
    ck_assert_int_eq(nncl_dataset_target_stats(&ds, &m, &sd), NNCL_OK);
    ck_assert_double_eq_tol(m, 2.0, 1e-12);
    ck_assert_double_eq_tol(sd, sqrt((2.25 + 0.25 + 4.0) / 3.0), 1e-7);
    nncl_dataset_free(&ds);
    /* images: 1/255 */
    nncl_dataset img = {0};
    img.rows = 2;
    img.cols = 4;
    img.x_u8 = calloc(8, 1);
    ck_assert_int_eq(nncl_dataset_feature_transform(&img, shift, scale), NNCL_OK);
    ck_assert_float_eq(shift[3], 0.0f);
    ck_assert_float_eq(scale[3], 1.0f / 255.0f);
    ck_assert_int_eq(nncl_dataset_target_stats(&img, &m, &sd), NNCL_E_INVALID);
    nncl_dataset_free(&img);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dataset");
    TCase *tc = tcase_create("dataset");
    tcase_add_test(tc, rng_reference);
    tcase_add_test(tc, split_deterministic);
    tcase_add_test(tc, split_stratified);
    tcase_add_test(tc, subset_head_copy);
    tcase_add_test(tc, transform);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
