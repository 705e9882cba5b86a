/* Per-device kernel parameters, passed to the compiler as -D defines. The
 * kernels carry defaults (#ifndef); this table overrides them per device. */
#include <stdio.h>

#include "device/opencl_impl.h"

void nncl_cl_tuning_options(const nncl_device_info *info, char *out, size_t len)
{
    (void)info;
    snprintf(out, len, "%s", "");
}
