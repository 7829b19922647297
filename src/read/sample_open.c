/*
 * sample_open.c: a sample's objects opened by path, or why not: its group
 * or dataset looked up (a link that leads nowhere explained by
 * linked_files.c), opened, and frames of it read through H5Dread.  Every
 * failure is the sample's, naming the file, the sample and the path.
 */
#include "read/hdf5_file.h"

#include <stdio.h>
#include <string.h>

/* A lookup that failed (type H5I_UNINIT), as the sample's failure. */
static int
lookup_failed(struct ms_file *f, const struct ms_sample_name *s,
              const char *path, struct ms_error *err)
{
    int rc = 0;
    char msg[256], why[512];
    ms__hdf5_last_error(msg, sizeof(msg));
    if (ms__explain_links(f->id, f->path, path, why, sizeof(why))) {
        SAMPLE_FAIL(MS_EIO, "%s: cannot be looked up: %s", path, why);
    }
    SAMPLE_FAIL(MS_EIO, "%s: cannot be looked up: %s", path, msg);
done:
    return rc;
}

int
ms__sample_object_type(struct ms_file *f, const struct ms_sample_name *s,
                       const char *path, H5I_type_t *type,
                       struct ms_error *err)
{
    *type = ms__object_type(f->id, path);
    return *type == H5I_UNINIT ? lookup_failed(f, s, path, err) : 0;
}

int
ms__sample_dataset_open(struct ms_file *f, const struct ms_sample_name *s,
             const char *leaf, hid_t *out, struct ms_error *err)
{
    int rc = 0;
    char path[128];
    snprintf(path, sizeof(path), "%s%s/%s", f->prefix, s->name, leaf);
    /* One lookup, from the samples' group once listed: the object opened
     * is the dataset. */
    *out = f->samples >= 0
               ? ms__object_open(f->samples, path + strlen(f->prefix))
               : ms__object_open(f->id, path);
    if (*out == (hid_t)H5I_UNINIT) {
        *out = -1;
        return lookup_failed(f, s, path, err);
    }
    if (*out == (hid_t)H5I_BADID) {
        *out = -1;
        SAMPLE_FAIL(MS_ELAYOUT, "%s: missing", path);
    }
    if (H5Iget_type(*out) != H5I_DATASET) {
        H5Oclose(*out);
        *out = -1;
        SAMPLE_FAIL(MS_ELAYOUT, "%s: is not a dataset", path);
    }
done:
    return rc;
}

int
ms__sample_dataset_read_open(struct ms_file *f,
                             const struct ms_sample_name *s, const char *leaf,
                             hid_t *out, struct ms_error *err)
{
    int rc = ms__sample_dataset_open(f, s, leaf, out, err);
    if (rc == 0) {
        ms__filters_expect(*out);
    }
    return rc;
}

int
ms__sample_read_frames(struct ms_file *f, const struct ms_sample_name *s,
                       const char *leaf, const hsize_t start[3],
                       const hsize_t count[3], hid_t mem_type, void *buf,
                       struct ms_error *err)
{
    hid_t dset, fspace = -1, mspace = -1;
    int rc = ms__sample_dataset_read_open(f, s, leaf, &dset, err);
    if (rc != 0) {
        return rc;
    }
    fspace = H5Dget_space(dset);
    mspace = H5Screate_simple(3, count, NULL);
    if (fspace < 0 || mspace < 0 ||
        H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count,
                            NULL) < 0 ||
        H5Dread(dset, mem_type, mspace, fspace, H5P_DEFAULT, buf) < 0) {
        char msg[256];
        ms__hdf5_last_error(msg, sizeof(msg));
        SAMPLE_FAIL(MS_EIO, "%s%s/%s: read of frames %llu..%llu failed: %s",
                    f->prefix, s->name, leaf, (unsigned long long)start[0],
                    (unsigned long long)(start[0] + count[0] - 1), msg);
    }
done:
    if (mspace >= 0) {
        H5Sclose(mspace);
    }
    if (fspace >= 0) {
        H5Sclose(fspace);
    }
    H5Dclose(dset);
    return rc;
}
