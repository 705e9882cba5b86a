/* The device layer: enumeration, selection, error names, the embedded
 * program and its trivial kernel on every device, and the program cache. */
#include <stdio.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

#include "device/kernels_embedded.h"
#include "device/opencl_impl.h"
#include "test_util.h"

START_TEST(enumeration_orders_types_and_ends_with_host)
{
    nncl_device_list *list = test_devices();
    ck_assert_int_ge(list->count, 1);
    int defaults = 0;
    for (int i = 0; i < list->count; i++) {
        const nncl_device_info *d = &list->items[i];
        ck_assert_int_eq(d->index, i);
        ck_assert_msg(d->name[0] != '\0', "device %d has no name", i);
        ck_assert_uint_gt(d->compute_units, 0);
        ck_assert_uint_gt(d->global_mem_bytes, 0);
        ck_assert_uint_gt(d->max_alloc_bytes, 0);
        if (i > 0)
            ck_assert_int_le(list->items[i - 1].type, d->type);
        defaults += d->is_default;
        if (d->backend == NNCL_BACKEND_OPENCL) {
            ck_assert_msg(strstr(d->opencl_c_version, "OpenCL C") != NULL, "%s", d->opencl_c_version);
            ck_assert_int_ne(d->type, NNCL_DEVICE_HOST);
        }
    }
    ck_assert_int_eq(defaults, 1);
    ck_assert_int_eq(list->items[list->count - 1].backend, NNCL_BACKEND_HOST);
    ck_assert_int_eq(list->items[list->count - 1].type, NNCL_DEVICE_HOST);
}
END_TEST

START_TEST(select_by_index_host_and_name)
{
    nncl_device_list *list = test_devices();
    int idx = -1;
    ck_assert_ok(nncl_device_select(list, NULL, &idx));
    ck_assert_int_eq(idx, list->default_index);
    ck_assert_ok(nncl_device_select(list, "0", &idx));
    ck_assert_int_eq(idx, 0);
    ck_assert_ok(nncl_device_select(list, "host", &idx));
    ck_assert_int_eq(idx, list->count - 1);
    ck_assert_ok(nncl_device_select(list, "HoSt", &idx));
    ck_assert_int_eq(idx, list->count - 1);
    char last[16];
    snprintf(last, sizeof last, "%d", list->count - 1);
    ck_assert_ok(nncl_device_select(list, last, &idx));
    ck_assert_int_eq(idx, list->count - 1);
    if (list->items[0].backend == NNCL_BACKEND_OPENCL && strstr(list->items[0].platform, "Portable")) {
        ck_assert_ok(nncl_device_select(list, "portable computing", &idx)); /* platform name */
        ck_assert_int_eq(idx, 0);
    }
}
END_TEST

START_TEST(select_rejects_unknown_with_the_listing)
{
    nncl_device_list *list = test_devices();
    int idx = -1;
    ck_assert_int_eq(nncl_device_select(list, "99", &idx), NNCL_E_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(nncl_last_error(), "no device 99"));
    ck_assert_ptr_nonnull(strstr(nncl_last_error(), list->items[list->count - 1].name));
    ck_assert_int_eq(nncl_device_select(list, "-1", &idx), NNCL_E_NOT_FOUND);
    ck_assert_int_eq(nncl_device_select(list, "no-such-device-xyz", &idx), NNCL_E_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(nncl_last_error(), "no-such-device-xyz"));
    ck_assert_ptr_nonnull(strstr(nncl_last_error(), "host"));
}
END_TEST

