/* Helpers shared by the files of src/data (not public). */
#ifndef NNCL_DATA_INTERNAL_H
#define NNCL_DATA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "nncl/status.h"

/* a * b, or SIZE_MAX when it would overflow. */
static inline size_t nncl_mul_size(size_t a, size_t b)
{
    if (a != 0 && b > SIZE_MAX / a) return SIZE_MAX;
    return a * b;
}

/* Copies of NULL-safe strings and string arrays; NULL on allocation failure
 * (or when the input is NULL). */
char *nncl_strdup(const char *s);
char **nncl_strv_dup(const char *const *v, size_t n);
void nncl_strv_free(char **v, size_t n);
/* "0", "1", ... "n-1". */
char **nncl_strv_numbers(size_t n);

/* A byte count for messages: "512 bytes", "1.50 GiB". */
void nncl_format_bytes(double bytes, char *out, size_t cap);
/* NNCL_E_FORMAT (the input is refused) naming path, what and the budget
 * when bytes exceed the data memory budget (nncl_data_memory_budget); call
 * it before allocating. */
nncl_status nncl_check_budget(const char *path, const char *what, double bytes);

#endif
