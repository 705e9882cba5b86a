/* IDX files (LeCun's MNIST format), raw or gzipped.
 *
 * Layout: a 4-byte big-endian magic 0x0000TTDD (TT = element type, 0x08 for
 * unsigned bytes; DD = number of dimensions), then DD big-endian uint32
 * sizes, then the elements. Images are 0x00000803 (count, rows, cols),
 * labels 0x00000801 (count). Everything the header claims is checked against
 * the bytes actually there, and against the memory budget, before it is used. */
#include "nncl/data.h"
#include "data/data_internal.h"
#include "data/fileio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IDX_MAX_SIDE 65535u
/* deflate cannot compress better than about 1032:1. */
#define GZ_MAX_RATIO 1100u

typedef struct idx_header {
    size_t header_len;   /* 4 + 4 * dims */
    size_t count, h, w;  /* h = w = 1 for labels */
    size_t payload;      /* count * h * w bytes */
} idx_header;

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static const char *kind_name(int dims) { return dims == 3 ? "image" : "label"; }

/* Validates the header in hdr[0..len) (len may be short); on success fills h. */
static nncl_status parse_header(const char *name, const uint8_t *hdr, size_t len, int dims,
                                idx_header *h)
{
    uint32_t want = 0x00000800u | (uint32_t)dims;
    if (len < 4)
        return nncl_fail(NNCL_E_FORMAT, "%s: file is %zu bytes, too short for an IDX %s file "
                         "(expected the magic number 0x%08x)", name, len, kind_name(dims), want);
    uint32_t magic = be32(hdr);
    if (magic != want) {
        const char *hint = "";
        if (magic == 0x00000801u) hint = "; this looks like an IDX label file";
        else if (magic == 0x00000803u) hint = "; this looks like an IDX image file";
        else if (hdr[0] == 0x1f && hdr[1] == 0x8b) hint = "; this is gzip data inside gzip data";
        else if ((magic >> 16) == 0 && (magic & 0xff00u) != 0x0800u)
            hint = "; elements are not unsigned bytes (type 0x08), which is all nncl reads";
        return nncl_fail(NNCL_E_FORMAT, "%s: bad magic number 0x%08x, expected 0x%08x "
                         "(an IDX %s file)%s", name, magic, want, kind_name(dims), hint);
    }
    h->header_len = 4 + 4 * (size_t)dims;
    if (len < h->header_len)
        return nncl_fail(NNCL_E_FORMAT, "%s: truncated header: %zu bytes, an IDX %s header "
                         "is %zu bytes", name, len, kind_name(dims), h->header_len);
    h->count = be32(hdr + 4);
    h->h = dims == 3 ? be32(hdr + 8) : 1;
    h->w = dims == 3 ? be32(hdr + 12) : 1;
    if (h->count == 0)
        return nncl_fail(NNCL_E_FORMAT, "%s: the header declares 0 %ss, expected at least one",
                         name, kind_name(dims));
    if (dims == 3 && (h->h == 0 || h->w == 0 || h->h > IDX_MAX_SIDE || h->w > IDX_MAX_SIDE))
        return nncl_fail(NNCL_E_FORMAT, "%s: the header declares %zux%zu images, expected sides "
                         "of 1..%u pixels", name, h->h, h->w, IDX_MAX_SIDE);
    h->payload = nncl_mul_size(nncl_mul_size(h->count, h->h), h->w);
    if (h->payload == SIZE_MAX || h->payload > SIZE_MAX - h->header_len)
        return nncl_fail(NNCL_E_FORMAT, "%s: the header declares %zu images of %zux%zu, "
                         "more bytes than memory can address", name, h->count, h->h, h->w);
    return NNCL_OK;
}

static nncl_status size_mismatch(const char *name, const idx_header *h, int dims,
                                 unsigned long long have, bool gz)
{
    unsigned long long want = (unsigned long long)(h->header_len + h->payload);
    char what[128];
    if (dims == 3)
        snprintf(what, sizeof what, "%zu images of %zux%zu", h->count, h->h, h->w);
    else
        snprintf(what, sizeof what, "%zu labels", h->count);
    if (have < want)
        return nncl_fail(NNCL_E_FORMAT, "%s: truncated: %s%llu bytes, but the header declares %s, "
                         "which needs %llu", name, gz ? "decompressed data is " : "file is ",
                         have, what, want);
    return nncl_fail(NNCL_E_FORMAT, "%s: %llu unexpected bytes after the data: the header "
                     "declares %s (%llu bytes)%s", name, have - want, what, want,
                     gz ? "" : ", the file has more");
}