/* Ambiguity needs two similar devices, so build the list by hand. */
START_TEST(select_rejects_ambiguous_names)
{
    nncl_device_info items[3] = {0};
    snprintf(items[0].name, sizeof items[0].name, "GeForce RTX 4090");
    snprintf(items[0].platform, sizeof items[0].platform, "NVIDIA CUDA");
    snprintf(items[1].name, sizeof items[1].name, "GeForce RTX 3060");
    snprintf(items[1].platform, sizeof items[1].platform, "NVIDIA CUDA");
    nncl_host_describe(&items[2]);
    for (int i = 0; i < 3; i++)
        items[i].index = i;
    items[0].backend = items[1].backend = NNCL_BACKEND_OPENCL;
    nncl_device_list list = {.items = items, .count = 3, .default_index = 0};
    int idx = -1;
    ck_assert_int_eq(nncl_device_select(&list, "nvidia", &idx), NNCL_E_INVALID);
    ck_assert_ptr_nonnull(strstr(nncl_last_error(), "matches 2 devices"));
    ck_assert_ptr_nonnull(strstr(nncl_last_error(), "RTX 3060"));
    ck_assert_ok(nncl_device_select(&list, "rtx 3060", &idx));
    ck_assert_int_eq(idx, 1);
    ck_assert_ok(nncl_device_select(&list, "rtx 4090", &idx));
    ck_assert_int_eq(idx, 0);
}
END_TEST

/* "host" opens the host alone, OpenCL never asked (e2e-devices shows the
 * loader untouched beside a driver that crashes); other choices list all. */
START_TEST(host_alone_for_a_host_choice)
{
    const char *choices[] = {"host", "HOST", "Host"};
    for (size_t i = 0; i < sizeof choices / sizeof choices[0]; i++) {
        ck_assert(nncl_device_choice_is_host(choices[i]));
        nncl_device_list list;
        ck_assert_ok(nncl_device_list_for(choices[i], &list));
        ck_assert_int_eq(list.count, 1);
        ck_assert(!list.opencl_listed);
        ck_assert_int_eq(list.items[0].backend, NNCL_BACKEND_HOST);
        ck_assert_int_eq(list.items[0].index, -1);
        ck_assert(list.items[0].is_default && list.default_index == 0);
        int idx = -2;
        ck_assert_ok(nncl_device_select(&list, choices[i], &idx));
        ck_assert_int_eq(idx, 0);
        nncl_device_list_free(&list);
    }
    ck_assert(!nncl_device_choice_is_host(NULL) && !nncl_device_choice_is_host("") &&
              !nncl_device_choice_is_host("hostile") && !nncl_device_choice_is_host("0"));
    /* NNCL_DEVICE=host stands for a choice not made; a choice made wins */
    setenv("NNCL_DEVICE", "host", 1);
    nncl_device_list list;
    ck_assert_ok(nncl_device_list_for(NULL, &list));
    ck_assert(!list.opencl_listed && list.count == 1);
    nncl_device_list_free(&list);
    ck_assert_ok(nncl_device_list_for("", &list));
    ck_assert(!list.opencl_listed && list.count == 1);
    nncl_device_list_free(&list);
    unsetenv("NNCL_DEVICE");
    ck_assert_ok(nncl_device_list_for("0", &list));
    ck_assert(list.opencl_listed);
    ck_assert_int_eq(list.items[list.count - 1].backend, NNCL_BACKEND_HOST);
    ck_assert_int_eq(list.items[list.count - 1].index, list.count - 1);
    nncl_device_list_free(&list);
}
END_TEST

/* The CPU's measured FP32 peak: within what any CPU can do per thread (at
 * least 0.5 GHz x 8 flops of SSE's 4 lanes, at most 6 GHz x 2 ports x 16
 * lanes x 2), so a loop the compiler dropped or flops miscounted fail. */
START_TEST(cpu_peak_is_measured)
{
    nncl_cpu_peak p;
    ck_assert_ok(nncl_cpu_fma_peak(1, &p));
    ck_assert_int_eq(p.threads, 1);
    ck_assert(p.isa[0] != '\0');
    ck_assert_msg(p.gflops >= 4 && p.gflops <= 6 * 2 * 16 * 2, "%.1f GFLOP/s on one thread (%s)", p.gflops, p.isa);
    nncl_cpu_peak two;
    ck_assert_ok(nncl_cpu_fma_peak(2, &two));
    ck_assert_int_eq(two.threads, 2);
    ck_assert_str_eq(two.isa, p.isa);
    ck_assert_msg(two.gflops >= 4 && two.gflops <= 2 * 6 * 2 * 16 * 2, "%.1f GFLOP/s on two threads", two.gflops);
    ck_assert_int_eq(nncl_cpu_fma_peak(0, &p), NNCL_E_INVALID);
    nncl_clear_error();
    ck_assert_int_eq(nncl_cpu_fma_peak(257, &p), NNCL_E_INVALID);
    nncl_clear_error();
}
END_TEST

