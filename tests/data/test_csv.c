/* CSV reader: formats, Kaggle detection, labels, and every error message. */
#include "testutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

static nncl_status rd(const char *text, const nncl_csv_options *o, nncl_dataset *ds)
{
    return nncl_csv_read_mem("t.csv", text, strlen(text), o, ds);
}

START_TEST(basic_strings)
{
    nncl_dataset ds;
    ck_assert_int_eq(rd("a,b,label\n1,2,cat\n3,4,ant\n5,6,bee\n7,8,cat\n", NULL, &ds), NNCL_OK);
    ck_assert_uint_eq(ds.rows, 4);
    ck_assert_uint_eq(ds.cols, 2);
    ck_assert_ptr_nonnull(ds.x_f32);
    ck_assert_ptr_null(ds.x_u8);
    ck_assert_int_eq(ds.task, NNCL_TASK_CLASSIFY);
    ck_assert_int_eq(ds.num_classes, 3);
    ck_assert_str_eq(ds.class_names[0], "ant"); /* sorted */
    ck_assert_str_eq(ds.class_names[1], "bee");
    ck_assert_str_eq(ds.class_names[2], "cat");
    ck_assert_int_eq(ds.labels[0], 2);
    ck_assert_int_eq(ds.labels[1], 0);
    ck_assert_int_eq(ds.labels[2], 1);
    ck_assert_int_eq(ds.labels[3], 2);
    ck_assert_float_eq(ds.x_f32[5], 6.0f);
    ck_assert_str_eq(ds.feature_names[1], "b");
    ck_assert_str_eq(ds.label_name, "label");
    ck_assert_str_eq(ds.source, "t.csv");
    ck_assert_int_eq(ds.image_h, 0);
    nncl_dataset_free(&ds);
}
END_TEST

START_TEST(semicolon_crlf_bom)
{
    nncl_dataset ds;
    ck_assert_int_eq(rd("\xEF\xBB\xBFx;y;z\r\n1,5;2;10\r\n4;5;2\r\n4;5;1\r\n\r\n", NULL, &ds), NNCL_E_FORMAT);
    ck_error_has("line 2, column 1 ('x')", "'1,5' is not a number");
    ck_assert_int_eq(rd("\xEF\xBB\xBFx;y;z\r\n1.5;2;10\r\n4;5;2\r\n4;5;1\r\n\r\n", NULL, &ds), NNCL_OK);
    ck_assert_uint_eq(ds.rows, 3);
    ck_assert_str_eq(ds.feature_names[0], "x");
    ck_assert_int_eq(ds.num_classes, 3);
    ck_assert_str_eq(ds.class_names[0], "1"); /* integers sort by value */
    ck_assert_str_eq(ds.class_names[1], "2");
    ck_assert_str_eq(ds.class_names[2], "10");
    ck_assert_int_eq(ds.labels[0], 2);
    ck_assert_float_eq(ds.x_f32[0], 1.5f);
    nncl_dataset_free(&ds);
    /* no final newline */
    ck_assert_int_eq(rd("x;y\n1;2\n3;4", NULL, &ds), NNCL_OK);
    ck_assert_uint_eq(ds.rows, 2);
    nncl_dataset_free(&ds);
}
END_TEST

START_TEST(tabs)
{
    nncl_dataset ds;
    ck_assert_int_eq(rd("f1\tf2\tf3\tt\n1\t2\t3\t0.5\n4\t5\t6\t1.5\n", NULL, &ds), NNCL_OK);
    ck_assert_uint_eq(ds.cols, 3);
    ck_assert_int_eq(ds.task, NNCL_TASK_REGRESS);
    ck_assert_ptr_null(ds.labels);
    ck_assert_float_eq(ds.targets[1], 1.5f);
    ck_assert_int_eq(ds.num_classes, 0);
    nncl_dataset_free(&ds);
}
END_TEST

START_TEST(quotes)
{
    nncl_dataset ds;
    const char *t = "\"a,1\",\"b\"\"q\",y\n"
                    "\"1.5\", 2 ,\"he said \"\"hi\"\"\"\n"
                    "3,4,\"two\nlines\"\n"
                    "5,6,plain\n";
    ck_assert_int_eq(rd(t, NULL, &ds), NNCL_OK);
    ck_assert_uint_eq(ds.rows, 3);
    ck_assert_str_eq(ds.feature_names[0], "a,1");
    ck_assert_str_eq(ds.feature_names[1], "b\"q");
    ck_assert_int_eq(ds.num_classes, 3);
    ck_assert_str_eq(ds.class_names[0], "he said \"hi\"");
    ck_assert_str_eq(ds.class_names[1], "plain");
    ck_assert_str_eq(ds.class_names[2], "two\nlines");
    ck_assert_float_eq(ds.x_f32[0], 1.5f);
    ck_assert_float_eq(ds.x_f32[1], 2.0f);
    nncl_dataset_free(&ds);
    /* the line count goes on after a quoted line break */
    ck_assert_int_eq(rd("a,y\n1,\"x\ny\"\n2,z\nq,w\n", NULL, &ds), NNCL_E_FORMAT);
    ck_error_has("t.csv: line 5, column 1 ('a'): 'q' is not a number");
    ck_assert_int_eq(rd("a,y\n1,\"open\n2,z\n", NULL, &ds), NNCL_E_FORMAT);
    ck_error_has("t.csv: line 2", "never closed");
    ck_assert_int_eq(rd("a,y\n1,\"ab\"c\n", NULL, &ds), NNCL_E_FORMAT);
    ck_error_has("t.csv: line 2", "after the closing quote");
}
END_TEST

START_TEST(numbers)
{
    nncl_dataset ds;
    ck_assert_int_eq(rd("a,b,c,d,e,f,g,y\n1e-3,2.5E+2,-0.25,+7,.5,5.,1e38,1\n", NULL, &ds), NNCL_OK);
    ck_assert_float_eq(ds.x_f32[0], 1e-3f);
    ck_assert_float_eq(ds.x_f32[1], 250.0f);
    ck_assert_float_eq(ds.x_f32[2], -0.25f);
    ck_assert_float_eq(ds.x_f32[3], 7.0f);
    ck_assert_float_eq(ds.x_f32[4], 0.5f);
    ck_assert_float_eq(ds.x_f32[5], 5.0f);
    ck_assert_float_eq(ds.x_f32[6], 1e38f);
    nncl_dataset_free(&ds);
    const char *bad[] = {"nan", "inf", "-Infinity", "0x10", "1e", "--1", "1.2.3", "abc", "1e39"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char t[128];
        snprintf(t, sizeof t, "a,b,y\n1,2,0\n3,%s,1\n", bad[i]);
        ck_assert_int_eq(rd(t, NULL, &ds), NNCL_E_FORMAT);
        ck_error_has("t.csv: line 3, column 2 ('b'): '", bad[i]);
    }
    ck_assert_int_eq(rd("a,b,y\n1,2,0\n3,,1\n", NULL, &ds), NNCL_E_FORMAT);
    ck_error_has("t.csv: line 3, column 2 ('b'): empty cell");
}
END_TEST

