/*
 * virtual_check.c: whether a virtual dataset's values all come from
 * source datasets that are there.
 *
 * HDF5 reads a virtual dataset from the datasets its mappings name, and
 * gives the fill value, without an error, for every value whose source
 * file or dataset is missing, smaller than its mapping, or not mapped at
 * all.  Those values would enter the statistics as if a simulation had
 * written them, so the sample is refused instead, naming the source.  A
 * virtual dataset that passes is read through H5Dread (reader.c).
 */
#include "hdf5_file.h"

#include <stdio.h>
#include <string.h>

/* The source dataset of mapping i, opened (close it and *file with
 * H5Dclose and H5Fclose; *file is -1 for "." , this file), or why not into
 * why: -1. */
static hid_t
open_source(struct ms_file *f, hid_t dcpl, size_t i, hid_t *file, char *why,
            size_t size)
{
    char name[256], dset[256], found[512];
    *file = -1;
    if (H5Pget_virtual_filename(dcpl, i, name, sizeof(name)) < 0 ||
        H5Pget_virtual_dsetname(dcpl, i, dset, sizeof(dset)) < 0) {
        snprintf(why, size, "its mapping %zu cannot be read", i);
        return -1;
    }
    if (strchr(name, '%') != NULL || strchr(dset, '%') != NULL) {
        snprintf(why, size,
                 "its mapping %zu names its sources by a pattern (%s:%s), "
                 "which meshstats does not resolve",
                 i, name, dset);
        return -1;
    }
    hid_t in = f->id;
    if (strcmp(name, ".") != 0) {
        if (!ms__find_linked_file(f->path, name, "HDF5_VDS_PREFIX", found,
                                  sizeof(found))) {
            snprintf(why, size,
                     "its source file %s does not exist or is not an HDF5 "
                     "file (looked for beside %s and from the current "
                     "directory)",
                     name, f->path);
            return -1;
        }
        in = *file = H5Fopen(found, H5F_ACC_RDONLY, H5P_DEFAULT);
        if (in < 0) {
            snprintf(why, size, "its source file %s cannot be opened", found);
            return -1;
        }
    }
    hid_t src = ms__object_type(in, dset) == H5I_DATASET
                    ? H5Dopen2(in, dset, H5P_DEFAULT)
                    : -1;
    if (src < 0) {
        snprintf(why, size, "its source %s:%s is not a dataset that opens",
                 strcmp(name, ".") == 0 ? f->path : found, dset);
    }
    return src;
}

/* Whether mapping i's source selection lies inside its source dataset
 * (a selection of all of it, which HDF5 1.10 stores without dims: at
 * least as many values as the mapping's). */
static bool
source_holds(hid_t dcpl, size_t i, hid_t src)
{
    hid_t sel = H5Pget_virtual_srcspace(dcpl, i);
    hid_t vsel = H5Pget_virtual_vspace(dcpl, i);
    hid_t space = H5Dget_space(src);
    hsize_t start[H5S_MAX_RANK], end[H5S_MAX_RANK], dims[H5S_MAX_RANK];
    int rank = space >= 0 ? H5Sget_simple_extent_dims(space, dims, NULL) : -1;
    bool ok = sel >= 0 && vsel >= 0 && rank >= 0;
    if (ok && H5Sget_select_type(sel) == H5S_SEL_ALL) {
        ok = H5Sget_simple_extent_npoints(space) >=
             H5Sget_select_npoints(vsel);
    } else {
        ok = ok && H5Sget_simple_extent_ndims(sel) == rank &&
             H5Sget_select_bounds(sel, start, end) >= 0;
        for (int d = 0; ok && d < rank; d++) {
            ok = end[d] < dims[d];
        }
    }
    hid_t ids[] = {sel, vsel, space};
    for (size_t k = 0; k < 3; k++) {
        if (ids[k] >= 0) {
            H5Sclose(ids[k]);
        }
    }
    return ok;
}

int
ms__virtual_check(struct ms_file *f, const struct ms_sample_name *s,
                  const char *leaf, hid_t dset, hid_t dcpl,
                  struct ms_error *err)
{
    int rc = 0;
    size_t count = 0;
    char why[1024] = "";
    hssize_t mapped = 0;
    if (H5Pget_virtual_count(dcpl, &count) < 0) {
        snprintf(why, sizeof(why), "its mappings cannot be read");
    }
    for (size_t i = 0; why[0] == '\0' && i < count; i++) {
        hid_t file, src = open_source(f, dcpl, i, &file, why, sizeof(why));
        if (src >= 0 && !source_holds(dcpl, i, src)) {
            snprintf(why, sizeof(why),
                     "its mapping %zu reads past the end of its source "
                     "dataset",
                     i);
        }
        hid_t vsel = H5Pget_virtual_vspace(dcpl, i);
        mapped += vsel >= 0 ? H5Sget_select_npoints(vsel) : 0;
        if (vsel >= 0) {
            H5Sclose(vsel);
        }
        if (src >= 0) {
            H5Dclose(src);
        }
        if (file >= 0) {
            H5Fclose(file);
        }
    }
    hid_t space = H5Dget_space(dset);
    hssize_t total = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    if (space >= 0) {
        H5Sclose(space);
    }
    if (why[0] == '\0' && mapped < total) {
        snprintf(why, sizeof(why),
                 "only %lld of its %lld values are mapped to a source",
                 (long long)mapped, (long long)total);
    }
    if (why[0] != '\0') {
        SAMPLE_FAIL(MS_ELAYOUT,
                    "%s%s/%s: is a virtual dataset, and %s: those values "
                    "would read as the fill value",
                    f->prefix, s->name, leaf, why);
    }
done:
    return rc;
}
