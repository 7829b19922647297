/*
 * hdf5_util.c: HDF5's errors and lookups, for every file that makes HDF5
 * calls while reading: its automatic error printing turned off, its
 * innermost message quoted, objects looked up by path without HDF5
 * printing or failing on a missing link, and a sample's dataset opened
 * or explained.  Calls nothing of meshstats' but error.c.
 */
#include "hdf5_file.h"

#include <stdio.h>
#include <string.h>

void
ms__hdf5_quiet(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

struct deepest {
    char *buf;
    size_t size;
};

static herr_t
keep_deepest(unsigned n, const H5E_error2_t *e, void *data)
{
    (void)n;
    struct deepest *d = data;
    if (e->desc != NULL && e->desc[0] != '\0') {
        snprintf(d->buf, d->size, "%s", e->desc);
    }
    return 0;
}

void
ms__hdf5_last_error(char *buf, size_t size)
{
    struct deepest d = {buf, size};
    buf[0] = '\0';
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, keep_deepest, &d);
    if (buf[0] == '\0') {
        snprintf(buf, size, "no detail from HDF5");
    }
}

const char *
ms__file_path(const struct ms_file *f)
{
    return f->path;
}

H5I_type_t
ms__object_type(hid_t loc, const char *path)
{
    htri_t exists = H5Lexists(loc, path, H5P_DEFAULT);
    if (exists == 0) {
        return H5I_BADID;
    }
    hid_t obj = exists > 0 ? H5Oopen(loc, path, H5P_DEFAULT) : -1;
    if (obj < 0) {
        return H5I_UNINIT;
    }
    H5I_type_t type = H5Iget_type(obj);
    H5Oclose(obj);
    return type;
}

int
ms__sample_object_type(struct ms_file *f, const struct ms_sample_name *s,
                       const char *path, H5I_type_t *type,
                       struct ms_error *err)
{
    int rc = 0;
    *type = ms__object_type(f->id, path);
    if (*type == H5I_UNINIT) {
        char msg[256];
        ms__hdf5_last_error(msg, sizeof(msg));
        SAMPLE_FAIL(MS_EIO, "%s: cannot be looked up: %s", path, msg);
    }
done:
    return rc;
}

int
ms__sample_dataset_open(struct ms_file *f, const struct ms_sample_name *s,
             const char *leaf, hid_t *out, struct ms_error *err)
{
    int rc = 0;
    char path[128];
    snprintf(path, sizeof(path), "%s%s/%s", f->prefix, s->name, leaf);
    *out = -1;
    H5I_type_t type;
    rc = ms__sample_object_type(f, s, path, &type, err);
    if (rc != 0) {
        goto done;
    }
    if (type == H5I_BADID) {
        SAMPLE_FAIL(MS_ELAYOUT, "%s: missing", path);
    }
    if (type != H5I_DATASET) {
        SAMPLE_FAIL(MS_ELAYOUT, "%s: is not a dataset", path);
    }
    *out = H5Dopen2(f->id, path, H5P_DEFAULT);
    if (*out < 0) {
        char msg[256];
        ms__hdf5_last_error(msg, sizeof(msg));
        SAMPLE_FAIL(MS_EIO, "%s: cannot open: %s", path, msg);
    }
done:
    return rc;
}

int
ms__sample_read_frames(struct ms_file *f, const struct ms_sample_name *s,
                       const char *leaf, const hsize_t start[3],
                       const hsize_t count[3], hid_t mem_type, void *buf,
                       struct ms_error *err)
{
    hid_t dset, fspace = -1, mspace = -1;
    int rc = ms__sample_dataset_open(f, s, leaf, &dset, err);
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

void
ms__hdf5_version(char *buf, size_t size)
{
    unsigned major = 0, minor = 0, release = 0;
    H5get_libversion(&major, &minor, &release);
    snprintf(buf, size, "%u.%u.%u", major, minor, release);
}
