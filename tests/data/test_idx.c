/* IDX reader: good files raw and gzipped, and every way a file can be wrong. */
#include "testutil.h"

#include "data/fileio.h"

#include <sys/stat.h>

static size_t put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24); p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8); p[3] = (unsigned char)v;
    return 4;
}

/* count images of h x w, pixel = (i * 7 + k) & 255. Returns the size. */
static size_t make_images(unsigned char *buf, uint32_t magic, uint32_t count, uint32_t h, uint32_t w)
{
    size_t n = 0;
    n += put_be32(buf + n, magic);
    n += put_be32(buf + n, count);
    n += put_be32(buf + n, h);
    n += put_be32(buf + n, w);
    for (size_t i = 0; i < (size_t)count * h * w; i++) buf[n++] = (unsigned char)((i / (h * w)) * 7 + i);
    return n;
}

static size_t make_labels(unsigned char *buf, uint32_t count, int mod)
{
    size_t n = 0;
    n += put_be32(buf + n, 0x00000801);
    n += put_be32(buf + n, count);
    for (uint32_t i = 0; i < count; i++) buf[n++] = (unsigned char)(i % mod);
    return n;
}

static unsigned char img[16 + 5 * 4 * 3 + 64], lab[8 + 5 + 64];

START_TEST(raw_pair)
{
    size_t ni = make_images(img, 0x803, 5, 4, 3), nl = make_labels(lab, 5, 3);
    const char *pi = tu_write("i", img, ni);
    const char *pl = tu_write("l", lab, nl);
    nncl_dataset ds;
    ck_assert_int_eq(nncl_idx_load_pair(pi, pl, 10, NULL, &ds), NNCL_OK);
    ck_assert_uint_eq(ds.rows, 5);
    ck_assert_uint_eq(ds.cols, 12);
    ck_assert_int_eq(ds.image_h, 4);
    ck_assert_int_eq(ds.image_w, 3);
    ck_assert_ptr_nonnull(ds.x_u8);
    ck_assert_ptr_null(ds.x_f32);
    ck_assert_int_eq(ds.num_classes, 10);
    ck_assert_str_eq(ds.class_names[9], "9");
    ck_assert_int_eq(ds.labels[4], 1);
    ck_assert_int_eq(ds.x_u8[12 * 2 + 5], img[16 + 12 * 2 + 5]);
    ck_assert_int_eq(ds.task, NNCL_TASK_CLASSIFY);
    ck_assert_str_eq(ds.source, pi);
    nncl_dataset_free(&ds);
    /* num_classes 0: inferred as max label + 1 */
    ck_assert_int_eq(nncl_idx_load_pair(pi, pl, 0, NULL, &ds), NNCL_OK);
    ck_assert_int_eq(ds.num_classes, 3);
    nncl_dataset_free(&ds);
}
END_TEST

START_TEST(gz_pair)
{
    size_t ni = make_images(img, 0x803, 5, 4, 3), nl = make_labels(lab, 5, 3);
    /* names without .gz: detection is by magic bytes */
    const char *pi = tu_write_gz("images-noext", img, ni);
    const char *pl = tu_write_gz("labels.gz", lab, nl);
    nncl_dataset ds;
    ck_assert_int_eq(nncl_idx_load_pair(pi, pl, 10, nncl_fashion_mnist_class_names, &ds), NNCL_OK);
    ck_assert_uint_eq(ds.rows, 5);
    ck_assert_int_eq(memcmp(ds.x_u8, img + 16, 60), 0);
    ck_assert_str_eq(ds.class_names[9], "Ankle boot");
    nncl_dataset_free(&ds);
}
END_TEST

START_TEST(wrong_magic)
{
    size_t nl = make_labels(lab, 5, 3);
    const char *pl = tu_write("train-images-idx3-ubyte", lab, nl);
    uint8_t *d;
    size_t count;
    int h, w;
    ck_assert_int_eq(nncl_idx_load_images(pl, &d, &count, &h, &w), NNCL_E_FORMAT);
    ck_error_has(pl, "bad magic number 0x00000801", "expected 0x00000803", "label file");
    /* gzipped, the same message */
    pl = tu_write_gz("x.gz", lab, nl);
    ck_assert_int_eq(nncl_idx_load_images(pl, &d, &count, &h, &w), NNCL_E_FORMAT);
    ck_error_has(pl, "bad magic number 0x00000801");
    /* images given as labels */
    size_t ni = make_images(img, 0x803, 5, 4, 3);
    const char *pi = tu_write("i", img, ni);
    ck_assert_int_eq(nncl_idx_load_labels(pi, &d, &count), NNCL_E_FORMAT);
    ck_error_has(pi, "0x00000803", "expected 0x00000801");
    /* text */
    pi = tu_write_str("t", "hello world\n");
    ck_assert_int_eq(nncl_idx_load_labels(pi, &d, &count), NNCL_E_FORMAT);
    ck_error_has(pi, "bad magic");
}
END_TEST

