/* What one call of the host's two-core split costs (src/ops/host_split.c):
 * 5,000 calls of nncl_host_split2 whose halves each add up N numbers, for
 * N = 0, 2,000 and 20,000, in microseconds a call. With N = 0 the figure is
 * the split's own cost (handing part 1 to the helper and waiting for it);
 * with work, how much of two cores the split gets. Run it beside another
 * build's (LD_LIBRARY_PATH) for an A/B; a benchmark, not a test.
 * usage: bench_split [CALLS] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ops/host_split.h"

static volatile double sink;

static void add_up(void *arg, int part)
{
    double s = 0;
    for (int i = 0; i < *(const int *)arg; i++)
        s += i * 0.5;
    sink = s + part;
}

int main(int argc, char **argv)
{
    int calls = argc > 1 ? atoi(argv[1]) : 5000;
    if (calls < 1)
        calls = 5000;
    int sizes[] = {0, 2000, 20000};
    for (int k = 0; k < 3; k++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int i = 0; i < calls; i++)
            nncl_host_split2(add_up, &sizes[k]);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double us = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / calls / 1e3;
        printf("halves of %5d additions: %8.2f us a split\n", sizes[k], us);
    }
    return 0;
}
