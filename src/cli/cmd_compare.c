/* `nncl compare RUN_DIR|SWEEP_DIR...`: runs side by side, one row per point
 * of the hyper-parameters that differ (repeated seeds folded), as an aligned
 * table, a Markdown table, CSV or JSON. The data model is the library's
 * (report/compare.h); this file parses options and prints. */
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/out_guard.h"
#include "report/compare.h"

typedef enum { FMT_TABLE, FMT_MARKDOWN, FMT_CSV, FMT_JSON } out_format;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: nncl compare RUN_DIR|SWEEP_DIR... [--sort KEY] [--format table|markdown|csv|json]\n"
            "                    [--html FILE | --no-html] [--force]\n"
            "\n"
            "Runs side by side: one row per run with only the hyper-parameters that differ\n"
            "between the runs (as nncl train's flags), then best and final validation\n"
            "accuracy, test accuracy, epochs, time, samples/s and status (regression: best\n"
            "and final validation MAE, test RMSE, MAE and R\xc2\xb2). Runs that differ only by\n"
            "--seed are folded into one row, shown as mean \xc2\xb1 std (n); a row's status is\n"
            "the worst of its runs'. The best validation accuracy (regression: the lowest\n"
            "validation MAE) is marked. Nothing in a run directory is changed.\n"
            "\n"
            "It also writes compare.html: one self-contained page (no network needed) with\n"
            "the runs' validation curves overlaid (against epoch and time), a parallel-\n"
            "coordinates plot of the differing flags and the result (drag an axis to pick\n"
            "runs), the effect of each flag (mean \xc2\xb1 std over the others), each run's\n"
            "final first-layer weights and network drawing, and the table, sortable.\n"
            "\n"
            "  RUN_DIR        a run directory (config.json, summary.json, metrics.csv)\n"
            "  SWEEP_DIR      a folder holding sweep.json (nncl sweep): its trials, pending\n"
            "                 ones left out; or a folder whose subfolders are all runs\n"
            "                 (runs/), taken in name order\n"
            "  --sort KEY     the order of the rows; default val_accuracy (val_mae for\n"
            "                 regression). Best first:\n"
            "                   val_accuracy, final_val_accuracy, test_accuracy,\n"
            "                   test_r2, samples_per_second    descending (highest first)\n"
            "                   val_mae, final_val_mae, test_rmse, test_mae,\n"
            "                   time, epochs                    ascending (lowest first)\n"
            "                 name, or a differing flag (--lr or lr, --batch, ...): ascending\n"
            "  --format F     table     aligned columns (default); * marks the best row\n"
            "                 markdown  a GitHub table; the best row in bold\n"
            "                 csv       one row per group: raw numbers (accuracies as\n"
            "                           fractions, seconds), KEY and KEY_std columns, n\n"
            "                 json      an array of groups: values, metrics, std, n, dirs\n"
            "  --html FILE    where the page goes; default SWEEP_DIR/compare.html when the\n"
            "                 one argument is a sweep folder, else ./compare.html. With\n"
            "                 --format table its path is printed after the table (\"page:\n"
            "                 PATH\"); the other formats print only their data. Never\n"
            "                 inside a run directory\n"
            "  --no-html      write no page\n"
            "  --force        compare runs on different data (config.json's data.name and\n"
            "                 data.sha256) or of different tasks; refused otherwise\n"
            "\n"
            "Exit status: 0 done, 2 a path that is not a run or a sweep, a run without\n"
            "metrics, a bad sweep.json, or runs that cannot be compared without --force.\n");
}

/* ---- formatting one cell --------------------------------------------------------- */

/* Digits after the point for a number of this size: four significant. */
static int decimals_for(double v)
{
    if (v == 0 || !isfinite(v))
        return 3;
    int d = 3 - (int)floor(log10(fabs(v)));
    return d < 0 ? 0 : d > 6 ? 6 : d;
}

static void grouped(double v, char *out, size_t len)
{
    char digits[64];
    snprintf(digits, sizeof digits, "%.0f", fabs(v));
    size_t n = strlen(digits), at = 0;
    if (v < 0 && at + 1 < len)
        out[at++] = '-';
    for (size_t i = 0; i < n && at + 2 < len; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            out[at++] = ',';
        out[at++] = digits[i];
    }
    out[at] = '\0';
}

