#include "cli/out_guard.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* The files a run (or a sweep) is made of: none of them can be made again
 * from the others (report.html can: nncl report). */
static const char *const record_files[] = {"config.json",    "summary.json",  "metrics.csv",     "model.safetensors",
                                           "checkpoint.bin", "snapshots.bin", "evaluation.json", "sweep.json"};

static bool is_file_in(const char *folder, const char *name)
{
    char path[4200];
    struct stat sb;
    if (snprintf(path, sizeof path, "%s/%s", folder, name) >= (int)sizeof path)
        return false;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

nncl_status out_guard(const char *flag, const char *out, const char *const *inputs, size_t n_inputs)
{
    struct stat so;
    if (!out || stat(out, &so) != 0)
        return NNCL_OK; /* a new file replaces nothing */
    for (size_t i = 0; i < n_inputs; i++) {
        struct stat si;
        if (inputs[i] && stat(inputs[i], &si) == 0 && si.st_dev == so.st_dev && si.st_ino == so.st_ino)
            return nncl_fail(NNCL_E_INVALID, "%s %s is %s, which this command reads: writing there would replace "
                             "it; choose another file", flag, out, inputs[i]);
    }
    const char *slash = strrchr(out, '/');
    const char *base = slash ? slash + 1 : out;
    char folder[4200];
    if (!slash)
        snprintf(folder, sizeof folder, ".");
    else if (slash == out)
        snprintf(folder, sizeof folder, "/");
    else
        snprintf(folder, sizeof folder, "%.*s", (int)(slash - out), out);
    if (!is_file_in(folder, "config.json") && !is_file_in(folder, "sweep.json"))
        return NNCL_OK;
    for (size_t i = 0; i < sizeof record_files / sizeof record_files[0]; i++)
        if (strcmp(base, record_files[i]) == 0)
            return nncl_fail(NNCL_E_INVALID, "%s %s is the %s of the %s in %s, which nothing can make again: "
                             "choose another file", flag, out, base,
                             is_file_in(folder, "config.json") ? "run" : "sweep", folder);
    return NNCL_OK;
}