START_TEST(error_names)
{
    ck_assert_str_eq(nncl_cl_error_name(CL_SUCCESS), "CL_SUCCESS");
    ck_assert_str_eq(nncl_cl_error_name(CL_OUT_OF_RESOURCES), "CL_OUT_OF_RESOURCES");
    ck_assert_str_eq(nncl_cl_error_name(-5), "CL_OUT_OF_RESOURCES");
    ck_assert_str_eq(nncl_cl_error_name(CL_BUILD_PROGRAM_FAILURE), "CL_BUILD_PROGRAM_FAILURE");
    ck_assert_str_eq(nncl_cl_error_name(CL_INVALID_KERNEL_ARGS), "CL_INVALID_KERNEL_ARGS");
    ck_assert_str_eq(nncl_cl_error_name(CL_MEM_OBJECT_ALLOCATION_FAILURE), "CL_MEM_OBJECT_ALLOCATION_FAILURE");
    ck_assert_str_eq(nncl_cl_error_name(-1001), "CL_PLATFORM_NOT_FOUND_KHR");
    ck_assert_str_eq(nncl_cl_error_name(-12345), "CL_UNKNOWN_ERROR");
    ck_assert_int_eq(nncl_cl_fail(CL_OUT_OF_RESOURCES, "clEnqueueNDRangeKernel", "gemm_nn"), NNCL_E_DEVICE);
    ck_assert_str_eq(nncl_last_error(), "clEnqueueNDRangeKernel(gemm_nn): CL_OUT_OF_RESOURCES (-5)");
}
END_TEST

/* The trivial kernel, end to end, on device `_i` (a loop test over all). */
/* Every device measures its FP32 peak. An OpenCL CPU device's chains
 * kernel runs on the CPU, so it cannot beat the CPU's own measured peak by
 * more than the noise of a shared machine (a miscounted flop would: PoCL's
 * chains reach about a tenth of it on AVX-512). */
START_TEST(device_peak_is_measured)
{
    nncl_device_list *list = test_devices();
    for (int d = 0; d < list->count; d++) {
        if (test_small())
            continue; /* a simulator measures nothing worth the time */
        nncl_device *dev = test_open(d);
        nncl_device_peak p;
        ck_assert_ok(nncl_device_fma_peak(dev, &p));
        ck_assert_msg(p.gflops > 0.5 && p.items >= 1 && strncmp(p.how, "measured: ", 10) == 0, "%s: %.1f (%s)",
                      list->items[d].name, p.gflops, p.how);
        const nncl_device_info *info = nncl_device_get_info(dev);
        /* (an OpenCL CPU device's chains against the CPU's own measurement; the
         * host's figure is that measurement, and a second one on a machine
         * busy with other tests may come out at half) */
        if (info->type == NNCL_DEVICE_CPU) {
            nncl_cpu_peak c;
            ck_assert_ok(nncl_cpu_fma_peak(info->compute_units > 256 ? 256 : (int)info->compute_units, &c));
            ck_assert_msg(p.gflops <= 1.5 * c.gflops, "%s: %.1f GFLOP/s against the CPU's %.1f", info->name,
                          p.gflops, c.gflops);
        }
        nncl_device_close(dev);
    }
}
END_TEST

