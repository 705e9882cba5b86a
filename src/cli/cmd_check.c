/* `nncl check [--device N|all] [--json] [--quick] [--seed S]`: on every
 * device (or the one chosen), each op against its host twin on fresh random
 * awkward shapes (and a large product where the device has a set for
 * large products), a finite-difference gradient check of small networks, a
 * short training compared with host, and a determinism check; one table,
 * exit 1 on any disagreement. Host is the oracle: on host itself only the
 * gradient and determinism checks run.
 *
 * NNCL_CHECK_INJECT=NAME (for tests) perturbs one device value of the check
 * NAME before it is compared, to show that the comparison can fail. */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/check.h"
#include "nncl/tune.h"
#include "cli/cli.h"
#include "util/clock.h"

typedef struct check_run {
    uint64_t seed;
    bool quick, json;
    const char *inject;         /* NNCL_CHECK_INJECT, or NULL */
    nncl_device *host;
    check_train_run host_train; /* the oracle's training, made once */
    check_train_run host_cnn;   /* and its CNN's */
    check_row *rows;
    int *row_device;            /* the device index of each row */
    size_t n_rows, cap_rows;
} check_run;

static const char *const extra_checks[] = {"gemm-large", "grad", "train", "train-cnn", "determinism"};

static bool known_check(const char *name)
{
    for (size_t i = 0; i < check_ops_count; i++)
        if (strcmp(name, check_ops[i].name) == 0)
            return true;
    for (size_t i = 0; i < sizeof extra_checks / sizeof extra_checks[0]; i++)
        if (strcmp(name, extra_checks[i]) == 0)
            return true;
    return false;
}

/* ---- the table ------------------------------------------------------------ */

static void format_number(char *buf, size_t n, double x)
{
    if (isnan(x))
        snprintf(buf, n, "-");
    else if (x == 0)
        snprintf(buf, n, "0");
    else
        snprintf(buf, n, "%.2g", x);
}

static void format_tolerance(char *buf, size_t n, const check_row *r)
{
    if (!r->compared)
        snprintf(buf, n, "-");
    else if (r->atol == 0 && r->rtol == 0)
        snprintf(buf, n, strcmp(r->check, "determinism") == 0 ? "bits" : "exact");
    else if (r->rtol == 0)
        snprintf(buf, n, "%.2g", r->atol);
    else if (r->atol == 0)
        snprintf(buf, n, "%.2g rel", r->rtol);
    else
        snprintf(buf, n, "%.2g+%.2g rel", r->atol, r->rtol);
}

/* A device's name in the table: its index in the listing, or "host" for
 * the host chosen alone (no listing made: index -1). */
typedef struct device_label {
    char s[16];
} device_label;

static device_label label_of(int index)
{
    device_label l;
    if (index < 0)
        snprintf(l.s, sizeof l.s, "host");
    else
        snprintf(l.s, sizeof l.s, "%d", index);
    return l;
}

/* The same in JSON: the index, or null for the host alone. */
static json_t *index_json(int index) { return index < 0 ? json_null() : json_integer(index); }

static void print_device(const nncl_device_info *info)
{
    if (info->backend == NNCL_BACKEND_HOST)
        printf("device %s: %s (the oracle: gradients and determinism only)\n", label_of(info->index).s, info->name);
    else
        printf("device %s: %s (%s, %s, driver %s)\n", label_of(info->index).s, info->name,
               nncl_backend_name(info->backend), info->platform, info->driver_version);
}

static void print_header(void)
{
    printf("%-4s %-16s %-50s %9s %9s %-18s %7s  %s\n", "dev", "check", "shape", "max abs", "max rel", "tolerance",
           "ms", "result");
}

static void print_row(int device, const check_row *r)
{
    char abs_s[16], rel_s[16], tol_s[32];
    format_number(abs_s, sizeof abs_s, r->compared ? r->max_abs : NAN);
    format_number(rel_s, sizeof rel_s, r->compared ? r->max_rel : NAN);
    format_tolerance(tol_s, sizeof tol_s, r);
    printf("%-4s %-16s %-50s %9s %9s %-18s %7.0f  %s\n", label_of(device).s, r->check, r->shape, abs_s, rel_s,
           tol_s, r->seconds * 1e3, check_row_passed(r) ? "PASS" : "FAIL");
    fflush(stdout);
}

