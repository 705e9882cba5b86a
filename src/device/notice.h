/* Messages for a person, handed to the handler the CLI installs
 * (nncl_set_notice_handler in nncl/device.h); dropped without one. */
#ifndef NNCL_NOTICE_H
#define NNCL_NOTICE_H

#include "nncl/device.h"

void nncl_notice(nncl_notice_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