/* Every float the reader makes is the correctly rounded one (strtof). */
START_TEST(float_exactness)
{
    nncl_rng r;
    nncl_rng_seed(&r, 42);
    size_t n = 20000, cap = n * 40 + 16, len = 0;
    char *text = malloc(cap);
    char (*cells)[40] = malloc(n * sizeof *cells);
    len += (size_t)snprintf(text, cap, "v\n");
    for (size_t i = 0; i < n; i++) {
        uint64_t x = nncl_rng_next(&r);
        switch (i % 5) {
        case 0: snprintf(cells[i], 40, "%.9g", (double)(x % 100000000) / 1e5); break;
        case 1: snprintf(cells[i], 40, "%.17g", (double)(x >> 11) * 0x1p-53 * 1e3); break;
        case 2: snprintf(cells[i], 40, "%llue%d", (unsigned long long)(x % 100000000000ULL),
                         (int)(x >> 50) % 50 - 40); break;
        case 3: { float f; uint32_t b = (uint32_t)x & 0x7f7fffffu; memcpy(&f, &b, 4);
                  snprintf(cells[i], 40, "%.9g", (double)f); break; }
        default: /* odd integers in [2^24, 2^25): exactly halfway between two floats */
            snprintf(cells[i], 40, "%llu", (unsigned long long)((1u << 24) + (x % (1u << 24))) | 1ULL);
            break;
        }
        len += (size_t)snprintf(text + len, cap - len, "%s\n", cells[i]);
    }
    nncl_csv_options o = {.label_mode = NNCL_CSV_LABEL_NONE};
    nncl_dataset ds;
    ck_assert_msg(nncl_csv_read_mem("f.csv", text, len, &o, &ds) == NNCL_OK, "%s", nncl_last_error());
    ck_assert_uint_eq(ds.rows, n);
    for (size_t i = 0; i < n; i++) {
        float want = strtof(cells[i], NULL);
        ck_assert_msg(memcmp(&want, &ds.x_f32[i], 4) == 0, "%s: got %.9g, want %.9g", cells[i],
                      (double)ds.x_f32[i], (double)want);
    }
    /* specific hard cases */
    const char *hard[] = {"16777217", "16777219", "0.1", "3.4028235e38", "1e-45", "1.4e-45",
                          "7.006492321624085354618e-46", "33554435", "1.00000005960464477539",
                          "9007199254740993", "123456789012345678901234567890"};
    for (size_t i = 0; i < sizeof hard / sizeof hard[0]; i++) {
        char t[128];
        snprintf(t, sizeof t, "v\n%s\n", hard[i]);
        nncl_dataset d1;
        ck_assert_int_eq(rd(t, &o, &d1), NNCL_OK);
        float want = strtof(hard[i], NULL);
        ck_assert_msg(memcmp(&want, d1.x_f32, 4) == 0, "%s", hard[i]);
        nncl_dataset_free(&d1);
    }
    nncl_dataset_free(&ds);
    free(text);
    free(cells);
}
END_TEST

START_TEST(label_choice)
{
    nncl_dataset ds;
    nncl_csv_options o = {.label = "kind"};
    ck_assert_int_eq(rd("kind,a,b\nx,1,2\ny,3,4\n", &o, &ds), NNCL_OK);
    ck_assert_uint_eq(ds.cols, 2);
    ck_assert_str_eq(ds.label_name, "kind");
    ck_assert_str_eq(ds.feature_names[0], "a");
    ck_assert_float_eq(ds.x_f32[2], 3.0f);
    nncl_dataset_free(&ds);
    o.label = "1";
    ck_assert_int_eq(rd("a,kind,b\n1,x,2\n3,y,4\n", &o, &ds), NNCL_OK);
    ck_assert_str_eq(ds.label_name, "kind");
    ck_assert_float_eq(ds.x_f32[3], 4.0f);
    nncl_dataset_free(&ds);
    o.label = "species";
    ck_assert_int_eq(rd("a,kind,b\n1,x,2\n", &o, &ds), NNCL_E_FORMAT);
    ck_error_has("t.csv: line 1", "no label column 'species'", "a, kind, b");
    o.label = "7";
    ck_assert_int_eq(rd("a,kind,b\n1,x,2\n", &o, &ds), NNCL_E_FORMAT);
    ck_error_has("t.csv: line 1", "index 7 is out of range", "3 columns");
    /* forced tasks */
    nncl_csv_options c = {.task = NNCL_CSV_TASK_CLASSIFY};
    ck_assert_int_eq(rd("a,y\n1,0.5\n2,1.5\n3,0.5\n", &c, &ds), NNCL_OK);
    ck_assert_int_eq(ds.task, NNCL_TASK_CLASSIFY);
    ck_assert_int_eq(ds.num_classes, 2);
    ck_assert_str_eq(ds.class_names[1], "1.5");
    nncl_dataset_free(&ds);
    nncl_csv_options g = {.task = NNCL_CSV_TASK_REGRESS};
    ck_assert_int_eq(rd("a,y\n1,0\n2,1\n", &g, &ds), NNCL_OK);
    ck_assert_int_eq(ds.task, NNCL_TASK_REGRESS);
    ck_assert_float_eq(ds.targets[1], 1.0f);
    nncl_dataset_free(&ds);
    ck_assert_int_eq(rd("a,y\n1,0\n2,one\n", &g, &ds), NNCL_E_FORMAT);
    ck_error_has("t.csv: line 3, column 2 ('y'): 'one' is not a number");
    ck_assert_int_eq(rd("a,y\n1,0\n2,\n", NULL, &ds), NNCL_E_FORMAT);
    ck_error_has("t.csv: line 3, column 2 ('y'): empty label");
    /* auto: integers are classes, anything fractional is regression */
    ck_assert_int_eq(rd("a,y\n1,3\n2,-1\n3,3.0\n", NULL, &ds), NNCL_OK);
    ck_assert_int_eq(ds.task, NNCL_TASK_CLASSIFY);
    ck_assert_int_eq(ds.num_classes, 2);
    ck_assert_str_eq(ds.class_names[0], "-1");
    ck_assert_int_eq(ds.labels[2], 1);
    nncl_dataset_free(&ds);
    ck_assert_int_eq(rd("a,y\n1,3\n2,-1\n3,3.25\n", NULL, &ds), NNCL_OK);
    ck_assert_int_eq(ds.task, NNCL_TASK_REGRESS);
    ck_assert_float_eq(ds.targets[2], 3.25f);
    nncl_dataset_free(&ds);
    /* mixed numbers and words: string classes */
    ck_assert_int_eq(rd("a,y\n1,3\n2,b\n3,10\n", NULL, &ds), NNCL_OK);
    ck_assert_int_eq(ds.num_classes, 3);
    ck_assert_str_eq(ds.class_names[0], "10");
    ck_assert_str_eq(ds.class_names[2], "b");
    nncl_dataset_free(&ds);
}
END_TEST

