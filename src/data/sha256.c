/* SHA-256 of files (OpenSSL libcrypto EVP), for recording what a model was trained on. */
#include "nncl/data.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void to_hex(EVP_MD_CTX *ctx, char hex[65], nncl_status *st)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx, md, &len) != 1 || len != 32) {
        *st = nncl_fail(NNCL_E_INVALID, "SHA-256 digest failed");
        return;
    }
    for (unsigned i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

nncl_status nncl_sha256_files(const char *const *paths, int n, char hex[65])
{
    return nncl_sha256_files_each(paths, n, hex, NULL);
}

nncl_status nncl_sha256_files_each(const char *const *paths, int n, char hex[65], char (*each)[65])
{
    if (!hex || (n > 0 && !paths)) return nncl_fail(NNCL_E_INVALID, "nncl_sha256_files: NULL argument");
    hex[0] = '\0';
    for (int i = 0; each && i < n; i++) each[i][0] = '\0';
    EVP_MD_CTX *ctx = EVP_MD_CTX_new(), *one = each ? EVP_MD_CTX_new() : NULL;
    unsigned char *buf = malloc(1 << 20);
    nncl_status st = NNCL_OK;
    if (!ctx || !buf || (each && !one) || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        st = nncl_fail(NNCL_E_NOMEM, "cannot start a SHA-256 digest");
        goto out;
    }
    for (int i = 0; i < n && st == NNCL_OK; i++) {
        if (one && EVP_DigestInit_ex(one, EVP_sha256(), NULL) != 1) {
            st = nncl_fail(NNCL_E_NOMEM, "cannot start a SHA-256 digest");
            break;
        }
        int fd = open(paths[i], O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            st = nncl_fail(NNCL_E_IO, "%s: cannot open: %s", paths[i], strerror(errno));
            break;
        }
        for (;;) {
            ssize_t r = read(fd, buf, 1 << 20);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) {
                st = nncl_fail(NNCL_E_IO, "%s: read error: %s", paths[i], strerror(errno));
                break;
            }
            if (r == 0) break;
            EVP_DigestUpdate(ctx, buf, (size_t)r);
            if (one) EVP_DigestUpdate(one, buf, (size_t)r);
        }
        close(fd);
        if (one && st == NNCL_OK) to_hex(one, each[i], &st);
    }
    if (st == NNCL_OK) to_hex(ctx, hex, &st);
out:
    EVP_MD_CTX_free(ctx);
    EVP_MD_CTX_free(one);
    free(buf);
    return st;
}
