/* The run report: one self-contained HTML page (report.html) drawn from a
 * run directory, with its data, scripts and styles inline. */
#ifndef NNCL_REPORT_H
#define NNCL_REPORT_H

#include "nncl/status.h"

/* Read run_dir (every file checked) and write the page to out_path atomically. */
nncl_status report_write_html(const char *run_dir, const char *out_path);

#endif