START_TEST(many_integer_labels_regress)
{
    /* more distinct integers than NNCL_CSV_AUTO_MAX_CLASSES: regression */
    size_t n = NNCL_CSV_AUTO_MAX_CLASSES + 10, cap = n * 16 + 16, len = 0;
    char *t = malloc(cap);
    len += (size_t)snprintf(t, cap, "a,price\n");
    for (size_t i = 0; i < n; i++) len += (size_t)snprintf(t + len, cap - len, "%zu,%zu\n", i, i * 3);
    nncl_dataset ds;
    ck_assert_int_eq(nncl_csv_read_mem("p.csv", t, len, NULL, &ds), NNCL_OK);
    ck_assert_int_eq(ds.task, NNCL_TASK_REGRESS);
    nncl_dataset_free(&ds);
    nncl_csv_options c = {.task = NNCL_CSV_TASK_CLASSIFY};
    ck_assert_int_eq(nncl_csv_read_mem("p.csv", t, len, &c, &ds), NNCL_OK);
    ck_assert_int_eq(ds.num_classes, (int)n);
    nncl_dataset_free(&ds);
    free(t);
}
END_TEST

static char *kaggle_text(bool with_label, int rows, int bad_row, const char *bad)
{
    size_t cap = 8 * 800 * (size_t)(rows + 2), len = 0;
    char *t = malloc(cap);
    if (with_label) len += (size_t)snprintf(t + len, cap - len, "label,");
    for (int i = 0; i < 784; i++) len += (size_t)snprintf(t + len, cap - len, "pixel%d%s", i, i < 783 ? "," : "\n");
    for (int r = 0; r < rows; r++) {
        if (with_label) len += (size_t)snprintf(t + len, cap - len, "%d,", (r * 3) % 10);
        for (int i = 0; i < 784; i++) {
            if (r == bad_row && i == 5) len += (size_t)snprintf(t + len, cap - len, "%s", bad);
            else len += (size_t)snprintf(t + len, cap - len, "%d", (r + i) % 256);
            t[len++] = i < 783 ? ',' : '\n';
        }
    }
    t[len] = '\0';
    return t;
}

START_TEST(kaggle)
{
    nncl_dataset ds;
    char *t = kaggle_text(true, 3, -1, NULL);
    ck_assert_int_eq(rd(t, NULL, &ds), NNCL_OK);
    ck_assert_uint_eq(ds.rows, 3);
    ck_assert_uint_eq(ds.cols, 784);
    ck_assert_ptr_nonnull(ds.x_u8);
    ck_assert_ptr_null(ds.x_f32);
    ck_assert_int_eq(ds.image_h, 28);
    ck_assert_int_eq(ds.image_w, 28);
    ck_assert_int_eq(ds.num_classes, 10);
    ck_assert_str_eq(ds.class_names[3], "3");
    ck_assert_int_eq(ds.labels[2], 6);
    ck_assert_int_eq(ds.x_u8[784 * 2 + 300], (2 + 300) % 256);
    ck_assert_str_eq(ds.feature_names[783], "pixel783");
    ck_assert_str_eq(ds.label_name, "label");
    nncl_dataset_free(&ds);
    /* no_images: a plain table */
    nncl_csv_options o = {.no_images = true, .label = "label"};
    ck_assert_int_eq(rd(t, &o, &ds), NNCL_OK);
    ck_assert_ptr_nonnull(ds.x_f32);
    nncl_dataset_free(&ds);
    free(t);
    /* the test file: no label */
    t = kaggle_text(false, 2, -1, NULL);
    nncl_csv_options none = {.label_mode = NNCL_CSV_LABEL_NONE};
    ck_assert_int_eq(rd(t, &none, &ds), NNCL_OK);
    ck_assert_uint_eq(ds.rows, 2);
    ck_assert_ptr_nonnull(ds.x_u8);
    ck_assert_ptr_null(ds.labels);
    ck_assert_int_eq(ds.num_classes, 10);
    nncl_dataset_free(&ds);
    nncl_csv_options opt = {.label_mode = NNCL_CSV_LABEL_OPTIONAL, .expect_cols = 784};
    ck_assert_int_eq(rd(t, &opt, &ds), NNCL_OK);
    ck_assert_ptr_null(ds.labels);
    nncl_dataset_free(&ds);
    ck_assert_int_eq(rd(t, NULL, &ds), NNCL_E_FORMAT);
    ck_error_has("t.csv: line 1", "no label column", "test file");
    free(t);
    /* OPTIONAL on the train file finds the labels */
    t = kaggle_text(true, 2, -1, NULL);
    ck_assert_int_eq(rd(t, &opt, &ds), NNCL_OK);
    ck_assert_ptr_nonnull(ds.labels);
    nncl_dataset_free(&ds);
    free(t);
    /* bad pixels */
    t = kaggle_text(true, 3, 1, "256");
    ck_assert_int_eq(rd(t, NULL, &ds), NNCL_E_FORMAT);
    ck_error_has("t.csv: line 3, column 7 ('pixel5'): '256' is out of range", "0..255");
    free(t);
    t = kaggle_text(true, 3, 2, "0.5");
    ck_assert_int_eq(rd(t, NULL, &ds), NNCL_E_FORMAT);
    ck_error_has("t.csv: line 4, column 7 ('pixel5'): '0.5' is not an integer 0..255");
    free(t);
    /* bad label */
    t = kaggle_text(true, 2, -1, NULL);
    char *p = strstr(t, "\n3,");
    p[1] = 'x';
    ck_assert_int_eq(rd(t, NULL, &ds), NNCL_E_FORMAT);
    ck_error_has("t.csv: line 3, column 1 ('label'): unknown label 'x'");
    free(t);
}
END_TEST

