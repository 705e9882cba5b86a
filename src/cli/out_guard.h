/* Before a command writes a file the user named (predict --out, report
 * --out, compare --html): that it cannot destroy what the user has. */
#ifndef NNCL_CLI_OUT_GUARD_H
#define NNCL_CLI_OUT_GUARD_H

#include <stddef.h>

#include "nncl/status.h"

/* NNCL_E_INVALID, naming flag and what would be lost, when out is the same
 * file as one of the command's inputs (by device and inode: another
 * spelling, ./, a link), or one of the files that make a run or a sweep
 * (config.json, summary.json, metrics.csv, model.safetensors,
 * checkpoint.bin, snapshots.bin, evaluation.json; sweep.json) in a folder
 * that holds a run or a sweep. NNCL_OK otherwise, and for a file that does
 * not exist yet. inputs may hold NULLs (left out). */
nncl_status out_guard(const char *flag, const char *out, const char *const *inputs, size_t n_inputs);

#endif