START_TEST(fill_runs_on_every_device)
{
    nncl_device_list *list = test_devices();
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        static const size_t sizes[] = {1, 7, 64, 129, 1000, 4099};
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            size_t n = sizes[s], off = 3, total = n + 2 * off;
            nncl_buffer *b = test_poisoned(dev, total);
            nncl_fill_args a = {nncl_view_of(b, off), n, 2.5f};
            ck_assert_ok(nncl_fill(dev, &a));
            float *out = malloc(total * sizeof(float));
            ck_assert_ok(nncl_buffer_read(b, 0, out, total * sizeof(float)));
            for (size_t i = 0; i < total; i++) {
                bool inside = i >= off && i < off + n;
                ck_assert_msg(inside ? out[i] == 2.5f : isnan(out[i]),
                              "%s: n=%zu element %zu = %g", list->items[d].name, n, i, out[i]);
            }
            /* A view past the end is refused, not written. */
            nncl_fill_args bad = {nncl_view_of(b, off + 1), total - off, 1.0f};
            ck_assert_int_eq(nncl_fill(dev, &bad), NNCL_E_INVALID);
            ck_assert_ptr_nonnull(strstr(nncl_last_error(), "fill: y"));
            free(out);
            nncl_buffer_free(b);
        }
        nncl_device_close(dev);
    }
}
END_TEST

START_TEST(buffer_bounds_are_checked)
{
    nncl_device_list *list = test_devices();
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        nncl_buffer *b;
        float x[4] = {0};
        ck_assert_ok(nncl_buffer_alloc(dev, 16, &b));
        ck_assert_int_eq(nncl_buffer_write(b, 4, x, 16), NNCL_E_INVALID);
        ck_assert_int_eq(nncl_buffer_read(b, 17, x, 0), NNCL_E_INVALID);
        nncl_buffer *none;
        ck_assert_int_eq(nncl_buffer_alloc(dev, 0, &none), NNCL_E_INVALID);
        ck_assert_ptr_null(none);
        nncl_buffer *huge;
        ck_assert_int_eq(nncl_buffer_alloc(dev, (size_t)list->items[d].max_alloc_bytes + 1, &huge),
                         NNCL_E_UNSUPPORTED);
        nncl_buffer_free(b);
        nncl_device_close(dev);
    }
}
END_TEST

START_TEST(copy_between_buffers)
{
    nncl_device_list *list = test_devices();
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        float x[7] = {1, 2, 3, 4, 5, 6, 7}, y[7];
        nncl_buffer *a = test_upload(dev, x, 7), *b = test_poisoned(dev, 7);
        ck_assert_ok(nncl_buffer_copy(b, 2 * sizeof(float), a, 1 * sizeof(float), 4 * sizeof(float)));
        ck_assert_ok(nncl_buffer_read(b, 0, y, sizeof y));
        ck_assert(isnan(y[0]) && isnan(y[1]) && isnan(y[6]));
        for (int i = 2; i < 6; i++)
            ck_assert_float_eq(y[i], x[i - 1]);
        ck_assert_int_eq(nncl_buffer_copy(b, 4 * sizeof(float), a, 0, 4 * sizeof(float)), NNCL_E_INVALID);
        ck_assert_int_eq(nncl_buffer_copy(a, 0, a, 4, 8), NNCL_E_INVALID); /* overlap */
        nncl_buffer_free(a);
        nncl_buffer_free(b);
        nncl_device_close(dev);
    }
}
END_TEST

/* A sealed buffer (a dataset's rows once uploaded) cannot change: writes,
 * copies into it and ops that would write it are refused with a message
 * that says so, while reads, copies from it and ops that read it work. On
 * the host its pages are read-only too: a store through the memory itself,
 * as a stray op would make, faults in a child process and leaves the
 * contents as they were. */
static void expect_sealed_refusal(nncl_status st, const char *what)
{
    ck_assert_msg(st == NNCL_E_INVALID, "%s into a sealed buffer: status %d", what, (int)st);
    ck_assert_msg(strstr(nncl_last_error(), "sealed") != NULL, "%s: %s", what, nncl_last_error());
}