START_TEST(structure_errors)
{
    nncl_dataset ds;
    ck_assert_int_eq(rd("", NULL, &ds), NNCL_E_FORMAT);
    ck_error_has("t.csv: empty file");
    ck_assert_int_eq(rd("\xEF\xBB\xBF\n\n", NULL, &ds), NNCL_E_FORMAT);
    ck_error_has("t.csv: empty file");
    ck_assert_int_eq(rd("a,b,y\n", NULL, &ds), NNCL_E_FORMAT);
    ck_error_has("t.csv: header only", "no data rows");
    ck_assert_int_eq(rd("a,b,y\r\n\r\n", NULL, &ds), NNCL_E_FORMAT);
    ck_error_has("header only");
    ck_assert_int_eq(rd("\na,b\n", NULL, &ds), NNCL_E_FORMAT);
    ck_error_has("t.csv: line 1", "header line is empty");
    ck_assert_int_eq(rd("a,b,y\n1,2,3\n4,5\n", NULL, &ds), NNCL_E_FORMAT);
    ck_error_has("t.csv: line 3: 2 fields, expected 3 as in the header");
    ck_assert_int_eq(rd("a,b,y\n1,2,3\n4,5,6\n7,8,9,10\n", NULL, &ds), NNCL_E_FORMAT);
    ck_error_has("t.csv: line 4: 4 fields, expected 3 as in the header");
    /* a ragged row is reported as ragged even if a cell is also odd */
    ck_assert_int_eq(rd("a,b,y\n1,2,3\n4,x\n", NULL, &ds), NNCL_E_FORMAT);
    ck_error_has("t.csv: line 3: 2 fields");
    ck_assert_int_eq(rd("a,b,y\n1,2,3\n\n4,5,6\n", NULL, &ds), NNCL_E_FORMAT);
    ck_error_has("t.csv: line 3: empty line");
    ck_assert_int_eq(rd("a,b,a\n1,2,3\n", NULL, &ds), NNCL_E_FORMAT);
    ck_error_has("t.csv: line 1", "column 3 has the same name 'a' as column 1");
    ck_assert_int_eq(rd("only\n1\n", NULL, &ds), NNCL_E_FORMAT);
    ck_error_has("t.csv: line 1", "1 column");
    ck_assert_ptr_null(ds.x_f32);
}
END_TEST

START_TEST(model_checks)
{
    nncl_dataset ds;
    const char *classes[] = {"setosa", "versicolor", "virginica"};
    const char *feats[] = {"sl", "sw"};
    nncl_csv_options o = {.label = "species", .expect_classes = classes, .expect_num_classes = 3,
                          .expect_features = feats, .expect_cols = 2};
    ck_assert_int_eq(rd("sl,sw,species\n1,2,virginica\n3,4,setosa\n", &o, &ds), NNCL_OK);
    ck_assert_int_eq(ds.labels[0], 2);
    ck_assert_int_eq(ds.labels[1], 0);
    ck_assert_int_eq(ds.num_classes, 3);
    ck_assert_str_eq(ds.class_names[1], "versicolor");
    nncl_dataset_free(&ds);
    ck_assert_int_eq(rd("sl,sw,species\n1,2,virginica\n3,4,daisy\n", &o, &ds), NNCL_E_FORMAT);
    ck_error_has("t.csv: line 3, column 3 ('species'): unknown label 'daisy'", "setosa");
    ck_assert_int_eq(rd("sl,pw,species\n1,2,virginica\n", &o, &ds), NNCL_E_FORMAT);
    ck_error_has("t.csv: line 1, column 2 ('pw')", "'sw'");
    ck_assert_int_eq(rd("sl,sw,pw,species\n1,2,3,virginica\n", &o, &ds), NNCL_E_FORMAT);
    ck_error_has("t.csv: line 1: 3 feature columns", "expected 2 as in the model");
    /* evaluation input with the default label (the last column) but only the
     * model's features: no label column, said so, not "1 feature column" */
    o.label = NULL;
    ck_assert_int_eq(rd("sl,sw\n1,2\n", &o, &ds), NNCL_E_FORMAT);
    ck_error_has("t.csv: line 1: 2 columns (sl, sw): the model's 2 features and no label column",
                 "nncl predict needs none");
    ck_assert_int_eq(rd("sl,sw,species\n1,2,virginica\n", &o, &ds), NNCL_OK);
    ck_assert_int_eq(ds.labels[0], 2);
    nncl_dataset_free(&ds);
    o.label = "species";
    /* predict input: label optional */
    o.label_mode = NNCL_CSV_LABEL_OPTIONAL;
    ck_assert_int_eq(rd("sl,sw\n1,2\n", &o, &ds), NNCL_OK);
    ck_assert_ptr_null(ds.labels);
    ck_assert_int_eq(ds.num_classes, 3);
    ck_assert_str_eq(ds.class_names[2], "virginica");
    nncl_dataset_free(&ds);
    ck_assert_int_eq(rd("sl,sw,species\n1,2,setosa\n", &o, &ds), NNCL_OK);
    ck_assert_int_eq(ds.labels[0], 0);
    nncl_dataset_free(&ds);
    /* long class names in the message stay within bounds */
    char longname[300];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    const char *longc[] = {longname, longname + 1, longname + 2, longname + 3, longname + 4};
    nncl_csv_options lo = {.expect_classes = longc, .expect_num_classes = 5};
    ck_assert_int_eq(rd("a,y\n1,zzz\n", &lo, &ds), NNCL_E_FORMAT);
    ck_error_has("unknown label 'zzz'", "5 classes", "...");
    /* digits: "3.0" means class "3" */
    nncl_csv_options d = {.expect_classes = nncl_mnist_class_names, .expect_num_classes = 10};
    ck_assert_int_eq(rd("a,y\n1,3.0\n2,7\n", &d, &ds), NNCL_OK);
    ck_assert_int_eq(ds.labels[0], 3);
    ck_assert_int_eq(ds.labels[1], 7);
    nncl_dataset_free(&ds);
}
END_TEST

