/* The public op wrappers, one per entry of NNCL_OPS: validate the arguments
 * once (nncl_check_<op>, shared by every backend), then call the device's
 * implementation, reporting a missing one as unsupported. */
#include <time.h>

#include "device/backend.h"
#include "util/clock.h"

/* Profiling: finish what is queued, run the op, finish it, and book the time. */
#define NNCL_PROFILED_CALL(op, dev, args)                                           \
    do {                                                                            \
        nncl_status pst_ = nncl_device_finish(dev);                                 \
        if (pst_ != NNCL_OK)                                                        \
            return pst_;                                                            \
        double t0_ = nncl_seconds_now();                                                 \
        pst_ = dev->iface->op(dev, args);                                           \
        if (pst_ == NNCL_OK)                                                        \
            pst_ = nncl_device_finish(dev);                                         \
        nncl_device_profile_add(dev, #op, nncl_seconds_now() - t0_);                     \
        return pst_;                                                                \
    } while (0)

#define NNCL_DEFINE_OP(op)                                                        \
    nncl_status nncl_##op(nncl_device *dev, const nncl_##op##_args *args)       \
    {                                                                               \
        if (!dev || !args)                                                          \
            return nncl_fail(NNCL_E_INVALID, #op ": no device or arguments");     \
        if (!dev->iface->op)                                                        \
            return nncl_fail(NNCL_E_UNSUPPORTED, #op ": not supported on %s",     \
                             dev->info.name);                                       \
        nncl_status st = nncl_check_##op(dev, args);                              \
        if (st != NNCL_OK)                                                          \
            return st;                                                              \
        if (dev->profile)                                                           \
            NNCL_PROFILED_CALL(op, dev, args);                                      \
        return dev->iface->op(dev, args);                                         \
    }
NNCL_OPS(NNCL_DEFINE_OP)
#undef NNCL_DEFINE_OP

bool nncl_device_prefers(const nncl_device *dev, nncl_op_id op)
{
    bool supported = false;
    switch (op) {
#define NNCL_SUPPORTED_CASE(name) \
    case NNCL_OP_##name: supported = dev->iface->name != NULL; break;
        NNCL_OPS(NNCL_SUPPORTED_CASE)
#undef NNCL_SUPPORTED_CASE
    default: break;
    }
    return supported && (!dev->iface->prefers || dev->iface->prefers(dev, op));
}
