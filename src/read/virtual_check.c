/*
 * virtual_check.c: whether a virtual dataset's values all come from
 * source datasets that are there.
 *
 * HDF5 reads a virtual dataset from the datasets its mappings name, and
 * gives the fill value, without an error, for every value whose source
 * file or dataset is missing, smaller than its mapping, never written, or
 * not mapped at all.  Those values would enter the statistics as if a
 * simulation had written them, so the sample is refused instead, naming
 * the source.  Names are resolved from the file that holds the virtual
 * dataset (which may itself be reached through an external link), as
 * HDF5 resolves them; each source is checked as any dataset is (the
 * caller's check: stored whole, its filters loadable, and, if virtual in
 * turn, this check again, at most MAX_DEPTH deep).  A virtual dataset
 * that passes is read through H5Dread (reader.c).
 */
#include "read/hdf5_file.h"

#include <stdio.h>
#include <string.h>

#define MAX_DEPTH 4

/* A mapping's names, where they lead, and what went wrong. */
struct mapping {
    char file[1024], dset[1024], found[4096];
    char *why;
    size_t why_size;
};

/* The file that holds obj, by the name HDF5 opened it with, into out. */
static void
holder_name(hid_t obj, char *out, size_t size)
{
    if (H5Fget_name(obj, out, size) < 0) {
        snprintf(out, size, ".");
    }
}

/* The source dataset of mapping i of the virtual dataset in file holder
 * (holder_path its name), opened (close it and *file with H5Dclose and
 * H5Fclose; *file is -1 for ".", holder itself), or -1 with m->why. */
static hid_t
open_source(hid_t holder, const char *holder_path, hid_t dcpl, size_t i,
            hid_t *file, struct mapping *m)
{
    *file = -1;
    if (H5Pget_virtual_filename(dcpl, i, m->file, sizeof(m->file)) < 0 ||
        H5Pget_virtual_dsetname(dcpl, i, m->dset, sizeof(m->dset)) < 0) {
        snprintf(m->why, m->why_size, "its mapping %zu cannot be read", i);
        return -1;
    }
    if (strchr(m->file, '%') != NULL || strchr(m->dset, '%') != NULL) {
        snprintf(m->why, m->why_size,
                 "its mapping %zu names its sources by a pattern (%s:%s), "
                 "which meshstats does not resolve",
                 i, m->file, m->dset);
        return -1;
    }
    hid_t in = holder;
    snprintf(m->found, sizeof(m->found), "%s", holder_path);
    if (strcmp(m->file, ".") != 0) {
        int found = ms__find_linked_file(holder_path, m->file,
                                         "HDF5_VDS_PREFIX", m->found,
                                         sizeof(m->found));
        if (found != 0) {
            snprintf(m->why, m->why_size, "its source file %s %s", m->file,
                     ms__linked_file_problem(found, holder_path));
            return -1;
        }
        in = *file = H5Fopen(m->found, H5F_ACC_RDONLY, H5P_DEFAULT);
        if (in < 0) {
            snprintf(m->why, m->why_size,
                     "its source file %s cannot be opened", m->found);
            return -1;
        }
    }
    hid_t src = ms__object_type(in, m->dset) == H5I_DATASET
                    ? H5Dopen2(in, m->dset, H5P_DEFAULT)
                    : -1;
    if (src < 0) {
        snprintf(m->why, m->why_size,
                 "its source %s:%s is not a dataset that opens", m->found,
                 m->dset);
    }
    return src;
}