START_TEST(truncated_and_trailing)
{
    uint8_t *d;
    size_t count;
    int h, w;
    size_t ni = make_images(img, 0x803, 5, 4, 3);
    const char *p = tu_write("short", img, ni - 1);
    ck_assert_int_eq(nncl_idx_load_images(p, &d, &count, &h, &w), NNCL_E_FORMAT);
    ck_error_has(p, "truncated", "75 bytes", "5 images of 4x3", "76");
    p = tu_write("long", img, ni + 3);
    ck_assert_int_eq(nncl_idx_load_images(p, &d, &count, &h, &w), NNCL_E_FORMAT);
    ck_error_has(p, "3 unexpected bytes");
    p = tu_write_gz("short.gz", img, ni - 10);
    ck_assert_int_eq(nncl_idx_load_images(p, &d, &count, &h, &w), NNCL_E_FORMAT);
    ck_error_has(p, "truncated", "66 bytes");
    p = tu_write_gz("long.gz", img, ni + 2);
    ck_assert_int_eq(nncl_idx_load_images(p, &d, &count, &h, &w), NNCL_E_FORMAT);
    ck_error_has(p, "unexpected bytes");
    p = tu_write("hdr", img, 10);
    ck_assert_int_eq(nncl_idx_load_images(p, &d, &count, &h, &w), NNCL_E_FORMAT);
    ck_error_has(p, "truncated header");
    p = tu_write("tiny", img, 2);
    ck_assert_int_eq(nncl_idx_load_images(p, &d, &count, &h, &w), NNCL_E_FORMAT);
    ck_error_has(p, "2 bytes");
    p = tu_write("empty", img, 0);
    ck_assert_int_eq(nncl_idx_load_labels(p, &d, &count), NNCL_E_FORMAT);
    ck_error_has(p, "0 bytes");
    /* zero images and absurd sides */
    ni = make_images(img, 0x803, 0, 4, 3);
    p = tu_write("zero", img, ni);
    ck_assert_int_eq(nncl_idx_load_images(p, &d, &count, &h, &w), NNCL_E_FORMAT);
    ck_error_has(p, "0 images");
    make_images(img, 0x803, 0, 4, 3);
    put_be32(img + 4, 1);
    put_be32(img + 8, 0);
    p = tu_write("zeroside", img, 16);
    ck_assert_int_eq(nncl_idx_load_images(p, &d, &count, &h, &w), NNCL_E_FORMAT);
    ck_error_has(p, "0x3 images", "1..65535");
}
END_TEST

START_TEST(truncated_gz_stream)
{
    uint8_t *d;
    size_t count;
    int h, w;
    static unsigned char big[16 + 200 * 28 * 28];
    size_t ni = make_images(big, 0x803, 200, 28, 28);
    const char *p = tu_write_gz("full.gz", big, ni);
    size_t n;
    char *gz = tu_read(p, &n);
    /* cut the compressed stream: zlib reports an unexpected end */
    p = tu_write("cut.gz", gz, n / 2);
    ck_assert_int_eq(nncl_idx_load_images(p, &d, &count, &h, &w), NNCL_E_FORMAT);
    ck_error_has(p);
    ck_assert_msg(strstr(nncl_last_error(), "gzip") || strstr(nncl_last_error(), "truncated"),
                  "%s", nncl_last_error());
    /* damage the compressed data (not the header) */
    for (size_t i = 20; i < n - 8; i += 3) gz[i] ^= 0x5a;
    p = tu_write("bad.gz", gz, n);
    ck_assert_int_eq(nncl_idx_load_images(p, &d, &count, &h, &w), NNCL_E_FORMAT);
    ck_error_has(p);
    /* a gzip header and garbage */
    unsigned char junk[64] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
    for (int i = 10; i < 64; i++) junk[i] = (unsigned char)(0xff - i);
    p = tu_write("junk.gz", junk, sizeof junk);
    ck_assert_int_eq(nncl_idx_load_images(p, &d, &count, &h, &w), NNCL_E_FORMAT);
    ck_error_has(p, "corrupt gzip data");
    /* a bad CRC: flip a bit of the trailer */
    free(gz);
    gz = tu_read(tu_path("full.gz"), &n);
    gz[n - 6] ^= 1;
    p = tu_write("crc.gz", gz, n);
    ck_assert_int_eq(nncl_idx_load_images(p, &d, &count, &h, &w), NNCL_E_FORMAT);
    ck_error_has(p, "corrupt gzip data");
    free(gz);
}
END_TEST

