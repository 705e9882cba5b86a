/* A struct's int members named by a table, and their text form
 * "NAME=V NAME=V ...": the kernels' parameter sets (gemm_params.c,
 * fused_params.c) are each one such table, so that a new parameter is one
 * line and every set is read, written and compared the same way. */
#ifndef NNCL_INT_FIELDS_H
#define NNCL_INT_FIELDS_H

#include <stdbool.h>
#include <stddef.h>

#include "nncl/status.h"

typedef struct nncl_int_field {
    const char *name;           /* in the text (the kernel's define) */
    size_t offset;              /* of the int member */
    int lo, hi;                 /* the values the text may give */
    int tag;                    /* the table's own: which path reads it, whether a vector width */
} nncl_int_field;

int nncl_int_field_get(const void *obj, const nncl_int_field *f);

/* "NAME=V ..." (each with prefix, e.g. "-D"), in the table's order, only
 * the fields keep accepts (NULL: all), into out (always terminated). */
void nncl_int_fields_format(const nncl_int_field *f, size_t n, const void *obj, const char *prefix,
                            bool (*keep)(const nncl_int_field *f, const void *obj), char *out, size_t len);

/* Reads text into the int members of obj (size bytes, zeroed first; obj is
 * untouched on failure): every name exactly once, each value within [lo, hi] and
 * accepted by ok (NULL: the range alone); an unknown name, a missing one or
 * a bad value fails with NNCL_E_FORMAT, "WHAT parameters: ...", where a
 * refused value's message names it and says what was expected (expect(f),
 * or "from lo to hi"). */
nncl_status nncl_int_fields_parse(const nncl_int_field *f, size_t n, const char *what, const char *text,
                                  bool (*ok)(const nncl_int_field *f, int v),
                                  const char *(*expect)(const nncl_int_field *f), void *obj, size_t size);

/* Whether every field of the table is equal in a and b. */
bool nncl_int_fields_equal(const nncl_int_field *f, size_t n, const void *a, const void *b);

#endif
