/* Whether a run directory's process is still alive. While a run trains,
 * summary.json says "running" and names its process: pid, host, the boot
 * it runs in and when the process started. A reader that finds "running"
 * asks run_is_crashed: a run whose process is gone crashed (kill -9, power
 * loss, out of memory) and can be continued with `nncl train --resume`. */
#ifndef NNCL_RUN_LIVENESS_H
#define NNCL_RUN_LIVENESS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* Add this process's pid, host, boot_id and pid_start to a summary object
 * (boot_id and pid_start where /proc has them). */
void run_liveness_add(json_t *summary);

/* True when summary (a run's summary.json) says "running" but its process
 * is gone: the pid no longer exists on this host, or this host has booted
 * since, or the pid now belongs to a process started at another time. False
 * for any other status, for a run on another host (which cannot be checked
 * from here), and for a summary without a pid (written by an older nncl). */
bool run_is_crashed(json_t *summary);

/* The same for a process, given its pid, host and (0 / NULL if unknown) its
 * start time and boot. */
bool run_process_is_gone(long pid, const char *host, const char *boot_id, unsigned long long pid_start);

/* What a reader prints for a crashed run: "crashed: its process (pid 123 on
 * host vm) is gone; continue it with: nncl train --resume RUN_DIR". */
void run_crash_note(json_t *summary, const char *run_dir, char *out, size_t len);

#endif
