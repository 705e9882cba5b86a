/* nncl: neural networks in C, trained on any OpenCL device.
 * The umbrella header: include this one. */
#ifndef NNCL_H
#define NNCL_H

#include "nncl/status.h"
#include "nncl/device.h"
#include "nncl/ops.h"
#include "nncl/tune.h"

/* The library's version, "MAJOR.MINOR.PATCH". */
const char *nncl_version(void);

#endif