/* The fast way (libdeflate, the whole file at once) takes a plain gzip file
 * and nothing else; everything else streams through zlib, same data, same
 * messages. */
START_TEST(gz_whole_or_streamed)
{
    static unsigned char big[16 + 300 * 28 * 28];
    size_t ni = make_images(big, 0x803, 300, 28, 28);
    const char *p = tu_write_gz("plain.gz", big, ni);
    nncl_data_file f;
    uint8_t *out, *d;
    size_t len, count, n;
    int h, w;
    ck_assert_int_eq(nncl_data_open(p, &f), NNCL_OK);
    ck_assert(nncl_gz_inflate_whole(&f, SIZE_MAX, &out, &len));
    ck_assert_uint_eq(len, ni);
    ck_assert_int_eq(memcmp(out, big, ni), 0);
    free(out);
    /* the file and its output together beyond max_out: not this way */
    ck_assert(!nncl_gz_inflate_whole(&f, ni, &out, &len));
    ck_assert_ptr_null(out);
    nncl_data_close(&f);
    ck_assert_int_eq(nncl_idx_load_images(p, &d, &count, &h, &w), NNCL_OK);
    ck_assert_uint_eq(count, 300);
    ck_assert_int_eq(memcmp(d, big + 16, ni - 16), 0);
    free(d);

    /* two gzip members, one after the other (cat a.gz b.gz): streamed */
    char *whole = tu_read(p, &n);
    const char *a = tu_write_gz("half-a.gz", big, ni / 2);
    size_t na, nb;
    char *ga = tu_read(a, &na), *gb = tu_read(tu_write_gz("half-b.gz", big + ni / 2, ni - ni / 2), &nb);
    char *cat = malloc(na + nb);
    memcpy(cat, ga, na);
    memcpy(cat + na, gb, nb);
    p = tu_write("two-members.gz", cat, na + nb);
    ck_assert_int_eq(nncl_data_open(p, &f), NNCL_OK);
    ck_assert(!nncl_gz_inflate_whole(&f, SIZE_MAX, &out, &len));
    nncl_data_close(&f);
    ck_assert_int_eq(nncl_idx_load_images(p, &d, &count, &h, &w), NNCL_OK);
    ck_assert_uint_eq(count, 300);
    ck_assert_int_eq(memcmp(d, big + 16, ni - 16), 0);
    free(d);

    /* a trailer whose size lies: refused both ways, zlib's message */
    whole[n - 1] ^= 0x40;
    p = tu_write("isize.gz", whole, n);
    ck_assert_int_eq(nncl_data_open(p, &f), NNCL_OK);
    ck_assert(!nncl_gz_inflate_whole(&f, SIZE_MAX, &out, &len));
    nncl_data_close(&f);
    ck_assert_int_eq(nncl_idx_load_images(p, &d, &count, &h, &w), NNCL_E_FORMAT);
    ck_error_has(p, "corrupt gzip data");
    free(whole);
    free(ga);
    free(gb);
    free(cat);

    /* A trailer is data: one that claims more than deflate's 1032:1 could
     * give sizes no buffer (a 60-byte file said 2.7 GB to the fuzzer). Data
     * at deflate's best ratio still takes the fast way. */
    ck_assert(nncl_gz_whole_fits(1000, 1032000, SIZE_MAX));
    ck_assert(!nncl_gz_whole_fits(1000, 1033032, SIZE_MAX));
    ck_assert(!nncl_gz_whole_fits(60, 2684551168u, SIZE_MAX));
    ck_assert(!nncl_gz_whole_fits(1000, 0, SIZE_MAX));
    ck_assert(!nncl_gz_whole_fits(1000, 5000, 5999));
    ck_assert(nncl_gz_whole_fits(1000, 5000, 6000));
    size_t nz = 4u << 20;
    unsigned char *zeros = calloc(nz, 1);
    p = tu_write_gz("zeros.gz", zeros, nz);
    ck_assert_int_eq(nncl_data_open(p, &f), NNCL_OK);
    ck_assert_msg(f.size * 1000 < nz, "zlib packs zeros %llu:1", (unsigned long long)(nz / f.size));
    ck_assert(nncl_gz_inflate_whole(&f, SIZE_MAX, &out, &len));
    ck_assert_uint_eq(len, nz);
    ck_assert_int_eq(memcmp(out, zeros, nz), 0);
    free(out);
    nncl_data_close(&f);
    free(zeros);
}
END_TEST

