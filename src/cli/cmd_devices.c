/* `nncl --device list [--json]`: every device nncl can use, best first. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

/* "23.4 GiB", "64 KiB". */
static void format_bytes(uint64_t b, char *out, size_t len)
{
    const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)b;
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    snprintf(out, len, u == 0 || v >= 100 || v == (double)(uint64_t)v ? "%.0f %s" : "%.1f %s", v, unit[u]);
}

/* The first n words of s ("OpenCL 3.0 PoCL 3.1+debian  Linux, ..." -> 4 words). */
static void first_words(const char *s, int n, char *out, size_t len)
{
    size_t i = 0, o = 0;
    int words = 0;
    while (s[i] == ' ')
        i++;
    while (s[i] && o + 1 < len) {
        if (s[i] == ' ') {
            if (++words == n)
                break;
            while (s[i + 1] == ' ')
                i++;
        }
        out[o++] = s[i++];
    }
    out[o] = '\0';
}

/* "OpenCL C 1.2 PoCL" -> "1.2". */
static void opencl_c_number(const char *s, char *out, size_t len)
{
    const char *p = strstr(s, "OpenCL C ");
    if (p)
        first_words(p + 9, 1, out, len);
    else
        snprintf(out, len, "-");
}

static json_t *device_json(const nncl_device_info *d)
{
    nncl_tuning_info ti;
    if (nncl_tuning_lookup(d, &ti) != NNCL_OK) {
        nncl_clear_error();
        ti.state = NNCL_TUNING_DEFAULT;
        ti.params[0] = '\0';
        ti.fused_params[0] = '\0';
        ti.large_params[0] = '\0';
    }
    json_t *o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:b, s:b, s:b}",
                     "index", d->index, "backend", nncl_backend_name(d->backend),
                     "type", nncl_device_type_name(d->type), "name", d->name, "vendor", d->vendor,
                     "platform", d->platform, "platform_version", d->platform_version,
                     "device_version", d->device_version, "opencl_c_version", d->opencl_c_version,
                     "driver_version", d->driver_version, "compute_units", (json_int_t)d->compute_units,
                     "max_clock_mhz", (json_int_t)d->max_clock_mhz,
                     "global_mem_bytes", (json_int_t)d->global_mem_bytes,
                     "max_alloc_bytes", (json_int_t)d->max_alloc_bytes,
                     "local_mem_bytes", (json_int_t)d->local_mem_bytes,
                     "max_work_group_size", (json_int_t)d->max_work_group_size,
                     "fp64", d->fp64, "fp16", d->fp16, "default", d->is_default);
    json_object_set_new(o, "train_samples_per_second", d->train_speed > 0 ? json_real(d->train_speed) : json_null());
    json_object_set_new(o, "native_vector_width_float", json_integer(d->native_vector_float));
    json_object_set_new(o, "tuned", json_string(nncl_tuning_state_name(ti.state)));
    if (ti.params[0])
        json_object_set_new(o, "gemm_params", json_string(ti.params));
    if (ti.large_params[0])
        json_object_set_new(o, "gemm_large_params", json_string(ti.large_params));
    if (ti.fused_params[0])
        json_object_set_new(o, "fused_params", json_string(ti.fused_params));
    if (ti.when[0])
        json_object_set_new(o, "tuned_at", json_string(ti.when));
    if (ti.state == NNCL_TUNING_WRONG)
        json_object_set_new(o, "wrong_results", json_string(ti.note));
    return o;
}

static int print_json(const nncl_device_list *list)
{
    json_t *arr = json_array();
    for (int i = 0; i < list->count; i++)
        json_array_append_new(arr, device_json(&list->items[i]));
    char *text = json_dumps(arr, JSON_INDENT(2));
    json_decref(arr);
    if (!text) {
        cli_error("out of memory writing JSON");
        return CLI_FAILED;
    }
    puts(text);
    free(text);
    return CLI_OK;
}

enum { COLS = 16 };

