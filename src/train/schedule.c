/* Learning-rate schedules, evaluated on the host once per step and passed
 * to the optimiser kernel as an argument. */
#include <math.h>

#include "nncl/train.h"

float nncl_schedule_lr(const nncl_schedule *s, double epoch, int epochs)
{
    double lr = s->lr;
    double warm = s->warmup_epochs;
    /* Linear warm-up from (almost) zero; the 1e-3 keeps the first step's rate above 0. */
    if (warm > 0 && epoch < warm)
        return (float)(lr * fmin(1.0, (epoch + 1e-3) / warm));
    switch (s->kind) {
    case NNCL_SCHEDULE_CONSTANT: break;
    case NNCL_SCHEDULE_STEP:
        if (s->step_epochs > 0)
            lr *= pow(s->gamma, floor(epoch / s->step_epochs));
        break;
    case NNCL_SCHEDULE_COSINE: {
        double span = epochs - warm;
        double progress = span > 0 ? (epoch - warm) / span : 1.0;
        if (progress > 1)
            progress = 1;
        lr *= 0.5 * (1.0 + cos(3.14159265358979323846 * progress));
        break;
    }
    }
    return (float)lr;
}

const char *nncl_run_status_name(nncl_run_status s)
{
    switch (s) {
    case NNCL_RUN_OK: return "ok";
    case NNCL_RUN_DIVERGED: return "diverged";
    case NNCL_RUN_INTERRUPTED: return "interrupted";
    case NNCL_RUN_FAILED: return "failed";
    }
    return "failed";
}