START_TEST(files)
{
    nncl_dataset ds;
    const char *text = "a,b,y\n1,2,u\n3,4,v\n";
    const char *p = tu_write_str("plain.csv", text);
    ck_assert_int_eq(nncl_csv_read(p, NULL, &ds), NNCL_OK);
    ck_assert_uint_eq(ds.rows, 2);
    ck_assert_str_eq(ds.source, p);
    nncl_dataset_free(&ds);
    p = tu_write_gz("packed.csv.gz", text, strlen(text));
    ck_assert_int_eq(nncl_csv_read(p, NULL, &ds), NNCL_OK);
    ck_assert_uint_eq(ds.rows, 2);
    nncl_dataset_free(&ds);
    p = tu_write_str("bad.csv", "a,b,y\n1,2,u\n3,x,v\n");
    ck_assert_int_eq(nncl_csv_read(p, NULL, &ds), NNCL_E_FORMAT);
    ck_error_has(p, "line 3, column 2 ('b')");
    p = tu_write_str("empty.csv", "");
    ck_assert_int_eq(nncl_csv_read(p, NULL, &ds), NNCL_E_FORMAT);
    ck_error_has(p, "empty file");
    ck_assert_int_eq(nncl_csv_read(tu_path("missing.csv"), NULL, &ds), NNCL_E_IO);
    ck_error_has(tu_path("missing.csv"), "No such file");
    ck_assert_int_eq(mkdir(tu_path("d.csv"), 0755), 0);
    ck_assert_int_eq(nncl_csv_read(tu_path("d.csv"), NULL, &ds), NNCL_E_IO);
    ck_error_has(tu_path("d.csv"), "is a directory");
}
END_TEST

START_TEST(big_file_mapped)
{
    /* enough rows to slide the reader's window many times */
    const char *p = tu_path("big.csv");
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "a,b,c,d,y\n");
    size_t n = 1500000;
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%zu,%zu.5,%zu,-%zu,%s\n", i, i % 97, i % 13, i % 7, i % 3 ? "yes" : "no");
    fclose(f);
    nncl_dataset ds;
    ck_assert_int_eq(nncl_csv_read(p, NULL, &ds), NNCL_OK);
    ck_assert_uint_eq(ds.rows, n);
    ck_assert_float_eq(ds.x_f32[(n - 1) * 4], (float)(n - 1));
    ck_assert_float_eq(ds.x_f32[(n - 1) * 4 + 1], (float)((n - 1) % 97) + 0.5f);
    ck_assert_int_eq(ds.labels[n - 1], (n - 1) % 3 ? 1 : 0);
    nncl_dataset_free(&ds);
}
END_TEST

START_TEST(predictions)
{
    const char *names[] = {"cat", "dog, big", "say \"hi\""};
    int32_t cls[] = {0, 2, 1, 0};
    const char *p = tu_path("pred.csv");
    ck_assert_int_eq(nncl_csv_write_predictions(p, NNCL_PRED_PLAIN, 4, cls, 3, names, NULL), NNCL_OK);
    char *t = tu_read(p, NULL);
    ck_assert_str_eq(t, "prediction\ncat\n\"say \"\"hi\"\"\"\n\"dog, big\"\ncat\n");
    free(t);
    /* the same text printed to a stream (predict's standard output) */
    char *mem = NULL;
    size_t mlen = 0;
    FILE *ms = open_memstream(&mem, &mlen);
    ck_assert_ptr_nonnull(ms);
    ck_assert_int_eq(nncl_csv_print_predictions(ms, "stream", NNCL_PRED_PLAIN, 4, cls, 3, names, NULL), NNCL_OK);
    fclose(ms);
    ck_assert_str_eq(mem, "prediction\ncat\n\"say \"\"hi\"\"\"\n\"dog, big\"\ncat\n");
    free(mem);
    ck_assert_int_eq(nncl_csv_write_predictions(p, NNCL_PRED_KAGGLE, 4, cls, 10,
                                                nncl_mnist_class_names, NULL), NNCL_OK);
    t = tu_read(p, NULL);
    ck_assert_str_eq(t, "ImageId,Label\n1,0\n2,2\n3,1\n4,0\n");
    free(t);
    float v[] = {1.5f, -2.0f, 0.1f};
    ck_assert_int_eq(nncl_csv_write_predictions(p, NNCL_PRED_PLAIN, 3, NULL, 0, NULL, v), NNCL_OK);
    t = tu_read(p, NULL);
    ck_assert_str_eq(t, "prediction\n1.5\n-2\n0.100000001\n");
    free(t);
    /* it reads back */
    nncl_dataset ds;
    nncl_csv_options o = {.label_mode = NNCL_CSV_LABEL_NONE};
    ck_assert_int_eq(nncl_csv_read(p, &o, &ds), NNCL_OK);
    ck_assert_float_eq(ds.x_f32[2], 0.1f);
    nncl_dataset_free(&ds);
    int32_t badc[] = {3};
    ck_assert_int_eq(nncl_csv_write_predictions(p, NNCL_PRED_PLAIN, 1, badc, 3, names, NULL),
                     NNCL_E_INVALID);
    ck_assert_int_eq(nncl_csv_write_predictions(tu_path("nodir/x.csv"), NNCL_PRED_PLAIN, 1, cls, 3,
                                                names, NULL), NNCL_E_IO);
    ck_error_has("nodir/x.csv");
    /* no temporary files left behind: the scratch directory (fresh for this
     * test) holds pred.csv and nothing else; the failed write into nodir/
     * must not have created the folder or anything beside pred.csv */
    ck_assert_int_eq(access(tu_path("pred.csv"), F_OK), 0);
    DIR *dir = opendir(tu_dir);
    ck_assert_ptr_nonnull(dir);
    int seen_pred = 0;
    for (struct dirent *e; (e = readdir(dir)) != NULL;) {
        if (strcmp(e->d_name, "pred.csv") == 0) {
            seen_pred = 1;
            continue;
        }
        ck_assert_msg(strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0,
                      "unexpected file left in the scratch directory: %s", e->d_name);
    }
    closedir(dir);
    ck_assert(seen_pred);
}
END_TEST

/* ---- bounded input: line and name limits, binary bytes, the memory budget */