START_TEST(sealed_buffers_are_never_written)
{
    nncl_device_list *list = test_devices();
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        enum { N = 3000 }; /* more than a page: the host protects it */
        float *x = malloc(N * sizeof *x), y[4];
        for (size_t i = 0; i < N; i++)
            x[i] = (float)i;
        nncl_buffer *big = test_upload(dev, x, N), *small = test_upload(dev, x, 4), *other = test_poisoned(dev, N);
        ck_assert(!nncl_buffer_sealed(big));
        ck_assert_ok(nncl_buffer_seal(big));
        ck_assert_ok(nncl_buffer_seal(big)); /* again: nothing changes */
        ck_assert_ok(nncl_buffer_seal(small));
        ck_assert(nncl_buffer_sealed(big) && nncl_buffer_sealed(small));
        expect_sealed_refusal(nncl_buffer_write(big, 0, x, 16), "a write");
        expect_sealed_refusal(nncl_buffer_write(small, 4, x, 4), "a write");
        expect_sealed_refusal(nncl_buffer_copy(big, 0, other, 0, 16), "a copy");
        nncl_fill_args f = {nncl_view_of(big, 10), 5, -1.0f};
        expect_sealed_refusal(nncl_fill(dev, &f), "fill");
        nncl_act_fwd_args act = {.x = nncl_view_of(other, 0), .y = nncl_view_of(small, 0), .n = 4,
                                 .act = NNCL_ACT_RELU};
        expect_sealed_refusal(nncl_act_fwd(dev, &act), "act_fwd");
        nncl_gemm_args g = {.a = nncl_view_of(other, 0), .lda = 2, .b = nncl_view_of(other, 0), .ldb = 2,
                            .c = nncl_view_of(big, 0), .ldc = 2, .m = 2, .n = 2, .k = 2, .alpha = 1.0f};
        expect_sealed_refusal(nncl_gemm(dev, &g), "gemm");
        /* reading it is fine: an op's input, a copy's source, a read */
        act = (nncl_act_fwd_args){.x = nncl_view_of(big, 1), .y = nncl_view_of(other, 0), .n = 4,
                                  .act = NNCL_ACT_IDENTITY};
        ck_assert_ok(nncl_act_fwd(dev, &act));
        ck_assert_ok(nncl_buffer_read(other, 0, y, sizeof y));
        for (int i = 0; i < 4; i++)
            ck_assert_float_eq(y[i], (float)(i + 1));
        ck_assert_ok(nncl_buffer_copy(other, 0, big, 8 * sizeof(float), 4 * sizeof(float)));
        ck_assert_ok(nncl_buffer_read(other, 0, y, sizeof y));
        ck_assert_float_eq(y[3], 11.0f);
        if (list->items[d].backend == NNCL_BACKEND_HOST) {
            fflush(NULL);
            pid_t pid = fork();
            ck_assert_int_ge(pid, 0);
            if (pid == 0) {
                ((volatile float *)big->host)[7] = -7.0f;
                _exit(0);
            }
            int wst = 0;
            ck_assert_int_eq(waitpid(pid, &wst, 0), pid);
            ck_assert_msg(!(WIFEXITED(wst) && WEXITSTATUS(wst) == 0), "a store into a sealed host buffer went through");
        }
        ck_assert_ok(nncl_buffer_read(big, 0, x, N * sizeof *x));
        for (size_t i = 0; i < N; i++)
            ck_assert_float_eq(x[i], (float)i);
        nncl_buffer_free(big);
        nncl_buffer_free(small);
        nncl_buffer_free(other);
        free(x);
        nncl_device_close(dev);
    }
}
END_TEST

/* ---- the program cache and build errors (OpenCL devices only) ----------- */

static char tmp_cache[256];

