/* Is a "running" run's process alive? See run_liveness.h. */
#include "report/run_liveness.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static void this_host(char *out, size_t len)
{
    if (gethostname(out, len) != 0)
        snprintf(out, len, "?");
    out[len - 1] = '\0';
}

/* The kernel's id of this boot, or "" where there is none. */
static void boot_id(char *out, size_t len)
{
    out[0] = '\0';
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
    if (!f)
        return;
    if (fgets(out, (int)len, f))
        out[strcspn(out, "\n")] = '\0';
    else
        out[0] = '\0';
    fclose(f);
}

/* When process pid started, in clock ticks after boot (field 22 of
 * /proc/PID/stat), or 0 where it cannot be read. */
static unsigned long long process_start(long pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* The command name (field 2) is in parentheses and may hold spaces. */
    char *p = strrchr(buf, ')');
    if (!p)
        return 0;
    p++;
    for (int field = 3; field < 22 && p; field++) {
        p = strchr(p + 1, ' ');
    }
    return p ? strtoull(p + 1, NULL, 10) : 0;
}

void run_liveness_add(json_t *summary)
{
    char host[256], boot[64];
    this_host(host, sizeof host);
    boot_id(boot, sizeof boot);
    json_object_set_new(summary, "pid", json_integer((json_int_t)getpid()));
    json_object_set_new(summary, "host", json_string(host));
    if (boot[0])
        json_object_set_new(summary, "boot_id", json_string(boot));
    unsigned long long start = process_start((long)getpid());
    if (start)
        json_object_set_new(summary, "pid_start", json_integer((json_int_t)start));
}

bool run_process_is_gone(long pid, const char *host, const char *boot, unsigned long long pid_start)
{
    char here[256], now[64];
    this_host(here, sizeof here);
    if (pid <= 0 || !host || strcmp(host, here) != 0)
        return false;
    boot_id(now, sizeof now);
    if (boot && boot[0] && now[0] && strcmp(boot, now) != 0)
        return true;                    /* the machine restarted since */
    if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
        return true;
    /* The pid exists: the run's process, or another that reused its pid. */
    unsigned long long start = process_start(pid);
    return pid_start && start && start != pid_start;
}

bool run_is_crashed(json_t *summary)
{
    const char *status = json_string_value(json_object_get(summary, "status"));
    json_t *pid = json_object_get(summary, "pid");
    if (!status || strcmp(status, "running") != 0 || !json_is_integer(pid))
        return false;
    json_t *start = json_object_get(summary, "pid_start");
    return run_process_is_gone((long)json_integer_value(pid), json_string_value(json_object_get(summary, "host")),
                               json_string_value(json_object_get(summary, "boot_id")),
                               json_is_integer(start) ? (unsigned long long)json_integer_value(start) : 0);
}

void run_crash_note(json_t *summary, const char *run_dir, char *out, size_t len)
{
    const char *host = json_string_value(json_object_get(summary, "host"));
    snprintf(out, len, "crashed: its process (pid %lld on %s) is gone; continue it with: nncl train --resume %s",
             (long long)json_integer_value(json_object_get(summary, "pid")), host ? host : "?", run_dir);
}