/* Whether mapping i's source selection lies inside its source dataset,
 * and a selection of all of it (which HDF5 1.10 stores without dims) has
 * the source's very shape. */
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
        /* The mapped region of the virtual dataset is the source's box. */
        ok = H5Sget_simple_extent_ndims(vsel) == rank &&
             H5Sget_select_bounds(vsel, start, end) >= 0 &&
             H5Sget_select_npoints(vsel) ==
                 H5Sget_simple_extent_npoints(space);
        for (int d = 0; ok && d < rank; d++) {
            ok = end[d] - start[d] + 1 == dims[d];
        }
    } else if (ok) {
        ok = H5Sget_simple_extent_ndims(sel) == rank &&
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

/* Add mapping i's region to *cover (a copy of the first region, grown by
 * OR; H5S_ALL once a region is the whole dataset): false if the regions
 * cannot be combined. */
static bool
add_region(hid_t dcpl, size_t i, hid_t *cover)
{
    hid_t vsel = H5Pget_virtual_vspace(dcpl, i);
    bool ok = vsel >= 0;
    if (ok && *cover != H5S_ALL) {
        if (H5Sget_select_type(vsel) == H5S_SEL_ALL) {
            if (*cover > 0) {
                H5Sclose(*cover);
            }
            *cover = H5S_ALL;
        } else if (*cover == -1) {
            *cover = H5Scopy(vsel);
            ok = *cover >= 0;
        } else {
            ok = H5Smodify_select(*cover, H5S_SELECT_OR, vsel) >= 0;
        }
    }
    if (vsel >= 0) {
        H5Sclose(vsel);
    }
    return ok;
}

/* Every value of dset mapped (cover: the union of the mappings). */
static bool
covers(hid_t dset, hid_t cover)
{
    if (cover == H5S_ALL) {
        return true;
    }
    hid_t space = H5Dget_space(dset);
    bool ok = space >= 0 && cover > 0 &&
              H5Sget_select_npoints(cover) ==
                  H5Sget_simple_extent_npoints(space);
    if (space >= 0) {
        H5Sclose(space);
    }
    return ok;
}

/* Each mapping's source opened, shaped as mapped and checked by check;
 * the union of their regions into *cover.  0, or why (into m->why) or
 * check's failure. */
static int
check_mappings(struct ms_file *f, const struct ms_sample_name *s,
               const char *leaf, hid_t dset, hid_t dcpl,
               ms_source_check_fn check, hid_t *cover, struct mapping *m,
               struct ms_error *err)
{
    char holder_path[4096];
    hid_t holder = H5Iget_file_id(dset);
    holder_name(dset, holder_path, sizeof(holder_path));
    size_t count = 0;
    int rc = 0;
    if (holder < 0 || H5Pget_virtual_count(dcpl, &count) < 0) {
        snprintf(m->why, m->why_size, "its mappings cannot be read");
    }
    for (size_t i = 0; rc == 0 && m->why[0] == '\0' && i < count; i++) {
        hid_t file, src = open_source(holder, holder_path, dcpl, i, &file, m);
        if (src >= 0 && !source_holds(dcpl, i, src)) {
            snprintf(m->why, m->why_size,
                     "its mapping %zu does not fit its source %s:%s "
                     "(smaller, or of another shape)",
                     i, m->found, m->dset);
        }
        if (m->why[0] == '\0' && !add_region(dcpl, i, cover)) {
            snprintf(m->why, m->why_size,
                     "the values its mappings cover cannot be told");
        }
        if (src >= 0 && m->why[0] == '\0') {
            char what[6200];
            snprintf(what, sizeof(what), "%s (virtual): its source %s:%s",
                     leaf, m->found, m->dset);
            rc = check(f, s, what, src, err);
        }
        if (src >= 0) {
            H5Dclose(src);
        }
        if (file >= 0) {
            H5Fclose(file);
        }
    }
    if (holder >= 0) {
        H5Fclose(holder);
    }
    return rc;
}

int
ms__virtual_check(struct ms_file *f, const struct ms_sample_name *s,
                  const char *leaf, hid_t dset, hid_t dcpl,
                  ms_source_check_fn check, struct ms_error *err)
{
    int rc = 0;
    char why[1024] = "";
    struct mapping *m = ms__calloc(1, sizeof(*m));
    if (m == NULL) {
        return ms__error_set(err, MS_ENOMEM, "%s: out of memory", f->path);
    }
    m->why = why;
    m->why_size = sizeof(why);
    hid_t cover = -1;
    if (f->virtual_depth >= MAX_DEPTH) {
        snprintf(why, sizeof(why),
                 "its sources are virtual datasets more than %d deep",
                 MAX_DEPTH);
    } else {
        f->virtual_depth++;
        rc = check_mappings(f, s, leaf, dset, dcpl, check, &cover, m, err);
        f->virtual_depth--;
    }
    if (rc == 0 && why[0] == '\0' && !covers(dset, cover)) {
        snprintf(why, sizeof(why),
                 "some of its values are mapped to no source");
    }
    if (cover > 0) {
        H5Sclose(cover);
    }
    ms__free(m);
    if (rc == 0 && why[0] != '\0') {
        SAMPLE_FAIL(MS_ELAYOUT,
                    "%s%s/%s: is a virtual dataset, and %s: those values "
                    "would read as the fill value",
                    f->prefix, s->name, leaf, why);
    }
done:
    return rc;
}
