/* The training speed measured on each device (nncl bench), kept in the
 * cache folder so that the default device can be the fastest one: one small
 * text file per device, speed-<hash of its name, vendor and platform>.txt,
 * repeating its key (device, platform, driver) and ending with a CRC-32 of
 * everything before it. An entry for another driver, or one that does not
 * parse or add up, is ignored: a guess from a stale measurement would
 * silently pick a slower device. Written atomically (util/atomic_file.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nncl/device.h"
#include "util/atomic_file.h"
#include "util/cache_dir.h"
#include "util/crc32_buf.h"
#include "util/fnv1a.h"
#include "util/mkdir_p.h"

#define MAX_ENTRY 4096

static bool speed_path(const nncl_device_info *info, char *out, size_t len)
{
    char dir[4000];
    if (!nncl_cache_folder(dir, sizeof dir))
        return false;
    uint64_t h = nncl_fnv1a(NNCL_FNV_SEED, info->name, strlen(info->name));
    h = nncl_fnv1a(h, info->vendor, strlen(info->vendor));
    h = nncl_fnv1a(h, info->platform, strlen(info->platform));
    return snprintf(out, len, "%s/speed-%016llx.txt", dir, (unsigned long long)h) < (int)len;
}

/* What the entry must repeat to be this device's. */
static void key_text(const nncl_device_info *info, char *out, size_t len)
{
    snprintf(out, len, "device=%s\nplatform=%s %s\ndriver=%s\n", info->name, info->platform,
             info->platform_version, info->driver_version);
    for (char *p = out; *p; p++)
        if (*p == '\r')
            *p = ' ';
}

nncl_status nncl_device_speed_store(const nncl_device_info *info, double samples_per_second)
{
    char path[4200], key[1200], text[1600];
    if (!(samples_per_second > 0) || !speed_path(info, path, sizeof path))
        return NNCL_OK;     /* nothing worth keeping, or nowhere to keep it */
    char dir[4000];
    if (nncl_cache_folder(dir, sizeof dir) && nncl_mkdir_p(dir) != NNCL_OK)
        return nncl_fail_context(NNCL_E_IO, "the cache folder %s", dir);
    key_text(info, key, sizeof key);
    int n = snprintf(text, sizeof text, "%strain_samples_per_second=%.1f\n", key, samples_per_second);
    if (n < 0 || (size_t)n + 32 >= sizeof text)
        return nncl_fail(NNCL_E_INVALID, "the speed entry for %s is too long", info->name);
    n += snprintf(text + n, sizeof text - (size_t)n, "crc=%08x\n",
                  (unsigned)nncl_crc32((const unsigned char *)text, (size_t)n));
    return nncl_write_file_atomic(path, text, (size_t)n);
}

double nncl_device_speed_known(const nncl_device_info *info)
{
    char path[4200], key[1200];
    if (!speed_path(info, path, sizeof path) || access(path, F_OK) != 0)
        return 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    char text[MAX_ENTRY + 1];
    size_t len = fread(text, 1, MAX_ENTRY, f);
    fclose(f);
    text[len] = '\0';
    key_text(info, key, sizeof key);
    size_t klen = strlen(key);
    const char *value = "train_samples_per_second=", *crc = strstr(text, "crc=");
    if (len < klen || memcmp(text, key, klen) != 0 || strncmp(text + klen, value, strlen(value)) != 0 || !crc)
        return 0;
    unsigned want = 0;
    if (sscanf(crc, "crc=%8x", &want) != 1 || want != nncl_crc32((const unsigned char *)text, (size_t)(crc - text)))
        return 0;
    char *end;
    double sps = strtod(text + klen + strlen(value), &end);
    return *end == '\n' && sps > 0 && sps < 1e12 ? sps : 0;
}
