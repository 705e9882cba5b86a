/* SHA-256 of files (OpenSSL libcrypto EVP), for recording what a model was trained on. */
#include "nncl/data.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

nncl_status nncl_sha256_files(const char *const *paths, int n, char hex[65])
{
    if (!hex || (n > 0 && !paths)) return nncl_fail(NNCL_E_INVALID, "nncl_sha256_files: NULL argument");
    hex[0] = '\0';
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char *buf = malloc(1 << 20);
    nncl_status st = NNCL_OK;
    if (!ctx || !buf || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        st = nncl_fail(NNCL_E_NOMEM, "cannot start a SHA-256 digest");
        goto out;
    }
    for (int i = 0; i < n && st == NNCL_OK; i++) {
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
        }
        close(fd);
    }
    if (st == NNCL_OK) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        if (EVP_DigestFinal_ex(ctx, md, &len) != 1 || len != 32) {
            st = nncl_fail(NNCL_E_INVALID, "SHA-256 digest failed");
        } else {
            for (unsigned i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
        }
    }
out:
    EVP_MD_CTX_free(ctx);
    free(buf);
    return st;
}
