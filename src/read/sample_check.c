/*
 * sample_check.c: whether a sample's datasets can be read, and how.
 *
 * For each sample, on the thread that checks samples (pass/stream.c),
 * before any of the sample's data is read: the class, rank, dims and value
 * size of nodal_data and mesh_edge against the layout (docs/spec.md
 * section 1); that each dataset is stored whole and undamaged (never
 * written, partly written chunked data, dims or chunks beyond their
 * maximum, a chunk index whose sizes do not add up: damage HDF5 1.10.8
 * does not detect and then misreads or crashes on); and how nodal_data's
 * bytes can be fetched (pread, chunks decoded by the workers, or
 * H5Dread).  A failure names the file, the sample and the dataset.
 */
#include "read/hdf5_file.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* The filters of a chunked dataset, if codecs.c can undo them all (at
 * most MS_MAX_FILTERS), one codec applied last over shuffles. */
static bool
decodable_filters(hid_t dcpl, size_t elem_size, struct ms_chunk_filters *out)
{
    memset(out, 0, sizeof(*out));
    out->elem_size = elem_size;
    /* Unfiltered chunks are left to H5Dread: for them HDF5 reports the
     * nominal chunk size while H5Dread_chunk reads the size recorded in the
     * chunk index, and a damaged file can make the two disagree (the
     * dataset fuzzer found it: tests/fuzz/corpus/dataset/crash-*). */
    int n = H5Pget_nfilters(dcpl);
    if (n < 1 || n > MS_MAX_FILTERS) {
        return false;
    }
    for (int i = 0; i < n; i++) {
        unsigned flags, config;
        unsigned cd[8];
        size_t ncd = 8;
        char name[64];
        H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &ncd, cd,
                                         sizeof(name), name, &config);
        if (!ms__codec_known((int)id)) {
            return false; /* szip, bitshuffle, fletcher32...: H5Dread */
        }
        /* Every filter the last one's output goes through must keep the
         * chunk's size: shuffle only ([deflate, shuffle] is H5Dread's). */
        if (i < n - 1 && id != H5Z_FILTER_SHUFFLE) {
            return false;
        }
        out->id[out->count++] = (int)id;
    }
    return true;
}

/* The stored element size and how nodal_data's bytes can be read without
 * H5Dread: directly (contiguous, allocated, no filters or external files,
 * stored as the native float32 the workers widen to double), or chunk by
 * chunk with the filters undone by the workers (codecs.c). */
static void
stored_layout(struct ms_file *f, const struct ms_dataset_shape *ds,
              struct ms_sample_shape *shape)
{
    hid_t type = ds->type, dcpl = ds->dcpl;
    shape->elem_size = type >= 0 ? ds->facts.size : sizeof(double);
    /* IEEE float32 in either byte order converts to a native float
     * exactly; everything else is read as double. */
    bool native;
    shape->single = ms__dataset_float32(ds, &native);
    shape->direct_offset = MS_NO_DIRECT_READ;
    shape->direct_fd = -1;
    shape->chunk_t = 1;
    shape->chunk[0] = 0;
    if (ds->layout == H5D_CHUNKED) {
        hsize_t dims[3];
        if (H5Pget_chunk(dcpl, 3, dims) == 3) {
            shape->chunk_t = dims[1];
            if (f->direct && native &&
                decodable_filters(dcpl, sizeof(float), &shape->filters)) {
                for (int i = 0; i < 3; i++) {
                    shape->chunk[i] = dims[i];
                }
            }
        }
    } else {
        shape->direct_offset =
            ms__dataset_direct_offset(f, ds, native, &shape->direct_fd);
    }
}

/* nodal_data's class and dims against the layout: float, (F, T, N) with
 * enough feature rows for input_var iv and output_var ov, T and N >= 1,
 * and sizes meshstats can index. */
static int
check_nodal_dims(struct ms_file *f, const struct ms_sample_name *s,
                 H5T_class_t cls, int rank, const hsize_t *dims, unsigned iv,
                 unsigned ov, struct ms_error *err)
{
    int rc = 0;
    unsigned need = MS_MIN_FEATURE_ROWS;
    need = 3 + iv > need ? 3 + iv : need;
    need = 3 + ov > need ? 3 + ov : need;
    if (cls != H5T_FLOAT) {
        SAMPLE_FAIL(MS_ELAYOUT,
                    "%s%s/nodal_data: has a non-float type (class %d); "
                    "expected a float type",
                    f->prefix, s->name, (int)cls);
    }
    if (rank != 3) {
        SAMPLE_FAIL(MS_ELAYOUT,
                    "%s%s/nodal_data: has rank %d; expected 3 "
                    "(features x timesteps x nodes)",
                    f->prefix, s->name, rank);
    }
    if (dims[0] < need) {
        SAMPLE_FAIL(MS_ELAYOUT,
                    "%s%s/nodal_data: has %llu feature rows; needs at "
                    "least %u (6, and 3 + input_var %u, 3 + output_var %u)",
                    f->prefix, s->name, (unsigned long long)dims[0], need, iv,
                    ov);
    }
    if (dims[1] == 0 || dims[2] == 0) {
        SAMPLE_FAIL(MS_ELAYOUT,
                    "%s%s/nodal_data: has %llu timesteps and %llu nodes; "
                    "needs at least one of each",
                    f->prefix, s->name, (unsigned long long)dims[1],
                    (unsigned long long)dims[2]);
    }
    if (dims[2] > UINT32_MAX || dims[1] > SIZE_MAX / 2) {
        SAMPLE_FAIL(MS_ELAYOUT,
                    "%s%s/nodal_data: %llu nodes is more than meshstats "
                    "supports (%lu)",
                    f->prefix, s->name, (unsigned long long)dims[2],
                    (unsigned long)UINT32_MAX);
    }
    if (dims[0] > SIZE_MAX / 8 / dims[1] / dims[2]) {
        SAMPLE_FAIL(MS_EOVERFLOW,
                    "%s%s/nodal_data: its size (%llu x %llu x %llu "
                    "values) overflows",
                    f->prefix, s->name, (unsigned long long)dims[0],
                    (unsigned long long)dims[1], (unsigned long long)dims[2]);
    }
done:
    return rc;
}

