#include "nncl/nncl.h"
#include "nncl_config.h"

const char *nncl_version(void) { return NNCL_VERSION; }