nncl_status nncl_idx_parse_mem(const char *name, const uint8_t *buf, size_t len, int want_dims,
                               uint8_t **data, size_t *count, int *h, int *w)
{
    *data = NULL;
    *count = 0;
    if (h) *h = 0;
    if (w) *w = 0;
    if (want_dims != 1 && want_dims != 3)
        return nncl_fail(NNCL_E_INVALID, "nncl_idx_parse_mem: want_dims must be 1 or 3");
    idx_header hd = {0};
    nncl_status st = parse_header(name, buf, len, want_dims, &hd);
    if (st) return st;
    if (len != hd.header_len + hd.payload)
        return size_mismatch(name, &hd, want_dims, len, false);
    uint8_t *d = malloc(hd.payload);
    if (!d) return nncl_fail(NNCL_E_NOMEM, "%s: out of memory for %zu bytes", name, hd.payload);
    memcpy(d, buf + hd.header_len, hd.payload);
    *data = d;
    *count = hd.count;
    if (h) *h = (int)hd.h;
    if (w) *w = (int)hd.w;
    return NNCL_OK;
}

/* The common case the fast way: a gzip file inflated whole by libdeflate,
 * whose header is right and whose data is exactly what the header declares
 * and the memory budget allows; the data then moves to the front of that
 * buffer (no second copy). Anything else returns false with no error, and
 * load() streams the file through zlib, whose checks say what is wrong. */
static bool load_inflated_whole(const char *path, const nncl_data_file *f, int dims, uint8_t **data,
                                size_t *count, int *ih, int *iw)
{
    size_t budget;
    if (nncl_data_memory_budget(&budget, NULL, 0) != NNCL_OK) {
        nncl_clear_error();
        return false;
    }
    uint8_t *buf;
    size_t len;
    if (!nncl_gz_inflate_whole(f, budget, &buf, &len)) return false;
    idx_header hd = {0};
    if (parse_header(path, buf, len, dims, &hd) != NNCL_OK || len != hd.header_len + hd.payload) {
        nncl_clear_error();
        free(buf);
        return false;
    }
    memmove(buf, buf + hd.header_len, hd.payload);
    uint8_t *d = realloc(buf, hd.payload); /* shrinks by the header; keep buf if it cannot */
    *data = d ? d : buf;
    *count = hd.count;
    if (ih) *ih = (int)hd.h;
    if (iw) *iw = (int)hd.w;
    return true;
}

static nncl_status load(const char *path, int dims, uint8_t **data, size_t *count, int *ih, int *iw)
{
    *data = NULL;
    *count = 0;
    nncl_data_file f;
    nncl_status st = nncl_data_open(path, &f);
    if (st) return st;
    if (load_inflated_whole(path, &f, dims, data, count, ih, iw)) {
        nncl_data_close(&f);
        return NNCL_OK;
    }

    gzFile gz = NULL;
    uint8_t hdr[16];
    size_t got = 0, want_hdr = 4 + 4 * (size_t)dims;
    idx_header hd = {0};
    uint8_t *d = NULL;

    if (f.gzip && (st = nncl_gz_open(path, &f, &gz))) goto out;
    st = gz ? nncl_gz_read(path, gz, hdr, want_hdr, &got)
            : nncl_data_read_full(path, f.fd, hdr, want_hdr, &got);
    if (st) goto out;
    if ((st = parse_header(path, hdr, got, dims, &hd))) goto out;

    if (!gz && f.regular && f.size != hd.header_len + hd.payload) {
        st = size_mismatch(path, &hd, dims, f.size, false);
        goto out;
    }
    /* Before any allocation: what the header claims must fit the memory
     * budget (a pipe or a gzip stream cannot be measured beforehand). */
    char what[128];
    if (dims == 3)
        snprintf(what, sizeof what, "the header's %zu images of %zux%zu", hd.count, hd.h, hd.w);
    else
        snprintf(what, sizeof what, "the header's %zu labels", hd.count);
    if ((st = nncl_check_budget(path, what, (double)hd.payload))) goto out;
    if (gz && f.regular && f.size < SIZE_MAX / GZ_MAX_RATIO &&
        hd.payload > f.size * GZ_MAX_RATIO) {
        st = nncl_fail(NNCL_E_FORMAT, "%s: truncated: the header declares %zu bytes of data, "
                       "more than a %llu-byte gzip file can hold", path, hd.payload,
                       (unsigned long long)f.size);
        goto out;
    }
    d = malloc(hd.payload);
    if (!d) {
        st = nncl_fail(NNCL_E_NOMEM, "%s: out of memory for %zu bytes", path, hd.payload);
        goto out;
    }
    st = gz ? nncl_gz_read(path, gz, d, hd.payload, &got)
            : nncl_data_read_full(path, f.fd, d, hd.payload, &got);
    if (st) goto out;
    if (got < hd.payload) {
        st = size_mismatch(path, &hd, dims, hd.header_len + got, gz != NULL);
        goto out;
    }
    /* Anything after the data (and, for gzip, the stream's CRC check). */
    uint8_t extra[4096];
    unsigned long long more = 0;
    for (;;) {
        st = gz ? nncl_gz_read(path, gz, extra, sizeof extra, &got)
                : nncl_data_read_full(path, f.fd, extra, sizeof extra, &got);
        if (st) goto out;
        if (got == 0) break;
        more += got;
        if (more > (1u << 20)) break;
    }
    if (more) {
        st = size_mismatch(path, &hd, dims, hd.header_len + hd.payload + more, gz != NULL);
        goto out;
    }
    if (gz) {
        int rc = gzclose(gz);
        gz = NULL;
        if (rc != Z_OK) {
            st = nncl_fail(NNCL_E_FORMAT, "%s: corrupt gzip data: %s", path,
                           rc == Z_BUF_ERROR ? "unexpected end of file" : zError(rc));
            goto out;
        }
    }
    *data = d;
    d = NULL;
    *count = hd.count;
    if (ih) *ih = (int)hd.h;
    if (iw) *iw = (int)hd.w;
out:
    free(d);
    if (gz) gzclose(gz);
    nncl_data_close(&f);
    return st;
}

