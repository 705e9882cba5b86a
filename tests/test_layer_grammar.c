/* The --layers grammar (nncl/layers.h): every accepted form and the fields
 * it gives, the canonical text and parse(format(x)) == x, and the message
 * for each kind of mistake. */
#include "nncl/layers.h"
#include "test_util.h"

#define SAME NNCL_PAD_SAME
#define VALID NNCL_PAD_VALID

static nncl_layer_spec dense(size_t n) { return (nncl_layer_spec){.kind = NNCL_LAYER_DENSE, .units = n}; }

static nncl_layer_spec conv(size_t k, size_t side, size_t stride, int padding)
{
    return (nncl_layer_spec){.kind = NNCL_LAYER_CONV2D, .units = k, .kernel = side, .stride = stride, .padding = padding};
}

static nncl_layer_spec pool(nncl_layer_kind kind, size_t side, size_t stride)
{
    return (nncl_layer_spec){.kind = kind, .kernel = side, .stride = stride};
}

static nncl_layer_spec bare(nncl_layer_kind kind) { return (nncl_layer_spec){.kind = kind}; }

static nncl_layer_spec dropout(float rate) { return (nncl_layer_spec){.kind = NNCL_LAYER_DROPOUT, .rate = rate}; }

static void expect_spec(const char *what, int i, const nncl_layer_spec *got, const nncl_layer_spec *want)
{
    ck_assert_msg(got->kind == want->kind && got->units == want->units && got->kernel == want->kernel &&
                      got->stride == want->stride && got->padding == want->padding && got->rate == want->rate,
                  "%s, layer %d: got kind %d units %zu kernel %zu stride %zu padding %d rate %.9g; "
                  "expected kind %d units %zu kernel %zu stride %zu padding %d rate %.9g",
                  what, i + 1, (int)got->kind, got->units, got->kernel, got->stride, got->padding, (double)got->rate,
                  (int)want->kind, want->units, want->kernel, want->stride, want->padding, (double)want->rate);
}

/* Parse text that must hold exactly one layer. */
static nncl_layer_spec parse_one(const char *text)
{
    nncl_layer_spec s[NNCL_MAX_SPECS];
    int n = -1;
    nncl_status st = nncl_layers_parse(text, s, NNCL_MAX_SPECS, &n);
    ck_assert_msg(st == NNCL_OK, "'%s': %s: %s", text, nncl_status_name(st), nncl_last_error());
    ck_assert_msg(n == 1, "'%s': %d layers, expected 1", text, n);
    return s[0];
}

