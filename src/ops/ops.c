/* The public op wrappers, one per entry of NNCL_OPS: validate the arguments
 * once (nncl_check_<op>, shared by every backend), then call the device's
 * implementation, reporting a missing one as unsupported. */
#include "device/backend.h"

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
        return dev->iface->op(dev, args);                                         \
    }
NNCL_OPS(NNCL_DEFINE_OP)
#undef NNCL_DEFINE_OP
