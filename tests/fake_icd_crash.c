/* An OpenCL driver that crashes as it starts: the ICD loader (ocl-icd)
 * asks a driver library for clIcdGetPlatformIDsKHR through this function
 * when a program first lists the platforms, and here that aborts. Named in
 * an ICD file (OCL_ICD_VENDORS), it shows which commands ask OpenCL at all:
 * e2e_devices.sh checks that a choice of "host" never does. */
#include <stdio.h>
#include <stdlib.h>

void *clGetExtensionFunctionAddress(const char *name);

void *clGetExtensionFunctionAddress(const char *name)
{
    fprintf(stderr, "fake OpenCL driver: asked for %s, crashing as a broken driver would\n", name);
    abort();
}