static void fresh_cache(void)
{
    snprintf(tmp_cache, sizeof tmp_cache, "/tmp/nncl-test-cache-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmp_cache));
    setenv("XDG_CACHE_HOME", tmp_cache, 1);
    unsetenv("NNCL_NO_CACHE");
}

static void remove_tree(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static void check_fill_works(nncl_device *dev)
{
    nncl_buffer *b = test_poisoned(dev, 5);
    nncl_fill_args a = {nncl_view_of(b, 0), 5, -1.0f};
    ck_assert_ok(nncl_fill(dev, &a));
    float out[5];
    ck_assert_ok(nncl_buffer_read(b, 0, out, sizeof out));
    for (int i = 0; i < 5; i++)
        ck_assert_float_eq(out[i], -1.0f);
    nncl_buffer_free(b);
}

/* Files in the test's cache folder whose names end with suffix. */
static int cache_files(const char *suffix)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "exit $(ls '%s'/nncl/ 2>/dev/null | grep -c '%s$')", tmp_cache, suffix);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* A program is stored only once a later process's build from source is
 * slow (NNCL_CACHE_BUILDS_OVER=0: every build is): the first open builds
 * and leaves a marker, the second builds again and stores the binary, the
 * third loads it. A corrupt entry is rebuilt, never trusted. */
START_TEST(program_cache_is_used_and_survives_corruption)
{
    nncl_device_list *list = test_devices();
    if (list->items[0].backend != NNCL_BACKEND_OPENCL)
        return;
    fresh_cache();
    setenv("NNCL_CACHE_BUILDS_OVER", "0", 1);
    bool cached = true;
    nncl_device *dev = test_open(0);
    ck_assert_ok(nncl_device_prepare(dev, &cached));
    ck_assert_msg(!cached, "a fresh cache cannot hold the program");
    check_fill_works(dev);
    nncl_device_close(dev);
    ck_assert_int_eq(cache_files(".built"), 1);
    ck_assert_int_eq(cache_files(".bin"), 0);

    dev = test_open(0);
    ck_assert_ok(nncl_device_prepare(dev, &cached));
    ck_assert_msg(!cached, "the second open builds again (and stores the binary)");
    check_fill_works(dev);
    nncl_device_close(dev);
    ck_assert_int_eq(cache_files(".bin"), 1);

    dev = test_open(0);
    ck_assert_ok(nncl_device_prepare(dev, &cached));
    ck_assert_msg(cached, "the third open should load the cached binary");
    check_fill_works(dev);
    nncl_device_close(dev);

    /* Corrupt every entry: flip bytes in the middle. It must be rebuilt. */
    char cmd[600];
    snprintf(cmd, sizeof cmd,
             "for f in '%s'/nncl/*.bin; do printf 'garbage' | dd of=\"$f\" bs=1 seek=200 conv=notrunc 2>/dev/null; done",
             tmp_cache);
    ck_assert_int_eq(system(cmd), 0);
    dev = test_open(0);
    ck_assert_ok(nncl_device_prepare(dev, &cached));
    ck_assert_msg(!cached, "a corrupt entry must not be trusted");
    check_fill_works(dev);
    nncl_device_close(dev);

    /* Truncated to a few bytes: rebuilt again. */
    snprintf(cmd, sizeof cmd, "for f in '%s'/nncl/*.bin; do truncate -s 5 \"$f\"; done", tmp_cache);
    ck_assert_int_eq(system(cmd), 0);
    dev = test_open(0);
    ck_assert_ok(nncl_device_prepare(dev, &cached));
    ck_assert(!cached);
    check_fill_works(dev);
    nncl_device_close(dev);
    remove_tree(tmp_cache);
    unsetenv("NNCL_CACHE_BUILDS_OVER");
}
END_TEST

/* Rebuilds that stay cheap (a driver's own cache, as PoCL's; here every
 * build counts as cheap) never fetch the binary, which on PoCL compiles
 * every kernel: the program is built each time, nothing but the marker is
 * kept. */
/* The levels "compiling kernels for ..." was said at. */
typedef struct compile_notices {
    int info, verbose;
} compile_notices;

static void count_compile_notices(void *ctx, nncl_notice_level level, const char *text)
{
    compile_notices *n = ctx;
    if (strstr(text, "compiling kernels for"))
        level == NNCL_NOTICE_INFO ? n->info++ : level == NNCL_NOTICE_VERBOSE ? n->verbose++ : 0;
}

START_TEST(cheap_rebuilds_are_not_stored)
{
    nncl_device_list *list = test_devices();
    if (list->items[0].backend != NNCL_BACKEND_OPENCL)
        return;
    fresh_cache();
    /* every build counts as cheap: none is stored, and after the first
     * none is announced (PoCL rebuilds from its own cache in hundredths of
     * a second, every run) */
    setenv("NNCL_CACHE_BUILDS_OVER", "1000", 1);
    for (int open = 0; open < 3; open++) {
        bool cached = true;
        compile_notices said = {0};
        nncl_set_notice_handler(count_compile_notices, &said);
        nncl_device *dev = test_open(0);
        ck_assert_ok(nncl_device_prepare(dev, &cached));
        nncl_set_notice_handler(NULL, NULL);
        ck_assert_msg(!cached, "open %d loaded a binary", open);
        ck_assert_msg(said.info == (open == 0) && said.verbose == (open > 0), "open %d: said %d times, %d verbose",
                      open, said.info, said.verbose);
        check_fill_works(dev);
        nncl_device_close(dev);
    }
    ck_assert_int_eq(cache_files(".built"), 1);
    ck_assert_int_eq(cache_files(".bin"), 0);
    remove_tree(tmp_cache);
    unsetenv("NNCL_CACHE_BUILDS_OVER");
}
END_TEST

/* The compilers' two ways of locating an error: PoCL honours #line and
 * names the file; NVIDIA numbers the assembled source ("<kernel>:48:50"),
 * which is mapped back through the directives. A location that already
 * names a kernel file, one inside a message, and any text without a source
 * to map through, pass untouched. */
START_TEST(build_log_locations_name_the_file)
{
    ck_assert_int_ge(nncl_embedded_source_count, 2);
    const char *first = nncl_embedded_sources[0].name, *second = nncl_embedded_sources[1].name;
    char source[256], in[1024], want[1024];
    snprintf(source, sizeof source, "#line 1 \"%s\"\nx\ny\n#line 1 \"%s\"\nz\nw\n", first, second);
    snprintf(in, sizeof in, "<kernel>:6:3: error: in 'w'\n<kernel>:2:1: note: see :6:3\n%s:2:5: warning: kept\n",
             first);
    snprintf(want, sizeof want, "%s:2:3: error: in 'w'\n%s:1:1: note: see :6:3\n%s:2:5: warning: kept\n", second,
             first, first);
    char *out = nncl_cl_log_locate(in, source);
    ck_assert_ptr_nonnull(out);
    ck_assert_str_eq(out, want);
    free(out);
    out = nncl_cl_log_locate(in, NULL);
    ck_assert_ptr_nonnull(out);
    ck_assert_str_eq(out, in);
    free(out);
    /* a line number past the source, or above its first directive */
    out = nncl_cl_log_locate("<kernel>:99:1: error\n<kernel>:1:1: error\n", source);
    ck_assert_ptr_nonnull(out);
    ck_assert_str_eq(out, "<kernel>:99:1: error\n<kernel>:1:1: error\n");
    free(out);
    /* the same through the real assembled source: its physical line of
     * fill.cl's first line comes back as fill.cl:1 */
    char *all;
    size_t all_len;
    ck_assert_ok(nncl_cl_source(NULL, 0, &all, &all_len));
    const char *d = strstr(all, "\"fill.cl\"\n");
    ck_assert_ptr_nonnull(d);
    int physical = 2;   /* the line after the directive */
    for (const char *q = all; q < d; q++)
        physical += *q == '\n';
    snprintf(in, sizeof in, "<kernel>:%d:7: error: x\n", physical);
    out = nncl_cl_log_locate(in, all);
    ck_assert_ptr_nonnull(out);
    ck_assert_str_eq(out, "fill.cl:1:7: error: x\n");
    free(out);
    free(all);
    out = nncl_cl_log_locate("", NULL);
    ck_assert_ptr_nonnull(out);
    ck_assert_str_eq(out, "");
    free(out);
}
END_TEST

START_TEST(build_failure_names_the_file_and_shows_the_log)
{
    nncl_device_list *list = test_devices();
    if (list->items[0].backend != NNCL_BACKEND_OPENCL)
        return;
    fresh_cache();
    char dir[300];
    snprintf(dir, sizeof dir, "%s/kernels", tmp_cache);
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    for (int i = 0; i < nncl_embedded_source_count; i++) {
        char path[600];
        snprintf(path, sizeof path, "%s/%s", dir, nncl_embedded_sources[i].name);
        FILE *f = fopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        fwrite(nncl_embedded_sources[i].data, 1, nncl_embedded_sources[i].size, f);
        if (strcmp(nncl_embedded_sources[i].name, "fill.cl") == 0)
            fputs("\n__kernel void broken(__global float *y) { y[0] = undefined_name; }\n", f);
        fclose(f);
    }
    setenv("NNCL_KERNEL_PATH", dir, 1);
    nncl_device *dev = test_open(0);
    nncl_status st = nncl_device_prepare(dev, NULL);
    ck_assert_int_eq(st, NNCL_E_DEVICE);
    const char *msg = nncl_last_error();
    ck_assert_msg(strstr(msg, "CL_BUILD_PROGRAM_FAILURE") && strstr(msg, "fill.cl") &&
                      strstr(msg, "undefined_name") && strstr(msg, "build log"),
                  "message lacks the file, error name or log: %s", msg);
    /* The file and line of the error, whatever the compiler calls the source
     * (PoCL prints the #line name, NVIDIA "<kernel>"). */
    int fill_lines = 0;
    for (int i = 0; i < nncl_embedded_source_count; i++)
        if (strcmp(nncl_embedded_sources[i].name, "fill.cl") == 0)
            for (size_t k = 0; k < nncl_embedded_sources[i].size; k++)
                fill_lines += nncl_embedded_sources[i].data[k] == '\n';
    char where[64];
    snprintf(where, sizeof where, "fill.cl:%d:", fill_lines + 2);
    ck_assert_msg(strstr(msg, where), "the build log does not point at %s: %s", where, msg);
    /* An op reports the same failure instead of crashing. */
    nncl_buffer *b = test_poisoned(dev, 4);
    nncl_fill_args a = {nncl_view_of(b, 0), 4, 0.0f};
    ck_assert_int_eq(nncl_fill(dev, &a), NNCL_E_DEVICE);
    nncl_buffer_free(b);
    nncl_device_close(dev);

    /* A missing file in NNCL_KERNEL_PATH is named too. */
    char path[600];
    snprintf(path, sizeof path, "%s/fill.cl", dir);
    unlink(path);
    dev = test_open(0);
    ck_assert_int_eq(nncl_device_prepare(dev, NULL), NNCL_E_IO);
    ck_assert_ptr_nonnull(strstr(nncl_last_error(), "fill.cl"));
    ck_assert_ptr_nonnull(strstr(nncl_last_error(), "NNCL_KERNEL_PATH"));
    nncl_device_close(dev);
    unsetenv("NNCL_KERNEL_PATH");
    remove_tree(tmp_cache);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("device");
    TCase *t = tcase_create("list");
    tcase_add_test(t, enumeration_orders_types_and_ends_with_host);
    tcase_add_test(t, select_by_index_host_and_name);
    tcase_add_test(t, select_rejects_unknown_with_the_listing);
    tcase_add_test(t, select_rejects_ambiguous_names);
    tcase_add_test(t, error_names);
    tcase_add_test(t, host_alone_for_a_host_choice);
    tcase_add_test(t, cpu_peak_is_measured);
    suite_add_tcase(s, t);
    t = tcase_create("run");
    tcase_add_test(t, fill_runs_on_every_device);
    tcase_add_test(t, device_peak_is_measured);
    tcase_add_test(t, buffer_bounds_are_checked);
    tcase_add_test(t, copy_between_buffers);
    tcase_add_test(t, sealed_buffers_are_never_written);
    tcase_add_test(t, program_cache_is_used_and_survives_corruption);
    tcase_add_test(t, cheap_rebuilds_are_not_stored);
    tcase_add_test(t, build_log_locations_name_the_file);
    tcase_add_test(t, build_failure_names_the_file_and_shows_the_log);
    tcase_set_timeout(t, 300);
    suite_add_tcase(s, t);
    return test_run_suite(s);
}