static void print_table(const nncl_device_list *list)
{
    static const char *head[COLS] = {"#", "backend", "type", "name", "platform", "version",
                                     "CUs", "MHz", "memory", "max alloc", "local", "OpenCL C",
                                     "fp64/16", "driver", "train/s", "tuned"};
    static char cell[64][COLS][256];
    int rows = list->count < 64 ? list->count : 64;
    int width[COLS];
    for (int c = 0; c < COLS; c++)
        width[c] = (int)strlen(head[c]);
    for (int r = 0; r < rows; r++) {
        const nncl_device_info *d = &list->items[r];
        bool host = d->backend == NNCL_BACKEND_HOST;
        snprintf(cell[r][0], 256, "%s%d", d->is_default ? "*" : " ", d->index);
        snprintf(cell[r][1], 256, "%s", nncl_backend_name(d->backend));
        snprintf(cell[r][2], 256, "%s", nncl_device_type_name(d->type));
        snprintf(cell[r][3], 256, "%s", d->name);
        snprintf(cell[r][4], 256, "%s", host ? "-" : d->platform);
        first_words(d->platform_version, host ? 2 : 4, cell[r][5], 256);
        snprintf(cell[r][6], 256, "%u", d->compute_units);
        snprintf(cell[r][7], 256, "%u", d->max_clock_mhz);
        format_bytes(d->global_mem_bytes, cell[r][8], 256);
        format_bytes(d->max_alloc_bytes, cell[r][9], 256);
        if (host)
            snprintf(cell[r][10], 256, "-");
        else
            format_bytes(d->local_mem_bytes, cell[r][10], 256);
        if (host)
            snprintf(cell[r][11], 256, "-");
        else
            opencl_c_number(d->opencl_c_version, cell[r][11], 256);
        snprintf(cell[r][12], 256, "%s/%s", d->fp64 ? "yes" : "no", d->fp16 ? "yes" : "no");
        snprintf(cell[r][13], 256, "%s", d->driver_version);
        nncl_tuning_info ti;
        if (nncl_tuning_lookup(d, &ti) != NNCL_OK) {
            nncl_clear_error();
            ti.state = NNCL_TUNING_DEFAULT;
        }
        if (d->train_speed > 0)
            snprintf(cell[r][14], 256, "%.0f", d->train_speed);
        else
            snprintf(cell[r][14], 256, "-");
        snprintf(cell[r][15], 256, "%s", nncl_tuning_state_name(ti.state));
        for (int c = 0; c < COLS; c++) {
            int w = (int)strlen(cell[r][c]);
            if (w > width[c])
                width[c] = w;
        }
    }
    for (int c = 0; c < COLS; c++)
        printf("%-*s%s", c + 1 < COLS ? width[c] : 0, head[c], c + 1 < COLS ? "  " : "\n");
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < COLS; c++)
            printf("%-*s%s", c + 1 < COLS ? width[c] : 0, cell[r][c], c + 1 < COLS ? "  " : "\n");
}

int cmd_devices(const cli_globals *g, int argc, char **argv)
{
    /* `nncl devices --json` as well as `nncl --json devices`. */
    cli_globals mine = *g;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            mine.json = true;
        } else {
            cli_error("unexpected '%s' after devices (only --json)", argv[i]);
            return CLI_USAGE;
        }
    }
    g = &mine;
    nncl_device_list list;
    nncl_status st = nncl_device_list_get(&list);
    if (st != NNCL_OK)
        return cli_fail(st);
    int rc = CLI_OK;
    if (g->json) {
        rc = print_json(&list);
    } else {
        print_table(&list);
        printf("* is the default (--device, or NNCL_DEVICE)%s; --device takes an index, 'host', a kind "
               "(gpu, cpu, pocl, nvidia, ...), or part of a device or platform name.\n",
               list.default_by_speed ? ": the fastest for training as measured" : "");
        printf("train/s: samples/s of a 784-128-10 step at batch 128 as last measured (- : not yet), by nncl "
               "bench or, once, by an nncl train left to choose its device; when two or more devices are "
               "measured, the fastest is the default.\n");
        printf("tuned: yes = GEMM parameters searched on this device (nncl tune); no = not yet "
               "(first use tunes, about 20 s, unless NNCL_TUNE=off); stale = for another driver or "
               "kernel source; wrong = the search found its kernels computing wrong results: not trained on, "
               "never the default (nncl check says which ops, nncl tune searches again).\n");
        if (list.opencl_note[0])
            printf("note: %s\n", list.opencl_note);
        char blas[400];
        if (nncl_host_blas_note(blas, sizeof blas))
            printf("note: host: %s.\n", blas);
    }
    nncl_device_list_free(&list);
    return rc;
}