START_TEST(every_accepted_form_gives_its_fields)
{
    const struct {
        const char *text;
        nncl_layer_spec want;
    } cases[] = {
        {"128", dense(128)},
        {"1", dense(1)},
        {"65536", dense(65536)},
        {"007", dense(7)}, /* digits only, leading zeros are still digits */
        {"dense:10", dense(10)},
        {"dense:65536", dense(65536)},
        {"conv:32:5", conv(32, 5, 1, SAME)},
        {"conv:1:1", conv(1, 1, 1, SAME)},
        {"conv:65536:64", conv(65536, 64, 1, SAME)},
        {"conv:32:3:same", conv(32, 3, 1, SAME)},
        {"conv:32:3:valid", conv(32, 3, 1, VALID)},
        {"conv:32:3:p0", conv(32, 3, 1, 0)},
        {"conv:32:3:p2", conv(32, 3, 1, 2)},
        {"conv:32:3:p64", conv(32, 3, 1, 64)},
        {"conv:32:3:s2", conv(32, 3, 2, SAME)},
        {"conv:32:3:s64", conv(32, 3, 64, SAME)},
        {"conv:32:3:valid:s2", conv(32, 3, 2, VALID)},
        {"conv:32:3:s2:valid", conv(32, 3, 2, VALID)}, /* options in any order */
        {"conv:16:5:p1:s3", conv(16, 5, 3, 1)},
        {"conv:16:5:s3:p1", conv(16, 5, 3, 1)},
        {"conv:16:5:same:s1", conv(16, 5, 1, SAME)},
        {"maxpool:2", pool(NNCL_LAYER_MAXPOOL, 2, 0)},
        {"maxpool:3:s2", pool(NNCL_LAYER_MAXPOOL, 3, 2)},
        {"maxpool:2:s2", pool(NNCL_LAYER_MAXPOOL, 2, 0)}, /* the window's stride is the default */
        {"maxpool:64:s64", pool(NNCL_LAYER_MAXPOOL, 64, 0)},
        {"maxpool:1:s64", pool(NNCL_LAYER_MAXPOOL, 1, 64)},
        {"avgpool:2", pool(NNCL_LAYER_AVGPOOL, 2, 0)},
        {"avgpool:4:s1", pool(NNCL_LAYER_AVGPOOL, 4, 1)},
        {"batchnorm", bare(NNCL_LAYER_BATCHNORM)},
        {"flatten", bare(NNCL_LAYER_FLATTEN)},
        {"dropout:0.25", dropout(0.25f)},
        {"dropout:0", dropout(0.0f)},
        {"dropout:0.0", dropout(0.0f)},
        {"dropout:.5", dropout(0.5f)},
        {"dropout:0.1", dropout(0.1f)},
        {"dropout:0.3333", dropout(0.3333f)},
        {"dropout:0.999", dropout(0.999f)},
        {"dropout:5e-1", dropout(0.5f)},
        {"dropout:1e-05", dropout(1e-5f)},
        {"  conv:8:3:valid  ", conv(8, 3, 1, VALID)},
        {"\tdropout:0.5 ", dropout(0.5f)},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nncl_layer_spec got = parse_one(cases[i].text);
        expect_spec(cases[i].text, 0, &got, &cases[i].want);
    }
}
END_TEST

/* Fields a kind does not use are zero: the parser clears each spec, even
 * over whatever the caller's array held. */
START_TEST(unused_fields_are_zero)
{
    nncl_layer_spec s[4];
    memset(s, 0xab, sizeof s);
    int n = 0;
    ck_assert_ok(nncl_layers_parse("128,maxpool:2,batchnorm,dropout:0.5", s, 4, &n));
    ck_assert_int_eq(n, 4);
    nncl_layer_spec want[] = {dense(128), pool(NNCL_LAYER_MAXPOOL, 2, 0), bare(NNCL_LAYER_BATCHNORM),
                              dropout(0.5f)};
    for (int i = 0; i < 4; i++)
        expect_spec("cleared", i, &s[i], &want[i]);
}
END_TEST

START_TEST(lists_and_spaces)
{
    nncl_layer_spec s[NNCL_MAX_SPECS];
    int n = -1;
    const char *blanks[] = {"", " ", "   \t "};
    for (size_t i = 0; i < sizeof blanks / sizeof blanks[0]; i++) {
        n = -1;
        ck_assert_ok(nncl_layers_parse(blanks[i], s, NNCL_MAX_SPECS, &n));
        ck_assert_msg(n == 0, "'%s': %d layers, expected 0", blanks[i], n);
    }
    ck_assert_ok(nncl_layers_parse(" conv:32:3 , maxpool:2,  flatten,dropout:0.25 ,10 ", s, NNCL_MAX_SPECS, &n));
    ck_assert_int_eq(n, 5);
    nncl_layer_spec want[] = {conv(32, 3, 1, SAME), pool(NNCL_LAYER_MAXPOOL, 2, 0), bare(NNCL_LAYER_FLATTEN),
                              dropout(0.25f), dense(10)};
    for (int i = 0; i < 5; i++)
        expect_spec("list", i, &s[i], &want[i]);
}
END_TEST

static const char *format_ok(const nncl_layer_spec *s, int n, char *buf, size_t len)
{
    nncl_status st = nncl_layers_format(s, n, buf, len);
    ck_assert_msg(st == NNCL_OK, "format: %s: %s", nncl_status_name(st), nncl_last_error());
    return buf;
}

