/* The host optim_step's loops (optim_host_loops.inc), one copy per
 * instruction set; optim.c picks the widest the CPU has. Private to the
 * library. */
#ifndef NNCL_OPTIM_HOST_H
#define NNCL_OPTIM_HOST_H

#include <stddef.h>

#include "nncl/ops.h"

/* Elements [lo, hi) of a's update; m and v as the kind uses them (else
 * NULL); step, rbc2 and keep are optim.c's scalars of the step. */
typedef void nncl_optim_host_range_fn(const nncl_optim_step_args *a, float *w, const float *grad, float *m,
                                      float *v, size_t lo, size_t hi, float step, float rbc2, float keep);

nncl_optim_host_range_fn nncl_optim_host_range_generic, nncl_optim_host_range_avx2,
    nncl_optim_host_range_avx512;

#endif