static int
check_nodal_data(struct ms_file *f, const struct ms_sample_name *s, unsigned iv,
                 unsigned ov, struct ms_sample_shape *shape,
                 struct ms_error *err)
{
    struct ms_dataset_shape ds;
    int rc = ms__dataset_open_shape(f, s, "nodal_data", &ds, err);
    if (rc != 0) {
        return rc;
    }
    const hsize_t *dims = ds.dims;
    if (rc == 0) {
        rc = check_nodal_dims(f, s, ds.facts.cls, ds.rank, dims, iv, ov, err);
    }
    if (rc == 0) {
        rc = ms__dataset_check_storage(f, s, "nodal_data", &ds, err);
    }
    if (rc == 0) {
        shape->F = (size_t)dims[0];
        shape->T = (size_t)dims[1];
        shape->N = (size_t)dims[2];
        stored_layout(f, &ds, shape);
    }
    ms__dataset_shape_close(&ds);
    return rc;
}

static int
check_mesh_edge(struct ms_file *f, const struct ms_sample_name *s,
                struct ms_sample_shape *shape, struct ms_error *err)
{
    struct ms_dataset_shape ds;
    shape->edge_offset = MS_NO_DIRECT_READ;
    shape->edge_fd = -1;
    shape->edge_elem = 0;
    int rc = ms__dataset_open_shape(f, s, "mesh_edge", &ds, err);
    if (rc != 0) {
        return rc;
    }
    H5T_class_t cls = ds.facts.cls;
    int rank = ds.rank;
    const hsize_t *dims = ds.dims;
    if (cls != H5T_INTEGER) {
        SAMPLE_FAIL(MS_ELAYOUT,
                    "%s%s/mesh_edge: has a non-integer type (class %d); "
                    "expected integer node indices",
                    f->prefix, s->name, (int)cls);
    }
    if (rank != 2 || dims[0] != 2) {
        SAMPLE_FAIL(MS_ELAYOUT,
                    "%s%s/mesh_edge: has rank %d and %llu rows; expected "
                    "shape (2, E)",
                    f->prefix, s->name, rank,
                    rank >= 1 ? (unsigned long long)dims[0] : 0ULL);
    }
    if (dims[1] > SIZE_MAX / 16) {
        SAMPLE_FAIL(MS_EOVERFLOW, "%s%s/mesh_edge: %llu edges overflow",
                    f->prefix, s->name, (unsigned long long)dims[1]);
    }
    if (dims[1] > 0) {
        rc = ms__dataset_check_storage(f, s, "mesh_edge", &ds, err);
        if (rc != 0) {
            goto done;
        }
    }
    shape->E = (size_t)dims[1];
    shape->edge_elem = ds.facts.size;
    bool native = ds.facts.native_int;
    shape->edge_offset =
        ms__dataset_direct_offset(f, &ds, native, &shape->edge_fd);
done:
    ms__dataset_shape_close(&ds);
    return rc;
}

/* Why a sample's dataset could not be checked, when its group is not a
 * group (or cannot be looked up): that, as the failure, in err. */
static int
group_failure(struct ms_file *f, const struct ms_sample_name *s,
              struct ms_error *err)
{
    int rc = 0;
    char path[96];
    snprintf(path, sizeof(path), "data/%s", s->name);
    H5I_type_t type;
    struct ms_error why;
    if (ms__sample_object_type(f, s, path, &type, &why) != 0) {
        if (err != NULL) {
            *err = why;
        }
        return why.code;
    }
    if (type != H5I_GROUP) {
        SAMPLE_FAIL(MS_ELAYOUT, "%s: is not a group", path);
    }
done:
    return rc;
}

int
ms__sample_shape(struct ms_file *f, const struct ms_sample_name *s,
                 unsigned input_var, unsigned output_var,
                 struct ms_sample_shape *shape, struct ms_error *err)
{
    ms__hdf5_quiet();
    shape->field = NULL; /* (a trajectory's only) */
    /* The group is looked up with its first dataset; only if that fails is
     * it looked at by itself, to say whether it is the group's fault. */
    int rc = check_nodal_data(f, s, input_var, output_var, shape, err);
    if (rc != 0) {
        int group = group_failure(f, s, err);
        return group != 0 ? group : rc;
    }
    return check_mesh_edge(f, s, shape, err);
}