static int seconds_decimals(double v)
{
    return v < 1 ? 3 : v < 10 ? 2 : v < 100 ? 1 : 0;
}

/* A group's metric for a person: accuracies in % with two decimals, "mean ±
 * std (n)" when several runs are folded. */
static void format_metric(const compare_group *g, compare_metric m, char *out, size_t len)
{
    const compare_metric_info *mi = compare_metric_get(m);
    double mean = g->mean[m], std = g->std[m];
    bool folded = g->count[m] > 1;
    char a[64], b[64];
    if (isnan(mean)) {
        snprintf(out, len, "-");
        return;
    }
    switch (mi->unit) {
    case CU_FRACTION:
        snprintf(a, sizeof a, "%.2f", 100 * mean);
        snprintf(b, sizeof b, "%.2f", 100 * std);
        break;
    case CU_NUMBER: {
        int d = decimals_for(mean);
        snprintf(a, sizeof a, "%.*f", d, mean);
        snprintf(b, sizeof b, "%.*f", d, std);
        break;
    }
    case CU_COUNT:
        snprintf(a, sizeof a, std > 0 ? "%.1f" : "%.0f", mean);
        snprintf(b, sizeof b, "%.1f", std);
        folded = folded && std > 0;
        break;
    case CU_SECONDS:
        snprintf(a, sizeof a, "%.*f", seconds_decimals(mean), mean);
        snprintf(b, sizeof b, "%.*f", seconds_decimals(mean), std);
        break;
    case CU_RATE:
        grouped(mean, a, sizeof a);
        grouped(std, b, sizeof b);
        break;
    }
    bool with_n = mi->unit == CU_FRACTION || mi->unit == CU_NUMBER;
    if (!folded)
        snprintf(out, len, "%s", a);
    else if (with_n)
        snprintf(out, len, "%s \xc2\xb1 %s (%d)", a, b, g->count[m]);
    else
        snprintf(out, len, "%s \xc2\xb1 %s", a, b);
}

/* ---- the grid of cells: a heading row, then one row per group --------------------- */

typedef struct grid {
    int rows, cols;
    char **cell;      /* rows x cols */
    bool *right;      /* per column: numbers are right-aligned */
} grid;

static int shown_metrics(const compare_set *s, compare_metric *out)
{
    int n = 0;
    for (int m = 0; m < CM_COUNT; m++)
        if (compare_metric_get((compare_metric)m)->task & s->task)
            out[n++] = (compare_metric)m;
    return n;
}

static char **cell(grid *t, int r, int c)
{
    return &t->cell[r * t->cols + c];
}

static void grid_free(grid *t)
{
    for (int i = 0; t->cell && i < t->rows * t->cols; i++)
        free(t->cell[i]);
    free(t->cell);
    free(t->right);
}

static bool grid_build(const compare_set *s, grid *t)
{
    compare_metric ms[CM_COUNT];
    int nm = shown_metrics(s, ms);
    t->rows = s->n_groups + 1;
    t->cols = 1 + s->n_params + nm + 1;
    t->cell = calloc((size_t)(t->rows * t->cols), sizeof *t->cell);
    t->right = calloc((size_t)t->cols, sizeof *t->right);
    if (!t->cell || !t->right)
        return false;
    int c = 0;
    *cell(t, 0, c++) = strdup("run");
    for (int k = 0; k < s->n_params; k++)
        *cell(t, 0, c++) = strdup(compare_param_flag(s->params[k]));
    for (int k = 0; k < nm; k++) {
        t->right[c] = true;
        *cell(t, 0, c++) = strdup(compare_metric_get(ms[k])->label);
    }
    *cell(t, 0, c) = strdup("status");
    for (int g = 0; g < s->n_groups; g++) {
        const compare_group *grp = &s->groups[g];
        char buf[512];
        c = 0;
        compare_group_name(s, grp, buf, sizeof buf);
        *cell(t, g + 1, c++) = strdup(buf);
        for (int k = 0; k < s->n_params; k++)
            *cell(t, g + 1, c++) = strdup(compare_group_value(s, grp, s->params[k]));
        for (int k = 0; k < nm; k++) {
            format_metric(grp, ms[k], buf, sizeof buf);
            *cell(t, g + 1, c++) = strdup(buf);
        }
        *cell(t, g + 1, c) = strdup(grp->status);
    }
    for (int i = 0; i < t->rows * t->cols; i++)
        if (!t->cell[i])
            return false;
    return true;
}

