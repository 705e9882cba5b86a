/* The .cl sources of cl/, embedded at build time by tools/embed_files.py. */
#ifndef NNCL_KERNELS_EMBEDDED_H
#define NNCL_KERNELS_EMBEDDED_H

#include <stddef.h>

typedef struct nncl_embedded_source {
    const char *name;           /* file name in cl/, e.g. "gemm.cl" */
    const unsigned char *data;  /* its bytes, not NUL-terminated */
    size_t size;
} nncl_embedded_source;

extern const nncl_embedded_source nncl_embedded_sources[];
extern const int nncl_embedded_source_count;

#endif
