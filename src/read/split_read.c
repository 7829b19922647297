/*
 * split_read.c: the sample ids of a split stored in the dataset, at
 * metadata/splits/<name> (the train/val/test lists a dataset builder
 * writes, and meshstats generate too).  Read-only.
 */
#include "read/hdf5_file.h"

#include <stdio.h>
#include <string.h>

/* Open metadata/splits/<name> as a one-dimensional integer dataset of at
 * most 2^26 ids: 0 with *dset and *n, or the error. */
static int
open_split(struct ms_file *f, const char *name, hid_t *dset, hssize_t *n,
           struct ms_error *err)
{
    char where[320];
    snprintf(where, sizeof(where), "metadata/splits/%s", name);
    if (strchr(name, '/') != NULL || strlen(name) > 200 ||
        ms__object_type(f->id, where) != H5I_DATASET) {
        return ms__error_set(err, MS_ENOTFOUND,
                             "%s: no split '%s' (expected an integer "
                             "dataset at %s)",
                             f->path, name, where);
    }
    *dset = H5Dopen2(f->id, where, H5P_DEFAULT);
    if (*dset >= 0) {
        ms__filters_expect(*dset);
    }
    hid_t type = *dset >= 0 ? H5Dget_type(*dset) : -1;
    bool integer = type >= 0 && H5Tget_class(type) == H5T_INTEGER;
    if (type >= 0) {
        H5Tclose(type);
    }
    hid_t space = *dset >= 0 ? H5Dget_space(*dset) : -1;
    int rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    *n = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    if (space >= 0) {
        H5Sclose(space);
    }
    if (!integer || rank < 0 || rank > 1 || *n < 0 || *n > (1 << 26)) {
        return ms__error_set(err, MS_ELAYOUT,
                             "%s: %s: expected a one-dimensional array of "
                             "integer sample ids",
                             f->path, where);
    }
    return 0;
}

/* Read the n ids of the open split into ids, each a sample id (>= 0). */
static int
read_ids(struct ms_file *f, const char *name, hid_t dset, hssize_t n,
         int64_t *ids, struct ms_error *err)
{
    if (n > 0 && H5Dread(dset, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL,
                         H5P_DEFAULT, ids) < 0) {
        char msg[256];
        ms__hdf5_last_error(msg, sizeof(msg));
        return ms__error_set(err, MS_EIO,
                             "%s: metadata/splits/%s: cannot read: %s",
                             f->path, name, msg);
    }
    for (hssize_t i = 0; i < n; i++) {
        if (ids[i] < 0) {
            return ms__error_set(err, MS_ELAYOUT,
                                 "%s: metadata/splits/%s: entry %lld is "
                                 "%lld, not a sample id",
                                 f->path, name, (long long)i,
                                 (long long)ids[i]);
        }
    }
    return 0;
}

int
ms__read_split(const char *path, const char *name, int64_t **ids,
               size_t *count, struct ms_error *err)
{
    *ids = NULL;
    *count = 0;
    struct ms_file *f;
    int rc = ms__file_open(path, &f, err);
    if (rc != 0) {
        return rc;
    }
    hid_t dset = -1;
    hssize_t n = 0;
    rc = open_split(f, name, &dset, &n, err);
    if (rc == 0) {
        *ids = ms__calloc(n ? (size_t)n : 1, sizeof(**ids));
        rc = *ids == NULL ? ms__error_set(err, MS_ENOMEM, "out of memory")
                          : read_ids(f, name, dset, n, *ids, err);
    }
    if (rc == 0) {
        *count = (size_t)n;
    } else {
        ms__free(*ids);
        *ids = NULL;
    }
    if (dset >= 0) {
        H5Dclose(dset);
    }
    ms__file_close(f);
    return rc;
}