START_TEST(line_limits)
{
    nncl_dataset ds;
    size_t big = NNCL_CSV_MAX_LINE + 10;
    char *t = malloc(big + 64);
    ck_assert_ptr_nonnull(t);
    /* a header line past the limit: refused after reading the limit */
    memset(t, 'a', big);
    strcpy(t + big, "\n1\n");
    ck_assert_int_eq(nncl_csv_read_mem("t.csv", t, strlen(t), NULL, &ds), NNCL_E_FORMAT);
    ck_error_has("t.csv: line 1: the header line is longer than 1048576 bytes (1 MiB)");
    /* no line break at all (what /dev/zero or a single 100 MB line gives) */
    t[big] = '\0';
    ck_assert_int_eq(nncl_csv_read_mem("t.csv", t, big, NULL, &ds), NNCL_E_FORMAT);
    ck_error_has("t.csv: line 1:", "longer than 1048576 bytes");
    /* a data row past the limit: 2 columns, so the limit is NNCL_CSV_MAX_LINE */
    strcpy(t, "a,y\n1,0\n");
    memset(t + 8, '1', big);
    strcpy(t + 8 + big, ",0\n");
    ck_assert_int_eq(nncl_csv_read_mem("t.csv", t, strlen(t), NULL, &ds), NNCL_E_FORMAT);
    ck_error_has("t.csv: line 3: the row is longer than 1048576 bytes", "2 columns");
    /* a quote never closed: past the limit it is the row's length that is wrong */
    strcpy(t, "a,y\n1,\"");
    memset(t + 7, 'x', big);
    t[7 + big] = '\0';
    ck_assert_int_eq(nncl_csv_read_mem("t.csv", t, strlen(t), NULL, &ds), NNCL_E_FORMAT);
    ck_error_has("t.csv: line 2: the row is longer than");
    /* names and labels longer than NNCL_CSV_MAX_NAME */
    memset(t, 'n', NNCL_CSV_MAX_NAME + 1);
    strcpy(t + NNCL_CSV_MAX_NAME + 1, ",y\n1,0\n");
    ck_assert_int_eq(nncl_csv_read_mem("t.csv", t, strlen(t), NULL, &ds), NNCL_E_FORMAT);
    ck_error_has("t.csv: line 1: column 1's name", "4097 bytes long", "limit of 4096");
    strcpy(t, "a,y\n1,");
    memset(t + 6, 'c', NNCL_CSV_MAX_NAME + 1);
    strcpy(t + 6 + NNCL_CSV_MAX_NAME + 1, "\n");
    ck_assert_int_eq(nncl_csv_read_mem("t.csv", t, strlen(t), NULL, &ds), NNCL_E_FORMAT);
    ck_error_has("t.csv: line 2, column 2 ('y'): the label", "4097 bytes long");
    free(t);
}
END_TEST

START_TEST(wide_rows)
{
    /* 20000 columns: a row may take 64 bytes a column, 1.28 MB, past the
     * 1 MiB that a narrow table's row may take */
    size_t cols = 20000, cell = 56;
    char *t = malloc(cols * (cell + 8) * 3);
    ck_assert_ptr_nonnull(t);
    size_t n = 0;
    for (size_t j = 0; j < cols; j++) n += (size_t)sprintf(t + n, "%sc%zu", j ? "," : "", j);
    t[n++] = '\n';
    for (int r = 0; r < 2; r++) {
        for (size_t j = 0; j < cols; j++) {
            n += (size_t)sprintf(t + n, "%s%d.", j ? "," : "", r);
            memset(t + n, '0', cell - 2);
            n += cell - 2;
        }
        t[n++] = '\n';
    }
    ck_assert_uint_gt(cols * cell, NNCL_CSV_MAX_LINE);   /* each row is past 1 MiB */
    nncl_dataset ds;
    ck_assert_msg(nncl_csv_read_mem("w.csv", t, n, NULL, &ds) == NNCL_OK, "%s", nncl_last_error());
    ck_assert_uint_eq(ds.rows, 2);
    ck_assert_uint_eq(ds.cols, cols - 1);
    nncl_dataset_free(&ds);
    free(t);
}
END_TEST

START_TEST(binary_files)
{
    nncl_dataset ds;
    static const char nul[] = "a,b,y\n1,2,0\n3,4,1\n5,\0,1\n";   /* the NUL is byte 20 */
    ck_assert_int_eq(nncl_csv_read_mem("t.csv", nul, sizeof nul - 1, NULL, &ds), NNCL_E_FORMAT);
    ck_error_has("t.csv: not a text file: byte 0x00 at offset 20 (line 4)");
    ck_assert_int_eq(rd("a,y\n1,\"x\001y\"\n", NULL, &ds), NNCL_E_FORMAT);   /* quoted */
    ck_error_has("byte 0x01 at offset 8 (line 2)");
    ck_assert_int_eq(rd("a\002,y\n1,0\n", NULL, &ds), NNCL_E_FORMAT);       /* header */
    ck_error_has("byte 0x02 at offset 1 (line 1)");
    ck_assert_int_eq(rd("a,y\n1,0\n\n\n\033\n", NULL, &ds), NNCL_E_FORMAT);  /* after blank lines */
    ck_error_has("byte 0x1b at offset 10");
    ck_assert_int_eq(rd("a,y\n1,0\n2,1\177\n", NULL, &ds), NNCL_E_FORMAT);  /* DEL */
    ck_error_has("byte 0x7f at offset 11");
    /* tab, vertical tab and form feed are text */
    ck_assert_int_eq(rd("a,y\n1,x\vy\n2,x\fy\n3,x\ty\n", NULL, &ds), NNCL_OK);
    ck_assert_int_eq(ds.num_classes, 3);
    nncl_dataset_free(&ds);
    /* hints from the first bytes */
    static const char utf16[] = "\xff\xfe" "a\0,\0y\0\n\0";
    ck_assert_int_eq(nncl_csv_read_mem("u.csv", utf16, sizeof utf16 - 1, NULL, &ds), NNCL_E_FORMAT);
    ck_error_has("u.csv: not a text file", "UTF-16");
    static const char idx[] = "\0\0\010\003\0\0\0\001";
    ck_assert_int_eq(nncl_csv_read_mem("i.csv", idx, sizeof idx - 1, NULL, &ds), NNCL_E_FORMAT);
    ck_error_has("byte 0x00 at offset 0", "an IDX file");
    /* gzip: the offset is in the decompressed bytes */
    const char *p = tu_write_gz("bin.csv.gz", nul, sizeof nul - 1);
    ck_assert_int_eq(nncl_csv_read(p, NULL, &ds), NNCL_E_FORMAT);
    ck_error_has(p, "byte 0x00 at offset 20 of the decompressed data (line 4)");
}
END_TEST