START_TEST(pair_mismatch)
{
    size_t ni = make_images(img, 0x803, 5, 4, 3), nl = make_labels(lab, 4, 3);
    const char *pi = tu_write("imgs", img, ni);
    const char *pl = tu_write("labs", lab, nl);
    nncl_dataset ds;
    ck_assert_int_eq(nncl_idx_load_pair(pi, pl, 10, NULL, &ds), NNCL_E_FORMAT);
    ck_error_has(pl, pi, "4 labels", "5 images");
    ck_assert_ptr_null(ds.x_u8);
    nl = make_labels(lab, 5, 12);
    lab[8 + 3] = 10;
    pl = tu_write("labs", lab, nl);
    ck_assert_int_eq(nncl_idx_load_pair(pi, pl, 10, NULL, &ds), NNCL_E_FORMAT);
    ck_error_has(pl, "label 10 at item 3", "0..9");
}
END_TEST

START_TEST(missing_and_directory)
{
    uint8_t *d;
    size_t count;
    ck_assert_int_eq(nncl_idx_load_labels(tu_path("nope"), &d, &count), NNCL_E_IO);
    ck_error_has(tu_path("nope"), "No such file");
    ck_assert_int_eq(mkdir(tu_path("adir"), 0755), 0);
    ck_assert_int_eq(nncl_idx_load_labels(tu_path("adir"), &d, &count), NNCL_E_IO);
    ck_error_has(tu_path("adir"), "is a directory");
}
END_TEST

START_TEST(from_memory)
{
    uint8_t *d;
    size_t count;
    int h, w;
    size_t ni = make_images(img, 0x803, 5, 4, 3);
    ck_assert_int_eq(nncl_idx_parse_mem("mem", img, ni, 3, &d, &count, &h, &w), NNCL_OK);
    ck_assert_uint_eq(count, 5);
    ck_assert_int_eq(h * w, 12);
    free(d);
    ck_assert_int_eq(nncl_idx_parse_mem("mem", img, ni - 1, 3, &d, &count, &h, &w), NNCL_E_FORMAT);
    ck_error_has("mem: truncated");
    ck_assert_ptr_null(d);
}
END_TEST

START_TEST(memory_budget)
{
    uint8_t *d;
    size_t count;
    int h, w;
    /* a small gzip file whose header claims 2^32 - 1 images of 1000x1000:
     * refused before any allocation, naming the budget */
    unsigned char hdr[16];
    put_be32(hdr, 0x803);
    put_be32(hdr + 4, 0xffffffffu);
    put_be32(hdr + 8, 1000);
    put_be32(hdr + 12, 1000);
    const char *p = tu_write_gz("huge.gz", hdr, sizeof hdr);
    ck_assert_int_eq(nncl_idx_load_images(p, &d, &count, &h, &w), NNCL_E_FORMAT);
    ck_error_has(p, "4294967295 images of 1000x1000", "more than the data memory budget");
    ck_assert_ptr_null(d);
    /* NNCL_MEMORY_LIMIT: 60 bytes of pixels fit in 60 bytes, not in 59 */
    size_t ni = make_images(img, 0x803, 5, 4, 3);
    p = tu_write("small", img, ni);
    setenv("NNCL_MEMORY_LIMIT", "59", 1);
    ck_assert_int_eq(nncl_idx_load_images(p, &d, &count, &h, &w), NNCL_E_FORMAT);
    ck_error_has(p, "5 images of 4x3 would take 60 bytes", "budget of 59 bytes (NNCL_MEMORY_LIMIT=59)");
    setenv("NNCL_MEMORY_LIMIT", "60", 1);
    ck_assert_int_eq(nncl_idx_load_images(p, &d, &count, &h, &w), NNCL_OK);
    free(d);
    unsetenv("NNCL_MEMORY_LIMIT");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("idx");
    TCase *tc = tcase_create("idx");
    tcase_add_checked_fixture(tc, tu_setup, tu_teardown);
    tcase_add_test(tc, raw_pair);
    tcase_add_test(tc, gz_pair);
    tcase_add_test(tc, wrong_magic);
    tcase_add_test(tc, truncated_and_trailing);
    tcase_add_test(tc, truncated_gz_stream);
    tcase_add_test(tc, gz_whole_or_streamed);
    tcase_add_test(tc, pair_mismatch);
    tcase_add_test(tc, missing_and_directory);
    tcase_add_test(tc, from_memory);
    tcase_add_test(tc, memory_budget);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