nncl_status nncl_idx_load_images(const char *path, uint8_t **data, size_t *count, int *h, int *w)
{
    if (!data || !count) return nncl_fail(NNCL_E_INVALID, "nncl_idx_load_images: NULL argument");
    return load(path, 3, data, count, h, w);
}

nncl_status nncl_idx_load_labels(const char *path, uint8_t **data, size_t *count)
{
    if (!data || !count) return nncl_fail(NNCL_E_INVALID, "nncl_idx_load_labels: NULL argument");
    return load(path, 1, data, count, NULL, NULL);
}

nncl_status nncl_idx_load_pair(const char *images_path, const char *labels_path,
                               int num_classes, const char *const *class_names,
                               nncl_dataset *out)
{
    if (!out) return nncl_fail(NNCL_E_INVALID, "nncl_idx_load_pair: NULL output");
    memset(out, 0, sizeof *out);
    if (num_classes < 0 || num_classes > 256)
        return nncl_fail(NNCL_E_INVALID, "nncl_idx_load_pair: num_classes %d not in 0..256",
                         num_classes);
    uint8_t *img = NULL, *lab = NULL;
    size_t n_img = 0, n_lab = 0;
    int h = 0, w = 0;
    nncl_status st = nncl_idx_load_images(images_path, &img, &n_img, &h, &w);
    if (st) return st;
    st = nncl_idx_load_labels(labels_path, &lab, &n_lab);
    if (st) { free(img); return st; }
    if (n_img != n_lab) {
        free(img); free(lab);
        return nncl_fail(NNCL_E_FORMAT, "%s: %zu labels, but %s has %zu images; expected the "
                         "same count", labels_path, n_lab, images_path, n_img);
    }
    int max_label = 0;
    for (size_t i = 0; i < n_lab; i++) {
        if (num_classes > 0 && lab[i] >= num_classes) {
            st = nncl_fail(NNCL_E_FORMAT, "%s: label %u at item %zu (0-based), expected a class "
                           "in 0..%d", labels_path, lab[i], i, num_classes - 1);
            free(img); free(lab);
            return st;
        }
        if (lab[i] > max_label) max_label = lab[i];
    }
    if (num_classes == 0) num_classes = max_label + 1;

    out->rows = n_img;
    out->cols = (size_t)h * (size_t)w;
    out->x_u8 = img;
    out->image_h = h;
    out->image_w = w;
    out->task = NNCL_TASK_CLASSIFY;
    out->num_classes = num_classes;
    out->labels = malloc(n_lab * sizeof *out->labels);
    out->class_names = class_names ? nncl_strv_dup(class_names, (size_t)num_classes)
                                   : nncl_strv_numbers((size_t)num_classes);
    out->source = nncl_strdup(images_path);
    if (!out->labels || !out->class_names || !out->source) {
        free(lab);
        nncl_dataset_free(out);
        return nncl_fail(NNCL_E_NOMEM, "%s: out of memory", images_path);
    }
    for (size_t i = 0; i < n_lab; i++) out->labels[i] = lab[i];
    free(lab);
    return NNCL_OK;
}