START_TEST(format_is_canonical_and_parses_back)
{
    static const struct {
        nncl_layer_spec spec;
        const char *text;
    } cases[] = {
        {{.kind = NNCL_LAYER_DENSE, .units = 128}, "128"},
        {{.kind = NNCL_LAYER_DENSE, .units = 65536}, "65536"},
        {{.kind = NNCL_LAYER_CONV2D, .units = 32, .kernel = 5, .stride = 1, .padding = NNCL_PAD_SAME}, "conv:32:5"},
        {{.kind = NNCL_LAYER_CONV2D, .units = 32, .kernel = 3, .stride = 2, .padding = NNCL_PAD_VALID},
         "conv:32:3:valid:s2"},
        {{.kind = NNCL_LAYER_CONV2D, .units = 8, .kernel = 3, .stride = 1, .padding = 1}, "conv:8:3:p1"},
        {{.kind = NNCL_LAYER_CONV2D, .units = 8, .kernel = 7, .stride = 3, .padding = 64}, "conv:8:7:p64:s3"},
        {{.kind = NNCL_LAYER_CONV2D, .units = 4, .kernel = 2, .stride = 2, .padding = NNCL_PAD_SAME}, "conv:4:2:s2"},
        {{.kind = NNCL_LAYER_MAXPOOL, .kernel = 2}, "maxpool:2"},
        {{.kind = NNCL_LAYER_MAXPOOL, .kernel = 3, .stride = 2}, "maxpool:3:s2"},
        {{.kind = NNCL_LAYER_AVGPOOL, .kernel = 2}, "avgpool:2"},
        {{.kind = NNCL_LAYER_AVGPOOL, .kernel = 2, .stride = 1}, "avgpool:2:s1"},
        {{.kind = NNCL_LAYER_BATCHNORM}, "batchnorm"},
        {{.kind = NNCL_LAYER_FLATTEN}, "flatten"},
        {{.kind = NNCL_LAYER_DROPOUT, .rate = 0.1f}, "dropout:0.1"},
        {{.kind = NNCL_LAYER_DROPOUT, .rate = 0.25f}, "dropout:0.25"},
        {{.kind = NNCL_LAYER_DROPOUT, .rate = 0.3333f}, "dropout:0.3333"},
        {{.kind = NNCL_LAYER_DROPOUT, .rate = 0.5f}, "dropout:0.5"},
        {{.kind = NNCL_LAYER_DROPOUT, .rate = 0.0f}, "dropout:0"},
        {{.kind = NNCL_LAYER_DROPOUT, .rate = 1e-5f}, "dropout:1e-05"},
        {{.kind = NNCL_LAYER_DROPOUT, .rate = 0.999999f}, "dropout:0.999999"},
    };
    enum { N = sizeof cases / sizeof cases[0] };
    nncl_layer_spec all[N], back[NNCL_MAX_SPECS];
    char buf[1024];
    int n;
    /* Each alone: its canonical text, and that text parses back to it. */
    for (int i = 0; i < N; i++) {
        all[i] = cases[i].spec;
        format_ok(&cases[i].spec, 1, buf, sizeof buf);
        ck_assert_msg(strcmp(buf, cases[i].text) == 0, "case %d: formatted '%s', expected '%s'", i, buf,
                      cases[i].text);
        ck_assert_ok(nncl_layers_parse(buf, back, NNCL_MAX_SPECS, &n));
        ck_assert_int_eq(n, 1);
        expect_spec(buf, 0, &back[0], &cases[i].spec);
    }
    /* All together, joined by commas. */
    format_ok(all, N, buf, sizeof buf);
    ck_assert_msg(strstr(buf, "128,65536,conv:32:5,conv:32:3:valid:s2,") == buf, "joined: '%s'", buf);
    ck_assert_ok(nncl_layers_parse(buf, back, NNCL_MAX_SPECS, &n));
    ck_assert_int_eq(n, N);
    for (int i = 0; i < N; i++)
        expect_spec(buf, i, &back[i], &all[i]);
    /* Nothing gives "". */
    strcpy(buf, "junk");
    format_ok(all, 0, buf, sizeof buf);
    ck_assert_str_eq(buf, "");
}
END_TEST

/* Rates across [0, 1), including ones with no short decimal: the text the
 * formatter picks reads back as the very same float. */