static json_t *real_or_null(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

static json_t *row_json(int device, const check_row *r)
{
    return json_pack("{s:o, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:I, s:f, s:s, s:b, s:s?}", "device",
                     index_json(device), "check", r->check, "shape", r->shape, "part", r->part,
                     "max_abs", real_or_null(r->compared ? r->max_abs : NAN),
                     "max_rel", real_or_null(r->compared ? r->max_rel : NAN), "atol", real_or_null(r->atol),
                     "rtol", real_or_null(r->rtol), "error_over_tolerance", real_or_null(r->worst),
                     "bad", (json_int_t)r->bad, "seconds", r->seconds, "result",
                     check_row_passed(r) ? "pass" : "fail", "error", r->error,
                     "detail", r->detail[0] ? r->detail : NULL);
}

static nncl_status keep_row(check_run *run, int device, const check_row *r)
{
    if (run->n_rows == run->cap_rows) {
        size_t cap = run->cap_rows ? 2 * run->cap_rows : 64;
        check_row *rows = realloc(run->rows, cap * sizeof *rows);
        if (rows)
            run->rows = rows;
        int *dev = realloc(run->row_device, cap * sizeof *dev);
        if (dev)
            run->row_device = dev;
        if (!rows || !dev)
            return check_nomem();
        run->cap_rows = cap;
    }
    run->rows[run->n_rows] = *r;
    run->row_device[run->n_rows++] = device;
    if (!run->json)
        print_row(device, r);
    return NNCL_OK;
}

/* ---- running rows ---------------------------------------------------------- */

static void row_begin(check_run *run, check_ctx *c, check_row *r, nncl_device *dev, const char *name)
{
    *c = (check_ctx){.dev = dev, .host = run->host, .quick = run->quick,
                     .inject = run->inject && strcmp(run->inject, name) == 0};
    nncl_rng_seed(&c->rng, check_seed_for(run->seed, name));
    *r = (check_row){.check = name};
}

static nncl_status row_end(check_run *run, check_ctx *c, check_row *r, int device, double t0, nncl_status st)
{
    r->seconds = nncl_seconds_now() - t0;
    check_mem_free(c);
    return st != NNCL_OK ? st : keep_row(run, device, r);
}

static nncl_status run_fn(check_run *run, nncl_device *dev, int device, const char *name, check_fn fn)
{
    check_ctx c;
    check_row r;
    row_begin(run, &c, &r, dev, name);
    double t0 = nncl_seconds_now();
    nncl_status st = fn(&c, &r);
    return row_end(run, &c, &r, device, t0, st);
}

static nncl_status run_training(check_run *run, nncl_device *dev, int device, bool is_host)
{
    if (!run->host_train.done) {
        nncl_status st = check_train_once(run->host, run->seed, run->quick, false, &run->host_train);
        if (st != NNCL_OK)
            return st;
    }
    if (!is_host && !run->host_cnn.done) {
        nncl_status st = check_train_once(run->host, run->seed, run->quick, true, &run->host_cnn);
        if (st != NNCL_OK)
            return st;
    }
    check_train_run first = {0}, second = {0};
    check_ctx c;
    check_row r;
    nncl_status st = NNCL_OK;
    if (!is_host) {
        row_begin(run, &c, &r, dev, "train");
        check_train_describe(run->quick, false, r.shape, sizeof r.shape);
        double t0 = nncl_seconds_now();
        st = check_train_once(dev, run->seed, run->quick, false, &first);
        if (st == NNCL_OK)
            st = check_train_vs_host(&c, &r, &first, &run->host_train);
        st = row_end(run, &c, &r, device, t0, st);
    }
    if (!is_host && st == NNCL_OK) {
        check_train_run cnn = {0};
        row_begin(run, &c, &r, dev, "train-cnn");
        check_train_describe(run->quick, true, r.shape, sizeof r.shape);
        double t0 = nncl_seconds_now();
        st = check_train_once(dev, run->seed, run->quick, true, &cnn);
        if (st == NNCL_OK)
            st = check_train_vs_host(&c, &r, &cnn, &run->host_cnn);
        st = row_end(run, &c, &r, device, t0, st);
        check_train_run_free(&cnn);
    }
    if (st == NNCL_OK) {
        row_begin(run, &c, &r, dev, "determinism");
        snprintf(r.shape, sizeof r.shape, "the training twice: parameters, losses");
        double t0 = nncl_seconds_now();
        st = check_train_once(dev, run->seed, run->quick, false, &second);
        if (st == NNCL_OK)
            st = check_determinism(&c, &r, is_host ? &run->host_train : &first, &second);
        st = row_end(run, &c, &r, device, t0, st);
    }
    check_train_run_free(&first);
    check_train_run_free(&second);
    return st;
}

static nncl_status check_device(check_run *run, const nncl_device_info *info)
{
    bool is_host = info->backend == NNCL_BACKEND_HOST;
    nncl_device *dev = run->host;
    if (!is_host) {
        /* The device's kernels as it has them (its tuning entry's, or the
         * defaults), never a first-use search first: a device found to
         * compute wrong results is checked, not refused. */
        nncl_status st = nncl_device_open(info, &dev);
        if (st == NNCL_OK && (st = nncl_device_tune_as_found(dev)) != NNCL_OK) {
            nncl_device_close(dev);
            dev = NULL;
        }
        if (st != NNCL_OK) {
            check_row r = {.check = "open", .error = true};
            snprintf(r.shape, sizeof r.shape, "%.60s", info->name);
            snprintf(r.detail, sizeof r.detail, "%s", nncl_last_error());
            return keep_row(run, info->index, &r);
        }
    }
    nncl_status st = NNCL_OK;
    for (size_t i = 0; i < check_ops_count && !is_host && st == NNCL_OK; i++)
        st = run_fn(run, dev, info->index, check_ops[i].name, check_ops[i].run);
    if (st == NNCL_OK && !is_host && check_gemm_large_wanted(dev))
        st = run_fn(run, dev, info->index, "gemm-large", check_gemm_large);
    if (st == NNCL_OK)
        st = run_fn(run, dev, info->index, "grad", check_grad);
    if (st == NNCL_OK)
        st = run_training(run, dev, info->index, is_host);
    if (!is_host)
        nncl_device_close(dev);
    return st;
}

/* ---- output ------------------------------------------------------------------ */

static int report(const check_run *run, const nncl_device_list *list, int first, int last, double seconds)
{
    size_t failed = 0;
    for (size_t i = 0; i < run->n_rows; i++)
        failed += !check_row_passed(&run->rows[i]);
    int devices = last - first + 1;
    if (run->json) {
        json_t *devs = json_array(), *rows = json_array();
        for (int d = first; d <= last; d++) {
            const nncl_device_info *info = &list->items[d];
            json_array_append_new(devs, json_pack("{s:o, s:s, s:s, s:s, s:s}", "index", index_json(info->index),
                                                  "name", info->name, "backend", nncl_backend_name(info->backend),
                                                  "platform", info->platform, "driver_version",
                                                  info->driver_version));
        }
        for (size_t i = 0; i < run->n_rows; i++)
            json_array_append_new(rows, row_json(run->row_device[i], &run->rows[i]));
        json_t *o = json_pack("{s:s, s:I, s:b, s:o, s:o, s:I, s:I, s:b, s:f}", "nncl", nncl_version(), "seed",
                              (json_int_t)run->seed, "quick", run->quick, "devices", devs, "checks", rows, "passed",
                              (json_int_t)(run->n_rows - failed), "failed", (json_int_t)failed, "ok", failed == 0,
                              "seconds", seconds);
        char *text = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        puts(text ? text : "{}");
        free(text);
        json_decref(o);
    } else {
        if (failed) {
            printf("\ndisagreements:\n");
            for (size_t i = 0; i < run->n_rows; i++)
                if (!check_row_passed(&run->rows[i]))
                    printf("  device %s, %s: %s\n", label_of(run->row_device[i]).s, run->rows[i].check,
                           run->rows[i].detail[0] ? run->rows[i].detail : "nothing was compared");
        }
        printf("\n%zu checks on %d device%s: ", run->n_rows, devices, devices == 1 ? "" : "s");
        if (failed == 0) {
            printf("all passed");
        } else {
            printf("%zu FAILED (", failed);
            const char *sep = "";
            for (size_t i = 0; i < run->n_rows; i++)
                if (!check_row_passed(&run->rows[i])) {
                    printf("%sdevice %s %s", sep, label_of(run->row_device[i]).s, run->rows[i].check);
                    sep = ", ";
                }
            printf(")");
        }
        printf(" in %.1f s; seed %llu\n", seconds, (unsigned long long)run->seed);
    }
    return failed ? CLI_FAILED : CLI_OK;
}

static void usage(void)
{
    printf("usage: nncl check [--device N|all] [--quick] [--seed S] [--json]\n"
           "\n"
           "On every device (default: all, host included), each op against its host twin\n"
           "on fresh random awkward shapes, the network's gradients against finite\n"
           "differences in double, a short training against host's, and the same training\n"
           "twice for bit-identical results. One table; exit 0 when all agree, 1 on any\n"
           "disagreement, 2 for bad usage. The first thing to run on a new GPU or driver.\n"
           "\n"
           "  --device N|all  one device (an index, 'host', or a name as for --device), or all;\n"
           "                  'host' alone never loads OpenCL\n"
           "  --quick         smaller shapes and training\n"
           "  --seed S        repeat the shapes and inputs of an earlier run (it prints its seed)\n"
           "  --json          a JSON object instead of the table\n");
}

static bool parse_seed(const char *s, uint64_t *out)
{
    char *end;
    if (!s || !*s || *s == '-')
        return false;
    unsigned long long v = strtoull(s, &end, 10);
    *out = v;
    return *end == '\0';
}

int cmd_check(const cli_globals *g, int argc, char **argv)
{
    const char *device = g->device;
    check_run run = {.json = g->json};
    bool have_seed = false;
    static const struct option opts[] = {
        {"device", required_argument, NULL, 'd'}, {"json", no_argument, NULL, 'j'},
        {"quick", no_argument, NULL, 'q'},        {"seed", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    optind = 1;
    opterr = 0;
    int o;
    while ((o = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (o) {
        case 'd': device = optarg; break;
        case 'j': run.json = true; break;
        case 'q': run.quick = true; break;
        case 's':
            if (!parse_seed(optarg, &run.seed)) {
                cli_error("--seed needs a non-negative integer, not '%s'", optarg);
                return CLI_USAGE;
            }
            have_seed = true;
            break;
        case 'h': usage(); return CLI_OK;
        case ':': cli_error("%s needs a value", argv[optind - 1]); return CLI_USAGE;
        default: cli_error("unknown option '%s' (see nncl check --help)", argv[optind - 1]); return CLI_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("unexpected argument '%s' (see nncl check --help)", argv[optind]);
        return CLI_USAGE;
    }
    run.inject = getenv("NNCL_CHECK_INJECT");
    if (run.inject && !*run.inject)
        run.inject = NULL;
    if (run.inject && !known_check(run.inject)) {
        cli_error("NNCL_CHECK_INJECT=%s names no check (an op, gemm-large, grad, train or determinism)", run.inject);
        return CLI_USAGE;
    }
    if (!have_seed) /* fresh shapes every run; printed so that a failure can be repeated */
        run.seed = ((uint64_t)time(NULL) * 2654435761u ^ (uint64_t)getpid() * 40503u) % 1000000000u;

    /* --device host checks the host alone without asking OpenCL (a driver
     * that crashes as it starts cannot stop it); any other choice, and the
     * default (all), lists every device. NNCL_DEVICE is not a choice here:
     * check's default is every device. */
    bool host_alone = device && nncl_device_choice_is_host(device);
    nncl_device_list list;
    nncl_status st = host_alone ? nncl_device_list_host(&list) : nncl_device_list_get(&list);
    if (st != NNCL_OK)
        return cli_fail(st);
    int first = 0, last = list.count - 1;
    if (device && strcmp(device, "all") != 0) {
        int idx;
        if (nncl_device_select(&list, device, &idx) != NNCL_OK) {
            cli_error("--device: %s", nncl_last_error());
            nncl_device_list_free(&list);
            return CLI_USAGE;
        }
        first = last = idx;
    }
    if ((st = nncl_device_open(&list.items[list.count - 1], &run.host)) != NNCL_OK) {
        nncl_device_list_free(&list);
        return cli_fail(st);
    }
    if (!run.json) {
        printf("nncl check: seed %llu (repeat with --seed %llu)%s\n", (unsigned long long)run.seed,
               (unsigned long long)run.seed, run.quick ? ", quick" : "");
        for (int d = first; d <= last; d++)
            print_device(&list.items[d]);
        if (host_alone)
            printf("(%s)\n", list.opencl_note);
        else if (list.count == 1)
            printf("(no OpenCL device found: %s)\n", list.opencl_note[0] ? list.opencl_note : "none listed");
        printf("\n");
        print_header();
        fflush(stdout);
    }
    double t0 = nncl_seconds_now();
    for (int d = first; d <= last && st == NNCL_OK; d++)
        st = check_device(&run, &list.items[d]);
    int rc = st == NNCL_OK ? report(&run, &list, first, last, nncl_seconds_now() - t0) : cli_fail(st);
    check_train_run_free(&run.host_train);
    check_train_run_free(&run.host_cnn);
    nncl_device_close(run.host);
    nncl_device_list_free(&list);
    free(run.rows);
    free(run.row_device);
    return rc;
}
