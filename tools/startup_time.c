/* How long a device takes to become ready: open, build (or load) the kernel
 * program, and run the first kernel. Run it with an empty XDG_CACHE_HOME for a
 * cold start and again for a warm one; NNCL_NO_CACHE=1 skips nncl's cache.
 * usage: startup_time [DEVICE] */
#include <stdio.h>
#include <time.h>

#include "nncl/nncl.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    double t0 = now();
    nncl_device_list list;
    int idx;
    nncl_device *dev;
    nncl_buffer *buf;
    bool cached = false;
    if (nncl_device_list_get(&list) != NNCL_OK ||
        nncl_device_select(&list, argc > 1 ? argv[1] : NULL, &idx) != NNCL_OK ||
        nncl_device_open(&list.items[idx], &dev) != NNCL_OK) {
        fprintf(stderr, "startup_time: %s\n", nncl_last_error());
        return 1;
    }
    double t1 = now();
    if (nncl_device_prepare(dev, &cached) != NNCL_OK) {
        fprintf(stderr, "startup_time: %s\n", nncl_last_error());
        return 1;
    }
    double t2 = now();
    float x = 0;
    nncl_fill_args a;
    if (nncl_buffer_alloc(dev, 4096, &buf) != NNCL_OK)
        return 1;
    a = (nncl_fill_args){nncl_view_of(buf, 0), 1024, 1.0f};
    if (nncl_fill(dev, &a) != NNCL_OK || nncl_buffer_read(buf, 0, &x, 4) != NNCL_OK || x != 1.0f) {
        fprintf(stderr, "startup_time: %s\n", nncl_last_error());
        return 1;
    }
    double t3 = now();
    printf("%s: list+open %.3f s, program %.3f s (%s), first kernel %.3f s, total %.3f s\n",
           list.items[idx].name, t1 - t0, t2 - t1, cached ? "from cache" : "built", t3 - t2, t3 - t0);
    nncl_buffer_free(buf);
    nncl_device_close(dev);
    nncl_device_list_free(&list);
    return 0;
}