START_TEST(non_finite_labels)
{
    nncl_dataset ds;
    const char *words[] = {"nan", "NaN", "-nan", "inf", "-Inf", "+infinity", " NAN "};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++) {
        char t[128];
        snprintf(t, sizeof t, "a,y\n1,0\n2,%s\n3,1\n", words[i]);
        for (int task = NNCL_CSV_TASK_AUTO; task <= NNCL_CSV_TASK_REGRESS; task++) {
            nncl_csv_options o = {.task = (nncl_csv_task)task};
            ck_assert_int_eq(rd(t, &o, &ds), NNCL_E_FORMAT);
            ck_error_has("t.csv: line 3, column 2 ('y'): the label", "missing or non-finite");
        }
    }
    /* words that only start like them are class names */
    ck_assert_int_eq(rd("a,y\n1,nana\n2,information\n", NULL, &ds), NNCL_OK);
    ck_assert_int_eq(ds.num_classes, 2);
    nncl_dataset_free(&ds);
}
END_TEST

START_TEST(memory_budget)
{
    nncl_dataset ds;
    char *t = malloc(8192);
    size_t n = (size_t)sprintf(t, "a,b,y\n");
    for (int i = 0; i < 100; i++) n += (size_t)sprintf(t + n, "%d,%d,%d\n", i, i + 1, i % 2);
    /* a row takes 2 floats and 16 bytes of label: 24 bytes, so 1 KiB holds 42 */
    setenv("NNCL_MEMORY_LIMIT", "1K", 1);
    ck_assert_int_eq(nncl_csv_read_mem("t.csv", t, n, NULL, &ds), NNCL_E_FORMAT);
    ck_error_has("t.csv: line 44: 43 rows of 2 features", "memory budget of 1 KiB",
                 "NNCL_MEMORY_LIMIT=1K");
    setenv("NNCL_MEMORY_LIMIT", "3K", 1);
    ck_assert_int_eq(nncl_csv_read_mem("t.csv", t, n, NULL, &ds), NNCL_OK);
    ck_assert_uint_eq(ds.rows, 100);
    nncl_dataset_free(&ds);
    setenv("NNCL_MEMORY_LIMIT", "a lot", 1);
    ck_assert_int_eq(nncl_csv_read_mem("t.csv", t, n, NULL, &ds), NNCL_E_INVALID);
    ck_error_has("NNCL_MEMORY_LIMIT='a lot'", "512M");
    size_t b;
    setenv("NNCL_MEMORY_LIMIT", "1.5G", 1);
    ck_assert_int_eq(nncl_data_memory_budget(&b, NULL, 0), NNCL_OK);
    ck_assert_uint_eq(b, (size_t)3 << 29);
    unsetenv("NNCL_MEMORY_LIMIT");
    char why[160];
    ck_assert_int_eq(nncl_data_memory_budget(&b, why, sizeof why), NNCL_OK);
    ck_assert_uint_gt(b, 0);
    ck_assert_ptr_nonnull(strstr(why, "half of the"));
    free(t);
}
END_TEST

/* Writes n bytes of text to the FIFO at path from a child process (or, with
 * text NULL, digits without a line break until the reader goes away). */
static pid_t fifo_writer(const char *path, const char *text, size_t n)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        signal(SIGPIPE, SIG_IGN);
        int fd = open(path, O_WRONLY);
        if (fd < 0) _exit(1);
        if (text) {
            for (size_t k = 0; k < n;) {
                ssize_t w = write(fd, text + k, n - k);
                if (w <= 0) _exit(1);
                k += (size_t)w;
            }
        } else {
            static char digits[65536];
            memset(digits, '7', sizeof digits);
            while (write(fd, digits, sizeof digits) > 0) {}
        }
        _exit(0);
    }
    return pid;
}

START_TEST(streams)
{
    nncl_dataset ds;
    const char *fifo = tu_path("fifo");
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    /* a pipe is read as a stream */
    const char *text = "a,b,y\n1,2,u\n3,4,v\n5,6,u\n";
    pid_t w = fifo_writer(fifo, text, strlen(text));
    ck_assert_msg(nncl_csv_read(fifo, NULL, &ds) == NNCL_OK, "%s", nncl_last_error());
    ck_assert_uint_eq(ds.rows, 3);
    nncl_dataset_free(&ds);
    waitpid(w, NULL, 0);
    /* a pipe without line breaks is refused after the limit */
    w = fifo_writer(fifo, NULL, 0);
    ck_assert_int_eq(nncl_csv_read(fifo, NULL, &ds), NNCL_E_FORMAT);
    ck_error_has(fifo, "line 1: the header line is longer than 1048576 bytes");
    waitpid(w, NULL, 0);

    /* rows with a line break inside quotes, over several windows: the rows
     * and the line numbers come out right wherever a window ends */
    const char *p = tu_path("quoted.csv");
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "a,y\n");
    size_t rows = 700000;
    for (size_t i = 0; i < rows; i++) fprintf(f, "%zu,\"x\n%c\"\n", i, i % 3 ? 'y' : 'z');
    fclose(f);
    ck_assert_msg(nncl_csv_read(p, NULL, &ds) == NNCL_OK, "%s", nncl_last_error());
    ck_assert_uint_eq(ds.rows, rows);
    ck_assert_int_eq(ds.labels[rows - 1], (rows - 1) % 3 ? 0 : 1);
    ck_assert_float_eq(ds.x_f32[rows - 1], (float)(rows - 1));
    nncl_dataset_free(&ds);
    f = fopen(p, "a");
    fprintf(f, "7\n");
    fclose(f);
    ck_assert_int_eq(nncl_csv_read(p, NULL, &ds), NNCL_E_FORMAT);
    char want[64];
    snprintf(want, sizeof want, "line %zu: 1 field, expected 2", 2 + 2 * rows);
    ck_error_has(p, want);
}
END_TEST

START_TEST(test_file_without_label)
{
    nncl_dataset ds;
    const char *const feats[] = {"a", "b"};
    nncl_csv_options o = {.label = "y", .expect_features = feats, .expect_cols = 2};
    ck_assert_int_eq(rd("a,b\n1,2\n", &o, &ds), NNCL_E_FORMAT);
    ck_error_has("t.csv: line 1: the file lacks the label column 'y' that the training data has",
                 "a, b");
}
END_TEST

