/* Creating a folder and whatever parents it lacks (mkdir -p). */
#ifndef NNCL_MKDIR_P_H
#define NNCL_MKDIR_P_H

#include "nncl/status.h"

/* Create every missing folder of path, path included; existing ones are
 * fine. NNCL_E_IO names the folder that could not be made. */
nncl_status nncl_mkdir_p(const char *path);

#endif
