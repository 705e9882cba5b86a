/* Building OpenCL programs quietly, several at once.
 *
 * Some drivers print the compiler's diagnostics themselves (PoCL: "112
 * warnings generated."), which would land on the user's terminal: while a
 * build runs, file descriptor 2 points at a temporary file, and what was
 * caught goes, with each program's build log, to the verbose notices
 * (NNCL_VERBOSE=1 in the CLI). If the descriptor cannot be redirected the
 * builds simply run.
 *
 * The tuner builds a program per candidate parameter set. A GPU's driver
 * compiles at clBuildProgram (about a second a program, by the H200's
 * quick searches), so a batch of them is built on several threads at once:
 * OpenCL's calls are thread-safe, apart from setting one kernel's
 * arguments. A driver that serialises its compiler gains nothing (PoCL:
 * two at once took 1.3 s where one after the other took 0.8 s), and the
 * tuner builds one at a time there (tune_run.h says how it knows). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "device/notice.h"
#include "device/opencl_impl.h"
#include "util/clock.h"

char *nncl_cl_program_source(cl_program prog)
{
    size_t n = 0;
    if (clGetProgramInfo(prog, CL_PROGRAM_SOURCE, 0, NULL, &n) != CL_SUCCESS || n == 0)
        return NULL;
    char *src = malloc(n + 1);
    if (src && clGetProgramInfo(prog, CL_PROGRAM_SOURCE, n, src, NULL) != CL_SUCCESS) {
        free(src);
        return NULL;
    }
    if (src)
        src[n] = '\0';
    return src;
}

char *nncl_cl_build_log(cl_program prog, cl_device_id device)
{
    size_t n = 0;
    clGetProgramBuildInfo(prog, device, CL_PROGRAM_BUILD_LOG, 0, NULL, &n);
    char *log = malloc(n + 1);
    if (!log)
        return NULL;
    log[0] = '\0';
    if (n)
        clGetProgramBuildInfo(prog, device, CL_PROGRAM_BUILD_LOG, n, log, NULL);
    log[n] = '\0';
    return log;
}

/* ptxas --verbose, a block per entry point:
 *   ptxas info    : Compiling entry function 'gemm_nn' for 'sm_90'
 *   ptxas info    : Function properties for gemm_nn
 *       0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
 *   ptxas info    : Used 127 registers, used 1 barriers, 16896 bytes smem, ...
 * The kernel's block runs to the next entry point's. */
bool nncl_cl_log_registers(const char *log, const char *kernel, int *registers, int *spill_bytes)
{
    *registers = *spill_bytes = 0;
    if (!log || !kernel || !*kernel)
        return false;
    static const char entry[] = "Compiling entry function '";
    const char *block = NULL;
    size_t klen = strlen(kernel);
    for (const char *p = strstr(log, entry); p && !block; p = strstr(p + 1, entry)) {
        const char *name = p + sizeof entry - 1;
        if (strncmp(name, kernel, klen) == 0 && name[klen] == '\'')
            block = name + klen;
    }
    if (!block)
        return false;
    const char *end = strstr(block, entry);
    if (!end)
        end = block + strlen(block);
    int regs = 0, spill = 0;
    bool found = false;
    for (const char *line = block; line && line < end; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        const char *used = strstr(line, "Used ");
        const char *eol = strchr(line, '\n');
        if (used && (!eol || used < eol) && sscanf(used, "Used %d registers", &regs) == 1)
            found = true;
        const char *sp = strstr(line, " bytes spill stores");
        if (sp && (!eol || sp < eol)) {
            const char *num = sp;
            while (num > line && num[-1] >= '0' && num[-1] <= '9')
                num--;
            spill = atoi(num);
        }
    }
    if (!found)
        return false;
    *registers = regs;
    *spill_bytes = spill;
    return true;
}

/* What the driver printed (said, the batch's) and prog's own log, with
 * locations in the kernel files, to the verbose notices. */
static void report_output(cl_program prog, cl_device_id device, const char *options, const char *said)
{
    char *log = nncl_cl_build_log(prog, device);
    bool has_log = log && log[strspn(log, " \t\r\n")];
    if (said[0] || has_log) {
        char *source = nncl_cl_program_source(prog);
        char *where_said = said[0] ? nncl_cl_log_locate(said, source) : NULL;
        char *where_log = has_log ? nncl_cl_log_locate(log, source) : NULL;
        free(source);
        nncl_notice(NNCL_NOTICE_VERBOSE, "OpenCL compiler output (options %s):\n%s%s", options,
                    where_said ? where_said : said, has_log ? (where_log ? where_log : log) : "");
        free(where_said);
        free(where_log);
    }
    free(log);
}

/* ---- several at once ------------------------------------------------------------- */

typedef struct batch {
    const cl_program *progs;
    const char *const *options;
    int n;
    cl_device_id device;
    cl_int *errs;
    double *seconds;
    atomic_int next;            /* the next program to build */
} batch;

static void *build_some(void *arg)
{
    batch *b = arg;
    for (int i; (i = atomic_fetch_add(&b->next, 1)) < b->n;) {
        double t0 = nncl_seconds_now();
        b->errs[i] = clBuildProgram(b->progs[i], 1, &b->device, b->options[i], NULL, NULL);
        b->seconds[i] = nncl_seconds_now() - t0;
    }
    return NULL;
}

void nncl_cl_build_batch(const cl_program *progs, const char *const *options, int n, cl_device_id device,
                         cl_int *errs, double *seconds)
{
    if (n < 1)
        return;
    fflush(stderr);
    FILE *catch = tmpfile();
    int saved = catch ? dup(2) : -1;
    bool redirected = saved >= 0 && dup2(fileno(catch), 2) >= 0;

    batch b = {progs, options, n, device, errs, seconds, 0};
    enum { MOST = 16 };
    int threads = n < MOST ? n : MOST;
    pthread_t tids[MOST];
    int started = 0;
    /* the calling thread is one of the builders; a thread that cannot be
     * started leaves its share to the others */
    while (started < threads - 1 && pthread_create(&tids[started], NULL, build_some, &b) == 0)
        started++;
    build_some(&b);
    for (int i = 0; i < started; i++)
        pthread_join(tids[i], NULL);

    if (redirected) {
        fflush(stderr);
        dup2(saved, 2);
    }
    if (saved >= 0)
        close(saved);
    char said[4096] = "";
    if (catch) {
        rewind(catch);
        size_t got = fread(said, 1, sizeof said - 1, catch);
        said[got] = '\0';
        fclose(catch);
    }
    /* what the driver printed belongs to the batch: said once, with the first */
    for (int i = 0; i < n; i++)
        report_output(progs[i], device, options[i], i == 0 ? said : "");
}

cl_int nncl_cl_build_quietly(cl_program prog, cl_device_id device, const char *options)
{
    cl_int err = CL_SUCCESS;
    double seconds;
    nncl_cl_build_batch(&prog, &options, 1, device, &err, &seconds);
    return err;
}
