/* gemm_candidate_check TSM TSN TSK WPTM WPTN LVW PF GVW KU DB [RC [WL]]: one
 * local-memory GEMM set through the tuner's own check (every transpose,
 * edge tiles, aligned inner tiles; nncl_gemm_candidate_check) on the first
 * OpenCL device, as a search would check it. Made to run under Oclgrind's
 * race and bounds checks (NNCL_GEMM_SPLITK=3 checks K cut into slices):
 *   NNCL_TUNE=off oclgrind --data-races build/tools/gemm_candidate_check 64 64 16 4 4 4 1 4 0 1
 * Exit 0 when the set passes, 1 when it does not, 2 on bad usage or no
 * device. */
#include <stdio.h>
#include <stdlib.h>

#include "nncl/device.h"
#include "ops/gemm_impl.h"
#include "ops/gemm_tuner.h"

int main(int argc, char **argv)
{
    if (argc < 11 || argc > 13) {
        fprintf(stderr, "usage: %s TSM TSN TSK WPTM WPTN LVW PF GVW KU DB [RC [WL]]\n", argv[0]);
        return 2;
    }
    int v[12] = {0};
    for (int i = 1; i < argc; i++)
        v[i - 1] = atoi(argv[i]);
    nncl_device_list list;
    nncl_device *dev = NULL;
    if (nncl_device_list_get(&list) != NNCL_OK || list.count < 2 ||
        nncl_device_open(&list.items[0], &dev) != NNCL_OK) {
        fprintf(stderr, "gemm_candidate_check: no OpenCL device: %s\n", nncl_last_error());
        return 2;
    }
    nncl_gemm_candidate c = {.extra = NULL};
    nncl_gemm_params_for(nncl_device_get_info(dev), &c.p);
    c.p.use_local = 1;
    c.p.tsm = v[0], c.p.tsn = v[1], c.p.tsk = v[2], c.p.wptm = v[3], c.p.wptn = v[4], c.p.lvw = v[5];
    c.p.pf = v[6], c.p.gvw = v[7], c.p.ku = v[8], c.p.db = v[9], c.p.rc = v[10], c.p.wl = v[11];
    char d[256], why[512] = "";
    nncl_gemm_params_describe(&c.p, d, sizeof d);
    bool ok = false;
    int rc = 2;
    if (nncl_gemm_params_check(&c.p, nncl_device_get_info(dev)->max_work_group_size,
                               nncl_device_get_info(dev)->local_mem_bytes) != NNCL_OK)
        fprintf(stderr, "%s: not for %s: %s\n", d, nncl_device_get_info(dev)->name, nncl_last_error());
    else if (nncl_gemm_candidate_check(dev, &c, &ok, why, sizeof why) != NNCL_OK)
        fprintf(stderr, "%s: %s\n", d, nncl_last_error());
    else {
        printf("%s on %s: %s%s%s\n", d, nncl_device_get_info(dev)->name, ok ? "passes" : "FAILS", ok ? "" : ": ",
               why);
        rc = ok ? 0 : 1;
    }
    nncl_device_close(dev);
    nncl_device_list_free(&list);
    return rc;
}
