/* Error messages that wrap the one before them, a failed atomic write's
 * message and what it leaves, and JSON values compared as values (what
 * --resume and a sweep's resumption compare a recorded config.json or
 * sweep.json with). */
#include <dirent.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nncl/status.h"
#include "util/atomic_file.h"
#include "util/json_same.h"
#include "test_util.h"

/* A message may quote the last one: nncl_fail(..., nncl_last_error()). Before
 * nncl_failv formatted apart, vsnprintf wrote into the buffer it was reading
 * and --resume printed "model.layer_specs: r2/config.json: model.layer_specs:
 * er count and a filter size". */
START_TEST(a_message_may_quote_the_last_one)
{
    nncl_fail(NNCL_E_FORMAT, "layer 1 'conv:x': conv needs a filter count and a filter size, like conv:32:5");
    nncl_status st = nncl_fail(NNCL_E_FORMAT, "%s: model.layer_specs: %s", "run/config.json", nncl_last_error());
    ck_assert_int_eq(st, NNCL_E_FORMAT);
    ck_assert_str_eq(nncl_last_error(), "run/config.json: model.layer_specs: layer 1 'conv:x': conv needs a filter "
                                        "count and a filter size, like conv:32:5");
    /* twice over, and the context form on top */
    nncl_fail(NNCL_E_IO, "%s / %s", nncl_last_error(), nncl_last_error());
    ck_assert_str_eq(nncl_last_error(),
                     "run/config.json: model.layer_specs: layer 1 'conv:x': conv needs a filter count and a filter "
                     "size, like conv:32:5 / run/config.json: model.layer_specs: layer 1 'conv:x': conv needs a "
                     "filter count and a filter size, like conv:32:5");
    nncl_fail(NNCL_E_IO, "short");
    nncl_fail_context(NNCL_E_IO, "reading %s", "x.csv");
    ck_assert_str_eq(nncl_last_error(), "reading x.csv: short");
}
END_TEST

/* A write that fails part-way (here the file-size limit, as a full disk
 * would) names the file the user knows, not the temporary, says the old
 * file is kept, and keeps it, with no temporary left beside it. In a child:
 * the limit is the process's. */
START_TEST(a_failed_write_names_the_file_and_keeps_the_old_one)
{
    char dir[] = "/tmp/nncl-test-write-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/checkpoint.bin", dir);
    ck_assert_ok(nncl_write_file_atomic(path, "old contents", 12));
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);   /* write returns EFBIG instead */
        struct rlimit lim = {4096, 4096};
        if (setrlimit(RLIMIT_FSIZE, &lim) != 0)
            _exit(3);
        static char big[65536];
        nncl_status st = nncl_write_file_atomic(path, big, sizeof big);
        const char *m = nncl_last_error();
        bool named = strncmp(m, path, strlen(path)) == 0 && strstr(m, ": cannot write: ") != NULL &&
                     strstr(m, "the file as it was is kept") != NULL && strstr(m, ".tmp-") == NULL;
        if (!named)
            fprintf(stderr, "message: %s\n", m);
        _exit(st == NNCL_E_IO && named ? 0 : 1);
    }
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child's write: status %d", status);
    char *data = NULL;
    size_t len = 0;
    ck_assert_ok(nncl_read_file(path, 1 << 20, &data, &len));
    ck_assert_msg(len == 12 && memcmp(data, "old contents", 12) == 0, "the old file changed: %zu bytes", len);
    free(data);
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int entries = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        entries += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    ck_assert_int_eq(entries, 1);   /* no temporary left */
    unlink(path);
    rmdir(dir);
}
END_TEST

static json_t *parse(const char *text)
{
    json_error_t err;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &err);
    ck_assert_msg(j != NULL, "%s: %s", text, err.text);
    return j;
}

static void expect_same(const char *a, const char *b, bool want)
{
    json_t *ja = parse(a), *jb = parse(b);
    ck_assert_msg(nncl_json_same(ja, jb) == want, "%s against %s: expected %s", a, b, want ? "same" : "different");
    ck_assert_msg(nncl_json_same(jb, ja) == want, "%s against %s: expected %s", b, a, want ? "same" : "different");
    json_decref(ja);
    json_decref(jb);
}

START_TEST(json_values_compare_as_values)
{
    /* what jq and some editors write back: 0.0 as 0, 3.0 as 3 */
    expect_same("0.0", "0", true);
    expect_same("-0.0", "0", true);
    expect_same("3.0", "3", true);
    expect_same("0.10000000000000001", "0.1", true);   /* one double */
    expect_same("2e-3", "0.002", true);
    expect_same("3.5", "3", false);
    expect_same("1", "\"1\"", false);
    expect_same("0", "false", false);
    expect_same("null", "0", false);
    /* integers beyond 2^53 stay exact among themselves */
    expect_same("9007199254740993", "9007199254740992", false);
    expect_same("9007199254740993", "9007199254740993", true);
    /* objects: any key order, the same keys; arrays: order matters */
    expect_same("{\"a\": 1, \"b\": [0.0, \"x\", {\"c\": true}]}", "{\"b\": [0, \"x\", {\"c\": true}], \"a\": 1.0}",
                true);
    expect_same("{\"a\": 1}", "{\"a\": 1, \"b\": null}", false);
    expect_same("{\"a\": 1, \"c\": 2}", "{\"a\": 1, \"b\": 2}", false);
    expect_same("[1, 2]", "[2, 1]", false);
    expect_same("[1, 2]", "[1, 2, 3]", false);
    expect_same("[]", "{}", false);
    ck_assert(nncl_json_same(NULL, NULL));
    json_t *one = parse("1");
    ck_assert(!nncl_json_same(one, NULL) && !nncl_json_same(NULL, one));
    json_decref(one);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("messages");
    TCase *tc = tcase_create("messages");
    tcase_add_test(tc, a_message_may_quote_the_last_one);
    tcase_add_test(tc, a_failed_write_names_the_file_and_keeps_the_old_one);
    tcase_add_test(tc, json_values_compare_as_values);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
