/* The data of a run: the training file, its test set (the dataset's own,
 * --test FILE, or a seeded held-out fraction), an optional --limit, and the
 * validation split. Deterministic in the seed, so `nncl eval RUN_DIR` can
 * rebuild exactly the test set a run was scored on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/data_splits.h"
#include "util/clock.h"

void splits_free(splits *s)
{
    nncl_data_source_free(&s->src);
    nncl_dataset_free(&s->train);
    nncl_dataset_free(&s->val);
    nncl_dataset_free(&s->test);
}

static nncl_status take_split(nncl_dataset *from, double fraction, uint64_t seed, bool stratified,
                              nncl_dataset *held_out)
{
    nncl_dataset rest;
    nncl_status st = nncl_dataset_split(from, fraction, seed, stratified, held_out, &rest);
    if (st != NNCL_OK)
        return st;
    nncl_dataset_free(from);
    *from = rest;
    return NNCL_OK;
}

nncl_status load_source(const train_options *o, nncl_data_source *src)
{
    nncl_csv_options csv = {.label = o->label, .task = o->task};
    nncl_resolve_options ro = {.csv = &csv};
    return nncl_data_resolve(o->data, &ro, src);
}

/* The source's name, folder, files and hash, without its rows. */
static nncl_status copy_source_record(const nncl_data_source *from, nncl_data_source *to)
{
    memset(to, 0, sizeof *to);
    to->name = from->name ? strdup(from->name) : NULL;
    to->dir = from->dir ? strdup(from->dir) : NULL;
    bool ok = (!from->name || to->name) && (!from->dir || to->dir);
    for (int i = 0; i < from->num_files && ok; i++, to->num_files++)
        ok = (to->files[i] = strdup(from->files[i])) != NULL;
    memcpy(to->sha256, from->sha256, sizeof to->sha256);
    memcpy(to->file_sha256, from->file_sha256, sizeof to->file_sha256);
    to->has_test = from->has_test;
    return ok ? NNCL_OK : nncl_fail(NNCL_E_NOMEM, "out of memory");
}

static nncl_status split_source(const train_options *o, splits *s);

/* When the task was guessed (no --task) and the labels look like a
 * regression target, like too many classes for the rows, or hold a stray
 * non-number among numbers: the warning
 * that says so ("" if none). Judged on the source's rows, before any split. */
static void label_warning(const train_options *o, const splits *s, char *out, size_t len)
{
    out[0] = '\0';
    if (o->task != NNCL_CSV_TASK_AUTO || o->silent)
        return;
    char advice[768];
    nncl_label_advice_kind k = nncl_label_advice(&s->train, advice, sizeof advice);
    if (k == NNCL_LABEL_ADVICE_REGRESSION)
        snprintf(out, len, "%s: %s Use --task regress to train it as one", o->data, advice);
    else if (k == NNCL_LABEL_ADVICE_FEW_ROWS || k == NNCL_LABEL_ADVICE_STRAY)
        snprintf(out, len, "%s: %s", o->data, advice);
}

/* load_splits, its warning kept in `warning` (a loading thread keeps quiet). */
static nncl_status load_splits_quietly(const train_options *o, splits *s, char *warning, size_t len)
{
    memset(s, 0, sizeof *s);
    warning[0] = '\0';
    nncl_status st = load_source(o, &s->src);
    if (st != NNCL_OK)
        return st;
    /* The source keeps its name and hash; its rows move (the dataset is
     * held once, not twice, for the whole run). */
    nncl_dataset_move(&s->src.train, &s->train);
    label_warning(o, s, warning, len);
    if (s->src.has_test)
        nncl_dataset_move(&s->src.test, &s->test);
    return split_source(o, s);
}

nncl_status load_splits(const train_options *o, splits *s)
{
    char warning[SPLITS_WARNING_MAX];
    nncl_status st = load_splits_quietly(o, s, warning, sizeof warning);
    if (warning[0])
        cli_warning("%s", warning);
    return st;
}

static void *loader_main(void *arg)
{
    splits_loader *l = arg;
    double t0 = nncl_seconds_now();
    l->st = load_splits_quietly(l->o, l->s, l->warning, sizeof l->warning);
    l->seconds = nncl_seconds_now() - t0;
    /* The message is the loading thread's own (nncl_last_error is per thread). */
    if (l->st != NNCL_OK)
        l->error = strdup(nncl_last_error());
    atomic_store(&l->done, true);
    return NULL;
}

bool load_splits_done(splits_loader *l) { return !l->started || atomic_load(&l->done); }