/* Columns on a terminal: characters, not bytes (± and ² are two bytes). */
static int text_width(const char *s)
{
    int w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

static void pad(int n)
{
    for (int i = 0; i < n; i++)
        putchar(' ');
}

static const char *task_words(const compare_set *s)
{
    return s->task == 2 ? "regression" : s->task == 3 ? "classification and regression" : "classification";
}

static const char *sort_words(const compare_set *s)
{
    static char buf[128];
    if (s->sort_metric < CM_COUNT) {
        const compare_metric_info *mi = compare_metric_get(s->sort_metric);
        snprintf(buf, sizeof buf, "%s (%s first)", mi->key, mi->higher_better ? "highest" : "lowest");
    } else {
        snprintf(buf, sizeof buf, "%s (ascending)", s->sort_key);
    }
    return buf;
}

static bool any_folded(const compare_set *s)
{
    for (int g = 0; g < s->n_groups; g++)
        if (s->groups[g].n > 1)
            return true;
    return false;
}

static const char *best_words(const compare_set *s)
{
    return s->task == 2 ? "the lowest validation MAE" : "the best validation accuracy";
}

static void print_table(const compare_set *s, const grid *t)
{
    int *w = calloc((size_t)t->cols, sizeof *w);
    if (!w)
        return;
    for (int r = 0; r < t->rows; r++)
        for (int c = 0; c < t->cols; c++) {
            int x = text_width(*cell((grid *)t, r, c));
            w[c] = x > w[c] ? x : w[c];
        }
    const char *data = s->n_runs && s->runs[0].rec.config && !s->mixed_data
                           ? json_string_value(json_object_get(json_object_get(s->runs[0].rec.config, "data"), "name"))
                           : NULL;
    printf("%d run%s in %d row%s; %s, %s; sorted by %s\n", s->n_runs, s->n_runs == 1 ? "" : "s", s->n_groups,
           s->n_groups == 1 ? "" : "s", data ? data : "different data", task_words(s), sort_words(s));
    for (int r = 0; r < t->rows; r++) {
        fputs(r > 0 && r - 1 == s->best ? "* " : "  ", stdout);
        for (int c = 0; c < t->cols; c++) {
            const char *v = *cell((grid *)t, r, c);
            int gap = w[c] - text_width(v);
            if (c > 0)
                fputs("  ", stdout);
            if (t->right[c])
                pad(gap);
            fputs(v, stdout);
            if (!t->right[c] && c + 1 < t->cols)
                pad(gap);
        }
        putchar('\n');
    }
    printf("* %s%s%s\n", best_words(s), s->best < 0 ? " (none: no run has one)" : "",
           any_folded(s) ? "; a \xc2\xb1 b (n): mean and standard deviation over n runs that differ only by --seed"
                         : "");
    free(w);
}

static void markdown_cell(const char *v, bool bold)
{
    fputs(bold ? " **" : " ", stdout);
    for (; *v; v++) {
        if (*v == '|' || *v == '*' || *v == '_' || *v == '\\')
            putchar('\\');
        putchar(*v);
    }
    fputs(bold ? "** |" : " |", stdout);
}

static void print_markdown(const compare_set *s, const grid *t)
{
    for (int r = 0; r < t->rows; r++) {
        putchar('|');
        for (int c = 0; c < t->cols; c++)
            markdown_cell(*cell((grid *)t, r, c), r > 0 && r - 1 == s->best);
        putchar('\n');
        if (r == 0) {
            putchar('|');
            for (int c = 0; c < t->cols; c++)
                fputs(t->right[c] ? " ---: |" : " --- |", stdout);
            putchar('\n');
        }
    }
    printf("\n**Bold**: %s.%s\n", best_words(s),
           any_folded(s) ? " a \xc2\xb1 b (n): mean and standard deviation over n runs that differ only by --seed."
                         : "");
}

/* ---- csv and json: raw numbers ----------------------------------------------------- */

static void csv_field(const char *v, bool last)
{
    if (strpbrk(v, ",\"\n\r")) {
        putchar('"');
        for (; *v; v++) {
            if (*v == '"')
                putchar('"');
            putchar(*v);
        }
        putchar('"');
    } else {
        fputs(v, stdout);
    }
    putchar(last ? '\n' : ',');
}

static void csv_number(double v)
{
    if (isfinite(v))
        printf("%.10g,", v);
    else
        putchar(',');
}

static void print_csv(const compare_set *s)
{
    compare_metric ms[CM_COUNT];
    int nm = shown_metrics(s, ms);
    csv_field("name", false);
    for (int k = 0; k < s->n_params; k++)
        csv_field(compare_param_flag(s->params[k]), false);
    csv_field("n", false);
    for (int k = 0; k < nm; k++) {
        char h[80];
        csv_field(compare_metric_get(ms[k])->key, false);
        snprintf(h, sizeof h, "%s_std", compare_metric_get(ms[k])->key);
        csv_field(h, false);
    }
    fputs("status,best,dirs\n", stdout);
    for (int g = 0; g < s->n_groups; g++) {
        const compare_group *grp = &s->groups[g];
        char name[512];
        compare_group_name(s, grp, name, sizeof name);
        csv_field(name, false);
        for (int k = 0; k < s->n_params; k++)
            csv_field(compare_group_value(s, grp, s->params[k]), false);
        printf("%d,", grp->n);
        for (int k = 0; k < nm; k++) {
            csv_number(grp->mean[ms[k]]);
            csv_number(grp->std[ms[k]]);
        }
        printf("%s,%d,", grp->status, g == s->best);
        size_t len = 1;
        for (int k = 0; k < grp->n; k++)
            len += strlen(s->runs[grp->members[k]].dir) + 1;
        char *dirs = calloc(len, 1);
        for (int k = 0; dirs && k < grp->n; k++)
            strcat(strcat(dirs, k ? ";" : ""), s->runs[grp->members[k]].dir);
        csv_field(dirs ? dirs : "", true);
        free(dirs);
    }
}

/* An array of groups, in the table's order: the page's groups renamed for
 * people reading the output (mean -> metrics). */
static int print_json(const compare_set *s)
{
    json_t *all = compare_json(s);
    json_t *out = json_array(), *g;
    size_t i;
    json_array_foreach(json_object_get(all, "groups"), i, g) {
        json_t *o = json_object();
        static const char *keep[] = {"name", "values", "n", "status", "best"};
        for (size_t k = 0; k < sizeof keep / sizeof *keep; k++)
            json_object_set(o, keep[k], json_object_get(g, keep[k]));
        json_object_set(o, "metrics", json_object_get(g, "mean"));
        json_object_set(o, "std", json_object_get(g, "std"));
        json_object_set(o, "count", json_object_get(g, "count"));
        json_object_set(o, "dirs", json_object_get(g, "dirs"));
        json_array_append_new(out, o);
    }
    int rc = json_dumpf(out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0 ? CLI_OK : CLI_FAILED;
    putchar('\n');
    json_decref(out);
    json_decref(all);
    if (rc != CLI_OK)
        cli_error("cannot write the JSON output");
    return rc;
}

static int print_set(const compare_set *s, out_format fmt)
{
    if (fmt == FMT_JSON)
        return print_json(s);
    if (fmt == FMT_CSV) {
        print_csv(s);
        return CLI_OK;
    }
    grid t = {0};
    if (!grid_build(s, &t)) {
        grid_free(&t);
        cli_error("out of memory for the table");
        return CLI_FAILED;
    }
    if (fmt == FMT_TABLE)
        print_table(s, &t);
    else
        print_markdown(s, &t);
    grid_free(&t);
    return CLI_OK;
}

/* ---- the command ----------------------------------------------------------------- */

static bool parse_format(const char *v, out_format *f)
{
    static const char *names[] = {"table", "markdown", "csv", "json"};
    for (int i = 0; i < 4; i++)
        if (strcmp(v, names[i]) == 0) {
            *f = (out_format)i;
            return true;
        }
    return false;
}

static bool is_file(const char *dir, const char *name)
{
    char path[PATH_MAX + 64];
    struct stat sb;
    int n = snprintf(path, sizeof path, "%.*s/%s", PATH_MAX, dir, name);
    return n > 0 && (size_t)n < sizeof path && stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* The folder a file would go in: "." for a bare name. */
static void folder_of(const char *file, char *out, size_t len)
{
    const char *slash = strrchr(file, '/');
    if (!slash)
        snprintf(out, len, ".");
    else if (slash == file)
        snprintf(out, len, "/");
    else
        snprintf(out, len, "%.*s", (int)(slash - file), file);
}

int cmd_compare(const cli_globals *g, int argc, char **argv)
{
    const char *sort = NULL, *html = NULL;
    bool no_html = false;
    char html_buf[PATH_MAX + 64];
    out_format fmt = g->json ? FMT_JSON : FMT_TABLE;
    bool force = false;
    enum { O_SORT = 256, O_FORMAT, O_FORCE, O_HTML, O_NO_HTML, O_HELP };
    static const struct option opts[] = {
        {"sort", required_argument, NULL, O_SORT}, {"format", required_argument, NULL, O_FORMAT},
        {"force", no_argument, NULL, O_FORCE},     {"html", required_argument, NULL, O_HTML},
        {"no-html", no_argument, NULL, O_NO_HTML}, {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case O_SORT: sort = optarg; break;
        case O_FORMAT:
            if (!parse_format(optarg, &fmt)) {
                cli_error("--format: '%s' is not one of table, markdown, csv, json", optarg);
                return CLI_USAGE;
            }
            break;
        case O_FORCE: force = true; break;
        case O_HTML: html = optarg; break;
        case O_NO_HTML: no_html = true; break;
        case 'h':
        case O_HELP: usage(stdout); return CLI_OK;
        case ':': cli_error("%s needs a value (see nncl compare --help)", argv[optind - 1]); return CLI_USAGE;
        default: cli_error("unknown option '%s' (see nncl compare --help)", argv[optind - 1]); return CLI_USAGE;
        }
    }
    if (optind >= argc) {
        cli_error("which runs? usage: nncl compare RUN_DIR|SWEEP_DIR... [options]");
        return CLI_USAGE;
    }
    if (html && no_html) {
        cli_error("--html and --no-html: choose one");
        return CLI_USAGE;
    }
    if (html && !*html) {
        cli_error("--html needs a file name");
        return CLI_USAGE;
    }
    bool defaulted = !no_html && !html;
    if (defaulted) {
        /* one sweep folder: the page goes next to its sweep.json */
        const char *one = argv[optind];
        if (argc - optind == 1 && is_file(one, "sweep.json") && !is_file(one, "config.json")) {
            size_t n = strlen(one);
            while (n > 1 && one[n - 1] == '/')
                n--;
            snprintf(html_buf, sizeof html_buf, "%.*s/compare.html", (int)n, one);
            html = html_buf;
        } else {
            html = "compare.html";
        }
    }
    if (html) {
        nncl_status guard = out_guard("--html", html, NULL, 0);   /* a sweep's own sweep.json, say */
        if (guard != NNCL_OK)
            return cli_fail(guard);
        char folder[PATH_MAX + 64];
        folder_of(html, folder, sizeof folder);
        if (is_file(folder, "config.json")) {
            if (defaulted)
                cli_error("the page would go to %s, inside a run directory (%s), and nncl compare changes "
                          "nothing in a run: give --html FILE elsewhere, or --no-html", html, folder);
            else
                cli_error("--html %s: %s is a run directory, and nncl compare changes nothing in a run; "
                          "choose another folder", html, folder);
            return CLI_USAGE;
        }
    }
    compare_set s;
    nncl_status st = compare_load(argv + optind, argc - optind, force, &s);
    if (st != NNCL_OK)
        return cli_fail(st);
    if (sort && (st = compare_sort(&s, sort)) != NNCL_OK) {
        cli_error("--sort %s", nncl_last_error());
        compare_set_free(&s);
        return CLI_USAGE;
    }
    if (s.mixed_data || s.task == 3)
        fprintf(stderr, "nncl: note: comparing runs on %s (--force)\n",
                s.task == 3 ? "different tasks" : "different data");
    int rc = print_set(&s, fmt);
    if (rc == CLI_OK && html) {
        fflush(stdout);
        if ((st = compare_write_html(&s, html)) != NNCL_OK)
            rc = cli_fail(st);
        else if (fmt == FMT_TABLE)
            printf("page: %s\n", html);
    }
    compare_set_free(&s);
    return rc;
}
