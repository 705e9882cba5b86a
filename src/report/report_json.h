/* The report page's data, built from a run read back (see report_json.c for
 * the weights' encoding and src/report/assets/report.js for its reader). */
#ifndef NNCL_REPORT_JSON_H
#define NNCL_REPORT_JSON_H

#include "report/run_record.h"

/* data: the JSON object the page reads; codes: frames x n_params base64
 * digits, NUL-terminated (codes_len of them). */
nncl_status report_data(const run_record *r, json_t **data, char **codes, size_t *codes_len);

#endif
