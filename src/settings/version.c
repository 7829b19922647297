/*
 * version.c: the versions of the library and of what it runs with.
 */
#include "settings/settings.h"

#include <uv.h>

#include <stdio.h>

const char *
ms_version(void)
{
    return MS_VERSION_STRING;
}

void
ms_version_dependencies(char *buf, size_t size)
{
    char hdf5[32];
    ms__hdf5_version(hdf5, sizeof(hdf5));
    snprintf(buf, size, "HDF5 %s, libuv %s", hdf5, uv_version_string());
}