START_TEST(label_advice)
{
    nncl_dataset ds;
    char text[256], t[16384];
    /* one integer value per row: a regression target, guessed as classes */
    size_t n = (size_t)sprintf(t, "a,price\n");
    for (int i = 0; i < 200; i++) n += (size_t)sprintf(t + n, "%d,%d\n", i, 3 * i + 1);
    ck_assert_int_eq(rd(t, NULL, &ds), NNCL_OK);
    ck_assert_int_eq(ds.task, NNCL_TASK_CLASSIFY);
    ck_assert_int_eq(nncl_label_advice(&ds, text, sizeof text), NNCL_LABEL_ADVICE_REGRESSION);
    ck_assert_ptr_nonnull(strstr(text, "column 'price' has 200 distinct values for 200 rows"));
    ck_assert_ptr_nonnull(strstr(text, "regression target?"));
    nncl_dataset_free(&ds);
    /* 20 named classes in 60 rows */
    n = (size_t)sprintf(t, "a,kind\n");
    for (int i = 0; i < 60; i++) n += (size_t)sprintf(t + n, "%d,k%d\n", i, i % 20);
    ck_assert_int_eq(rd(t, NULL, &ds), NNCL_OK);
    ck_assert_int_eq(nncl_label_advice(&ds, text, sizeof text), NNCL_LABEL_ADVICE_FEW_ROWS);
    ck_assert_ptr_nonnull(strstr(text, "column 'kind' has 20 classes for 60 rows"));
    nncl_dataset_free(&ds);
    /* fine: 20 integer classes with 5 rows each; 10 classes with 2 */
    n = (size_t)sprintf(t, "a,y\n");
    for (int i = 0; i < 100; i++) n += (size_t)sprintf(t + n, "%d,%d\n", i, i % 20);
    ck_assert_int_eq(rd(t, NULL, &ds), NNCL_OK);
    ck_assert_int_eq(nncl_label_advice(&ds, text, sizeof text), NNCL_LABEL_ADVICE_NONE);
    ck_assert_str_eq(text, "");
    nncl_dataset_free(&ds);
    n = (size_t)sprintf(t, "a,y\n");
    for (int i = 0; i < 20; i++) n += (size_t)sprintf(t + n, "%d,%d\n", i, i % 10);
    ck_assert_int_eq(rd(t, NULL, &ds), NNCL_OK);
    ck_assert_int_eq(nncl_label_advice(&ds, NULL, 0), NNCL_LABEL_ADVICE_NONE);
    nncl_dataset_free(&ds);
    /* regression data gets none */
    ck_assert_int_eq(rd("a,y\n1,0.5\n2,1.5\n", NULL, &ds), NNCL_OK);
    ck_assert_int_eq(nncl_label_advice(&ds, text, sizeof text), NNCL_LABEL_ADVICE_NONE);
    nncl_dataset_free(&ds);
    /* a stray label among numbers: one "cat" at data row 50 of 200 */
    n = (size_t)sprintf(t, "a,label\n");
    for (int i = 1; i <= 200; i++) n += (size_t)sprintf(t + n, "%d,%s\n", i, i == 50 ? "cat" : i % 2 ? "1" : "0");
    ck_assert_int_eq(rd(t, NULL, &ds), NNCL_OK);
    ck_assert_int_eq(ds.num_classes, 3);
    ck_assert_int_eq(nncl_label_advice(&ds, text, sizeof text), NNCL_LABEL_ADVICE_STRAY);
    ck_assert_str_eq(text, "column 'label': 'cat' (1 row: data row 50) is not a number like the other 2 classes: a "
                           "typo or a missing value? It is trained as a class of its own");
    nncl_dataset_free(&ds);
    /* two of them, "NA" twice (rows 7 and 9) and "?" once (row 3), in 60 rows: at most 3 */
    n = (size_t)sprintf(t, "a,y\n");
    for (int i = 1; i <= 60; i++)
        n += (size_t)sprintf(t + n, "%d,%s\n", i, i == 7 || i == 9 ? "NA" : i == 3 ? "?" : i % 3 ? "2" : "5");
    ck_assert_int_eq(rd(t, NULL, &ds), NNCL_OK);
    ck_assert_int_eq(nncl_label_advice(&ds, text, sizeof text), NNCL_LABEL_ADVICE_STRAY);
    ck_assert_msg(strstr(text, "'NA' (2 rows; the first: data row 7)") && strstr(text, "'?' (1 row: data row 3)") &&
                      strstr(text, "are not numbers like the other 2 classes") &&
                      strstr(text, "trained as classes of their own"), "%s", text);
    nncl_dataset_free(&ds);
    /* not stray: four rows of "NA" in 30 (more than 3, more than 1%); a
     * named class beside numbers (3 rows of 30: as many as a tenth of the
     * rest or more); one numeric class only; names only */
    static const char *const fine[] = {"NA", "other", "1", "x"};
    static const int every[] = {7, 9, 1, 2};
    for (int c = 0; c < 4; c++) {
        n = (size_t)sprintf(t, "a,y\n");
        for (int i = 1; i <= 30; i++) {
            const char *y = c == 0   ? (i <= 4 ? "NA" : i % 2 ? "1" : "0")
                            : c == 1 ? (i % every[c] == 0 ? "other" : i % 2 ? "1" : "0")
                            : c == 2 ? (i == 5 ? "odd" : "1")
                                     : (i % 2 ? "x" : i == 4 ? "1" : "y");
            n += (size_t)sprintf(t + n, "%d,%s\n", i, y);
        }
        ck_assert_int_eq(rd(t, NULL, &ds), NNCL_OK);
        ck_assert_msg(nncl_label_advice(&ds, text, sizeof text) == NNCL_LABEL_ADVICE_NONE, "case %s: %s", fine[c],
                      text);
        nncl_dataset_free(&ds);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("csv");
    TCase *tc = tcase_create("csv");
    tcase_add_checked_fixture(tc, tu_setup, tu_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, basic_strings);
    tcase_add_test(tc, semicolon_crlf_bom);
    tcase_add_test(tc, tabs);
    tcase_add_test(tc, quotes);
    tcase_add_test(tc, numbers);
    tcase_add_test(tc, float_exactness);
    tcase_add_test(tc, label_choice);
    tcase_add_test(tc, many_integer_labels_regress);
    tcase_add_test(tc, kaggle);
    tcase_add_test(tc, structure_errors);
    tcase_add_test(tc, model_checks);
    tcase_add_test(tc, files);
    tcase_add_test(tc, big_file_mapped);
    tcase_add_test(tc, predictions);
    tcase_add_test(tc, line_limits);
    tcase_add_test(tc, wide_rows);
    tcase_add_test(tc, binary_files);
    tcase_add_test(tc, non_finite_labels);
    tcase_add_test(tc, memory_budget);
    tcase_add_test(tc, streams);
    tcase_add_test(tc, test_file_without_label);
    tcase_add_test(tc, label_advice);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
