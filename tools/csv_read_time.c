/* How long nncl_csv_read takes on a file, and what it yields; run it under
 * `/usr/bin/time -v` for the peak RSS.
 * usage: csv_read_time FILE.csv */
#include <stdio.h>
#include <time.h>

#include "nncl/nncl.h"
#include "nncl/data.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: csv_read_time FILE.csv\n");
        return 2;
    }
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    nncl_dataset ds;
    nncl_csv_options o = {0};
    if (nncl_csv_read(argv[1], &o, &ds) != NNCL_OK) {
        fprintf(stderr, "csv_read_time: %s\n", nncl_last_error());
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double s = (double)(b.tv_sec - a.tv_sec) + 1e-9 * (double)(b.tv_nsec - a.tv_nsec);
    size_t bytes = ds.rows * ds.cols * (ds.x_u8 ? 1 : sizeof(float));
    printf("%s: %zu rows x %zu features (%s, %.1f MB) in %.3f s\n", argv[1], ds.rows, ds.cols,
           ds.x_u8 ? "bytes" : "floats", (double)bytes / 1e6, s);
    nncl_dataset_free(&ds);
    return 0;
}