START_TEST(dropout_rates_round_trip_exactly)
{
    uint64_t seed = 13;
    char buf[64];
    for (int i = 0; i < 2000; i++) {
        float r = i < 1000 ? (float)i / 1000.0f : test_rand_float(&seed, 0.0f, 1.0f);
        nncl_layer_spec s = dropout(r), back[1];
        int n;
        format_ok(&s, 1, buf, sizeof buf);
        ck_assert_msg(strlen(buf) <= strlen("dropout:1.23456789e-08"), "'%s' has more than 9 digits", buf);
        ck_assert_ok(nncl_layers_parse(buf, back, 1, &n));
        ck_assert_msg(back[0].rate == r, "rate %.9g formatted '%s' read back as %.9g", (double)r, buf,
                      (double)back[0].rate);
    }
}
END_TEST

START_TEST(bad_inputs_name_the_item_and_the_fix)
{
    static const struct {
        const char *text, *message;
    } cases[] = {
        /* the list */
        {"128,,10", "layer 2 '': an empty item"},
        {"128,10,", "layer 3 '': an empty item"},
        {",128", "layer 1 '': an empty item"},
        {"128, ,10", "layer 2 '': an empty item"},
        /* kinds */
        {"conf:3", "layer 1 'conf:3': unknown kind 'conf' (expected a number, dense, conv, maxpool, avgpool, "
                   "batchnorm, dropout or flatten)"},
        {"Conv:32:3", "unknown kind 'Conv'"},
        {"DENSE:3", "unknown kind 'DENSE'"},
        {":3", "unknown kind ''"},
        {"relu", "unknown kind 'relu'"},
        /* numbers */
        {"0", "layer 1 '0': a dense layer's width must be a number 1..65536, like 128"},
        {"65537", "width must be a number 1..65536"},
        {"99999999999999999999999", "width must be a number 1..65536"},
        {"-5", "width must be a number 1..65536"},
        {"+5", "width must be a number 1..65536"},
        {"0x10", "width must be a number 1..65536"},
        {"12 8", "width must be a number 1..65536"},
        {"1e3", "width must be a number 1..65536"},
        {"128:4", "a plain number is a dense layer and takes nothing after it"},
        /* dense */
        {"dense", "dense takes one number, its width, like dense:128"},
        {"dense:", "the width must be a number 1..65536, like dense:128"},
        {"dense:0", "the width must be a number 1..65536"},
        {"dense:+3", "the width must be a number 1..65536"},
        {"dense: 3", "the width must be a number 1..65536"},
        {"dense:3:4", "dense takes one number"},
        /* conv */
        {"conv", "conv needs a filter count and a filter size, like conv:32:5"},
        {"conv:32", "conv needs a filter count and a filter size"},
        {"128,64,conv:32:x", "layer 3 'conv:32:x': the filter size must be a number 1..64, like conv:32:5"},
        {"conv:32:0", "the filter size must be a number 1..64"},
        {"conv:32:65", "the filter size must be a number 1..64"},
        {"conv:0:3", "the filter count must be a number 1..65536, like conv:32:5"},
        {"conv:65537:3", "the filter count must be a number 1..65536"},
        {"conv:-1:3", "the filter count must be a number 1..65536"},
        {"conv:32:3:full", "unknown option 'full' (expected same, valid, pN or sN)"},
        {"conv:32:3:SAME", "unknown option 'SAME'"},
        {"conv:32:3:", "unknown option ''"},
        {"conv:32:3:s", "unknown option 's'"},
        {"conv:32:3:p", "unknown option 'p'"},
        {"conv:32:3:s-1", "unknown option 's-1'"},
        {"conv:32:3:s0", "the stride must be s1..s64"},
        {"conv:32:3:s65", "the stride must be s1..s64"},
        {"conv:32:3:p65", "the padding must be p0..p64"},
        {"conv:32:3:same:valid", "the padding is given twice"},
        {"conv:32:3:valid:p1", "the padding is given twice"},
        {"conv:32:3:p1:same", "the padding is given twice"},
        {"conv:32:3:same:same", "the padding is given twice"},
        {"conv:32:3:s1:s2", "the stride is given twice"},
        {"conv:32:3:same:s1:valid", "conv takes at most two options"},
        {"conv:1:1:s1:s1:s1:s1:s1:s1:s1:s1:s1:s1", "conv takes at most two options"},
        /* pools */
        {"128,maxpool", "layer 2 'maxpool': maxpool needs a window, like maxpool:2"},
        {"avgpool", "avgpool needs a window, like avgpool:2"},
        {"maxpool:0", "the window must be a number 1..64, like maxpool:2"},
        {"maxpool:65", "the window must be a number 1..64"},
        {"avgpool:x", "the window must be a number 1..64, like avgpool:2"},
        {"maxpool:2:valid", "unknown option 'valid' (expected sN, the stride)"},
        {"maxpool:2:s0", "the stride must be s1..s64, like maxpool:3:s2"},
        {"maxpool:2:s65", "the stride must be s1..s64"},
        {"maxpool:3:s2:s2", "maxpool takes a window and at most a stride"},
        /* no arguments */
        {"batchnorm:2", "batchnorm takes no arguments"},
        {"flatten:", "flatten takes no arguments"},
        /* dropout */
        {"dropout", "dropout needs a rate, like dropout:0.25"},
        {"1,2,3,dropout:1", "layer 4 'dropout:1': the rate must be in [0, 1), like dropout:0.25"},
        {"dropout:1.0", "the rate must be in [0, 1)"},
        {"dropout:0.99999999", "the rate must be in [0, 1)"}, /* 1 as a float */
        {"dropout:-0.1", "the rate must be in [0, 1)"},
        {"dropout:-0", "the rate must be in [0, 1)"},
        {"dropout:+0.5", "the rate must be in [0, 1)"},
        {"dropout:nan", "the rate must be in [0, 1)"},
        {"dropout:inf", "the rate must be in [0, 1)"},
        {"dropout:0.5x", "the rate must be in [0, 1)"},
        {"dropout:0x0.8p0", "the rate must be in [0, 1)"},
        {"dropout: 0.5", "the rate must be in [0, 1)"},
        {"dropout:", "the rate must be in [0, 1)"},
        {"dropout:.", "the rate must be in [0, 1)"},
        {"dropout:1e400", "the rate must be in [0, 1)"},
        {"dropout:0.5:0.5", "dropout takes one rate"},
        /* what the message quotes stays on one line and short */
        {"conv:3:3:\nvalid", "layer 1 'conv:3:3:?valid': unknown option '?valid'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nncl_layer_spec s[NNCL_MAX_SPECS];
        int n = -1;
        nncl_clear_error();
        nncl_status st = nncl_layers_parse(cases[i].text, s, NNCL_MAX_SPECS, &n);
        const char *msg = nncl_last_error();
        ck_assert_msg(st == NNCL_E_INVALID, "'%s' gave %s, expected NNCL_E_INVALID", cases[i].text,
                      nncl_status_name(st));
        ck_assert_msg(n == 0, "'%s': count %d after a failure", cases[i].text, n);
        ck_assert_msg(strstr(msg, cases[i].message) != NULL, "'%s': message '%s' lacks '%s'", cases[i].text, msg,
                      cases[i].message);
        ck_assert_msg(strncmp(msg, "layer ", 6) == 0 && !strchr(msg, '\n'), "'%s': message '%s'", cases[i].text,
                      msg);
    }
}
END_TEST

START_TEST(a_long_item_is_quoted_short)
{
    char text[400];
    memset(text, 'x', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    nncl_layer_spec s[1];
    int n;
    ck_assert_int_eq(nncl_layers_parse(text, s, 1, &n), NNCL_E_INVALID);
    ck_assert_msg(strlen(nncl_last_error()) < 300, "message of %zu characters", strlen(nncl_last_error()));
    ck_assert_msg(strstr(nncl_last_error(), "...'") != NULL, "'%s'", nncl_last_error());
}
END_TEST

START_TEST(at_most_max_layers)
{
    nncl_layer_spec s[NNCL_MAX_SPECS + 1];
    char text[NNCL_MAX_SPECS * 4 + 8] = "";
    for (int i = 0; i < NNCL_MAX_SPECS; i++)
        strcat(text, i ? ",10" : "10");
    int n = -1;
    ck_assert_ok(nncl_layers_parse(text, s, NNCL_MAX_SPECS, &n));
    ck_assert_int_eq(n, NNCL_MAX_SPECS);

    strcat(text, ",10");
    n = -1;
    ck_assert_int_eq(nncl_layers_parse(text, s, NNCL_MAX_SPECS, &n), NNCL_E_INVALID);
    ck_assert_int_eq(n, 0);
    ck_assert_msg(strstr(nncl_last_error(), "layer 33 '10'") && strstr(nncl_last_error(), "at most 32 layers"), "'%s'",
                  nncl_last_error());

    /* A smaller max: the extra layer fails, the spec past max untouched. */
    memset(s, 0x5a, sizeof s);
    ck_assert_int_eq(nncl_layers_parse("1,2,3", s, 2, &n), NNCL_E_INVALID);
    ck_assert_msg(strstr(nncl_last_error(), "at most 2 layers") != NULL, "'%s'", nncl_last_error());
    ck_assert_int_eq(((unsigned char *)&s[2])[0], 0x5a);
    ck_assert_ok(nncl_layers_parse("1,2", s, 2, &n));
    ck_assert_int_eq(n, 2);
    ck_assert_ok(nncl_layers_parse("", s, 0, &n));
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(nncl_layers_parse("1", s, 0, &n), NNCL_E_INVALID);
}
END_TEST

START_TEST(format_fails_when_the_buffer_is_too_small)
{
    nncl_layer_spec s[] = {conv(32, 3, 2, VALID), pool(NNCL_LAYER_MAXPOOL, 2, 0), dense(10)};
    const char *want = "conv:32:3:valid:s2,maxpool:2,10";
    size_t need = strlen(want) + 1;
    char buf[64];
    format_ok(s, 3, buf, need);
    ck_assert_str_eq(buf, want);
    /* One byte short (no room for the NUL), and shorter still. */
    for (size_t len = 1; len < need; len++) {
        memset(buf, '#', sizeof buf);
        ck_assert_msg(nncl_layers_format(s, 3, buf, len) == NNCL_E_INVALID, "len %zu accepted", len);
        ck_assert_msg(buf[0] == '\0', "len %zu: left '%.*s'", len, (int)len, buf);
        ck_assert_msg(buf[len] == '#', "len %zu: wrote past the buffer", len);
    }
    ck_assert_int_eq(nncl_layers_format(s, 0, buf, 0), NNCL_E_INVALID);
    format_ok(s, 0, buf, 1);
    ck_assert_str_eq(buf, "");
    nncl_layer_spec odd = {.kind = (nncl_layer_kind)99};
    ck_assert_int_eq(nncl_layers_format(&odd, 1, buf, sizeof buf), NNCL_E_INVALID);
}
END_TEST

START_TEST(kind_names)
{
    const char *names[] = {"dense", "conv", "maxpool", "avgpool", "batchnorm", "dropout", "flatten"};
    for (int k = 0; k < 7; k++)
        ck_assert_str_eq(nncl_layer_kind_name((nncl_layer_kind)k), names[k]);
    ck_assert_str_eq(nncl_layer_kind_name(NNCL_LAYER_FLATTEN), "flatten");
    ck_assert_str_eq(nncl_layer_kind_name((nncl_layer_kind)7), "?");
    ck_assert_str_eq(nncl_layer_kind_name((nncl_layer_kind)-1), "?");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("layer-grammar");
    TCase *tc = tcase_create("layer-grammar");
    tcase_add_test(tc, every_accepted_form_gives_its_fields);
    tcase_add_test(tc, unused_fields_are_zero);
    tcase_add_test(tc, lists_and_spaces);
    tcase_add_test(tc, format_is_canonical_and_parses_back);
    tcase_add_test(tc, dropout_rates_round_trip_exactly);
    tcase_add_test(tc, bad_inputs_name_the_item_and_the_fix);
    tcase_add_test(tc, a_long_item_is_quoted_short);
    tcase_add_test(tc, at_most_max_layers);
    tcase_add_test(tc, format_fails_when_the_buffer_is_too_small);
    tcase_add_test(tc, kind_names);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