void load_splits_start(splits_loader *l, const train_options *o, splits *s)
{
    *l = (splits_loader){.o = o, .s = s};
    atomic_init(&l->done, false);
    memset(s, 0, sizeof *s);
    /* Without a thread, wait loads in the caller's. */
    l->started = pthread_create(&l->thread, NULL, loader_main, l) == 0;
}

nncl_status load_splits_wait(splits_loader *l)
{
    if (!l->started) {
        double t0 = nncl_seconds_now();
        nncl_status st = load_splits(l->o, l->s);
        l->seconds = nncl_seconds_now() - t0;
        return st;
    }
    pthread_join(l->thread, NULL);
    l->started = false;
    nncl_status st = l->st;
    if (l->warning[0])
        cli_warning("%s", l->warning);
    if (st != NNCL_OK)
        nncl_fail(st, "%s", l->error ? l->error : "loading the data failed (out of memory for its message)");
    free(l->error);
    l->error = NULL;
    return st;
}

nncl_status load_splits_from(const train_options *o, const nncl_data_source *src, splits *s)
{
    memset(s, 0, sizeof *s);
    nncl_status st = copy_source_record(src, &s->src);
    if (st == NNCL_OK)
        st = nncl_dataset_copy(&src->train, &s->train);
    if (st == NNCL_OK && src->has_test)
        st = nncl_dataset_copy(&src->test, &s->test);
    return st ? st : split_source(o, s);
}

/* s->train (and s->test when the source has one) hold the source's rows:
 * the test set, --limit and the validation split, as o says. */
static nncl_status split_source(const train_options *o, splits *s)
{
    nncl_status st;
    nncl_csv_options csv = {.label = o->label, .task = o->task};
    bool classify = s->train.task == NNCL_TASK_CLASSIFY;
    if (o->test_file) {
        nncl_dataset_free(&s->test);        /* --test replaces the dataset's own */
        /* The test file must have the training data's columns and classes. */
        nncl_csv_options tcsv = csv;
        /* The label column by the name it has in the training file, so that
         * a test file without it is told so (not miscounted). */
        if (s->train.label_name)
            tcsv.label = s->train.label_name;
        tcsv.expect_features = (const char *const *)s->train.feature_names;
        tcsv.expect_cols = s->train.cols;
        tcsv.expect_classes = (const char *const *)s->train.class_names;
        tcsv.expect_num_classes = classify ? s->train.num_classes : 0;
        tcsv.task = classify ? NNCL_CSV_TASK_CLASSIFY : NNCL_CSV_TASK_REGRESS;
        nncl_data_source ts;
        nncl_resolve_options tro = {.csv = &tcsv, .no_hash = true};
        if ((st = nncl_data_resolve(o->test_file, &tro, &ts)) != NNCL_OK)
            return st;
        nncl_dataset_move(&ts.train, &s->test);
        nncl_data_source_free(&ts);
        if (s->test.cols != s->train.cols)
            return nncl_fail(NNCL_E_FORMAT, "%s: %zu features, but the training data has %zu", o->test_file,
                             s->test.cols, s->train.cols);
        snprintf(s->test_origin, sizeof s->test_origin, "--test %s", o->test_file);
    } else if (s->src.has_test) {
        snprintf(s->test_origin, sizeof s->test_origin, "the dataset's test set");
    } else {
        if ((st = take_split(&s->train, o->test_split, o->seed ^ 0x7e57, classify, &s->test)) != NNCL_OK)
            return st;
        snprintf(s->test_origin, sizeof s->test_origin, "%g%% held out (--test-split)", 100 * o->test_split);
    }
    s->has_test = s->test.rows > 0;
    if (o->limit && o->limit < s->train.rows) {
        nncl_dataset kept;
        /* Not stratified: the tutorial takes a plain shuffled slice. */
        if ((st = nncl_dataset_split(&s->train, (double)o->limit / (double)s->train.rows, o->seed, false,
                                     &kept, NULL)) != NNCL_OK)
            return st;
        nncl_dataset_free(&s->train);
        s->train = kept;
    }
    double vfrac = o->val >= 1 ? o->val / (double)s->train.rows : o->val;
    if (vfrac >= 1)
        return nncl_fail(NNCL_E_INVALID, "--val %g: the training set has only %zu rows", o->val, s->train.rows);
    if (vfrac > 0) {
        if ((st = take_split(&s->train, vfrac, o->seed ^ 0x7a1, classify, &s->val)) != NNCL_OK)
            return st;
        s->has_val = s->val.rows > 0;
    }
    if (s->train.rows == 0)
        return nncl_fail(NNCL_E_INVALID, "%s: no training rows left after the test and validation splits",
                         o->data);
    return NNCL_OK;
}

