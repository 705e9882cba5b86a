/* Finding datasets by name or path, and their SHA-256 record. */
#include "testutil.h"

#include <sys/stat.h>

#include "nncl_config.h"

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24); p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8); p[3] = (unsigned char)v;
}

/* A tiny IDX dataset (n images of 2x2) in dir/; gz or raw; test set optional. */
static void make_idx_dir(const char *dir, bool gz, bool test, uint32_t n)
{
    char path[600];
    mkdir(tu_path(dir), 0755);
    unsigned char img[16 + 64 * 4], lab[8 + 64];
    put_be32(img, 0x803); put_be32(img + 4, n); put_be32(img + 8, 2); put_be32(img + 12, 2);
    put_be32(lab, 0x801); put_be32(lab + 4, n);
    for (uint32_t i = 0; i < n * 4; i++) img[16 + i] = (unsigned char)i;
    for (uint32_t i = 0; i < n; i++) lab[8 + i] = (unsigned char)(i % 10);
    const char *pre[2] = {"train", "t10k"};
    for (int k = 0; k < (test ? 2 : 1); k++) {
        snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte%s", dir, pre[k], gz ? ".gz" : "");
        if (gz) tu_write_gz(path, img, 16 + n * 4); else tu_write(path, img, 16 + n * 4);
        snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte%s", dir, pre[k], gz ? ".gz" : "");
        if (gz) tu_write_gz(path, lab, 8 + n); else tu_write(path, lab, 8 + n);
    }
}

START_TEST(by_name_env)
{
    make_idx_dir("mnist", true, true, 12);
    make_idx_dir("fashion-mnist", false, true, 10);
    setenv("NNCL_DATA", tu_dir, 1);
    nncl_data_source src;
    ck_assert_int_eq(nncl_data_resolve("mnist", NULL, &src), NNCL_OK);
    ck_assert_str_eq(src.name, "mnist");
    ck_assert_str_eq(src.dir, tu_path("mnist"));
    ck_assert(src.has_test);
    ck_assert_uint_eq(src.train.rows, 12);
    ck_assert_uint_eq(src.test.rows, 12);
    ck_assert_uint_eq(src.train.cols, 4);
    ck_assert_int_eq(src.train.num_classes, 10);
    ck_assert_str_eq(src.test.class_names[7], "7");
    ck_assert_int_eq(src.num_files, 4);
    ck_assert_ptr_nonnull(strstr(src.files[0], "train-images-idx3-ubyte.gz"));
    ck_assert_uint_eq(strlen(src.sha256), 64);
    char hex[65];
    ck_assert_int_eq(nncl_sha256_files((const char *const *)src.files, 4, hex), NNCL_OK);
    ck_assert_str_eq(hex, src.sha256);
    nncl_data_source_free(&src);

    nncl_resolve_options o = {.no_test = true, .no_hash = true};
    ck_assert_int_eq(nncl_data_resolve("Fashion_MNIST", &o, &src), NNCL_OK);
    ck_assert_str_eq(src.name, "fashion-mnist");
    ck_assert(!src.has_test);
    ck_assert_str_eq(src.sha256, "");
    ck_assert_str_eq(src.train.class_names[0], "T-shirt/top");
    ck_assert_str_eq(src.train.class_names[9], "Ankle boot");
    nncl_data_source_free(&src);

    ck_assert_int_eq(nncl_data_resolve("nosuch", NULL, &src), NNCL_E_NOT_FOUND);
    ck_error_has("dataset 'nosuch' not found", tu_path("nosuch"), NNCL_DATADIR);
    unsetenv("NNCL_DATA");
}
END_TEST

START_TEST(by_path)
{
    make_idx_dir("plain", false, false, 5);
    nncl_data_source src;
    ck_assert_int_eq(nncl_data_resolve(tu_path("plain"), NULL, &src), NNCL_OK);
    ck_assert(!src.has_test);
    ck_assert_int_eq(src.num_files, 2);
    ck_assert_int_eq(src.train.num_classes, 5); /* unknown dataset: max label + 1 */
    nncl_data_source_free(&src);
    /* half a test set */
    make_idx_dir("half", false, false, 5);
    tu_write_str("half/t10k-images-idx3-ubyte", "x");
    ck_assert_int_eq(nncl_data_resolve(tu_path("half"), NULL, &src), NNCL_E_FORMAT);
    ck_error_has("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte");
    /* an empty directory */
    mkdir(tu_path("empty"), 0755);
    ck_assert_int_eq(nncl_data_resolve(tu_path("empty"), NULL, &src), NNCL_E_NOT_FOUND);
    ck_error_has(tu_path("empty"), "train-images-idx3-ubyte");
    /* a CSV file */
    const char *p = tu_write_str("iris.csv", "a,b,y\n1,2,x\n3,4,z\n");
    ck_assert_int_eq(nncl_data_resolve(p, NULL, &src), NNCL_OK);
    ck_assert_uint_eq(src.train.rows, 2);
    ck_assert_str_eq(src.name, p);
    ck_assert_ptr_null(src.dir);
    ck_assert_int_eq(src.num_files, 1);
    nncl_data_source_free(&src);
    nncl_csv_options co = {.label = "q"};
    nncl_resolve_options o = {.csv = &co};
    ck_assert_int_eq(nncl_data_resolve(p, &o, &src), NNCL_E_FORMAT);
    ck_error_has(p, "no label column 'q'");
    ck_assert_int_eq(nncl_data_resolve(tu_path("nothere.csv"), NULL, &src), NNCL_E_IO);
    ck_error_has(tu_path("nothere.csv"), "No such file");
}
END_TEST

START_TEST(sha256_known)
{
    const char *p[2] = {tu_write_str("a", "ab"), tu_write_str("b", "c")};
    char hex[65];
    ck_assert_int_eq(nncl_sha256_files(p, 2, hex), NNCL_OK);
    ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    ck_assert_int_eq(nncl_sha256_files(p, 0, hex), NNCL_OK);
    ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const char *q[1] = {tu_path("missing")};
    ck_assert_int_eq(nncl_sha256_files(q, 1, hex), NNCL_E_IO);
    ck_error_has(tu_path("missing"));
}
END_TEST

/* The real Fashion-MNIST, where Debian's package is installed. */
START_TEST(debian_fashion)
{
    struct stat st;
    /* tools/setup.sh test installs it; elsewhere say that the test did nothing */
    if (stat("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz", &st) != 0) {
        fprintf(stderr, "debian_fashion: SKIPPED: dataset-fashion-mnist is not installed\n");
        return;
    }
    setenv("NNCL_DATA", tu_dir, 1); /* empty: falls through to the Debian directory */
    nncl_data_source src;
    nncl_resolve_options o = {.no_hash = true};
    nncl_status s = nncl_data_resolve("fashion-mnist", &o, &src);
    unsetenv("NNCL_DATA");
    ck_assert_msg(s == NNCL_OK, "%s", nncl_last_error());
    ck_assert_uint_eq(src.train.rows, 60000);
    ck_assert_uint_eq(src.test.rows, 10000);
    ck_assert_int_eq(src.train.image_h, 28);
    ck_assert_str_eq(src.train.class_names[9], "Ankle boot");
    nncl_data_source_free(&src);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("resolve");
    TCase *tc = tcase_create("resolve");
    tcase_add_checked_fixture(tc, tu_setup, tu_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, by_name_env);
    tcase_add_test(tc, by_path);
    tcase_add_test(tc, sha256_known);
    tcase_add_test(tc, debian_fashion);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
