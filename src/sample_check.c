/*
 * sample_check.c: whether a sample's datasets can be read, and how.
 *
 * For each sample, on the calling thread before any data is read: the
 * class, rank, dims and value size of nodal_data and mesh_edge against the
 * layout (docs/spec.md section 1); that each dataset is stored whole and
 * undamaged (never written, partly written chunked data, dims or chunks
 * beyond their maximum, a chunk index whose sizes do not add up: damage
 * HDF5 1.10.8 does not detect and then misreads or crashes on); and how
 * nodal_data's bytes can be fetched (pread, chunks decoded by the workers,
 * or H5Dread).  A failure names the file, the sample and the dataset.
 */
#include "hdf5_file.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Numbers wider than this are not numbers a simulation wrote: a damaged
 * datatype message (a 2.9 MB float made HDF5 1.10.8 crash converting). */
#define MAX_NUMBER_BYTES 16

/* The class, rank, dims (up to 3) and value size of a dataset: 0, -1 if
 * they cannot be read, -2 if a dimension exceeds its declared maximum
 * (which only a damaged dataspace message can say), or -3 if a float or
 * integer type is wider than MAX_NUMBER_BYTES or has more bits of
 * precision than it has bits. */
static int
dataset_shape(hid_t dset, H5T_class_t *cls, int *rank, hsize_t dims[3],
              size_t *size)
{
    hid_t type = H5Dget_type(dset);
    hid_t space = H5Dget_space(dset);
    int rc = -1;
    if (type >= 0 && space >= 0) {
        *cls = H5Tget_class(type);
        *size = H5Tget_size(type);
        *rank = H5Sget_simple_extent_ndims(space);
        rc = *rank >= 0 ? 0 : -1;
        if (*cls == H5T_FLOAT || *cls == H5T_INTEGER) {
            size_t bits = H5Tget_precision(type);
            if (*size == 0 || *size > MAX_NUMBER_BYTES || bits == 0 ||
                bits > 8 * *size) {
                rc = -3;
            }
        }
        hsize_t max[3];
        if (*rank >= 0 && *rank <= 3 &&
            H5Sget_simple_extent_dims(space, dims, max) >= 0) {
            for (int i = 0; i < *rank; i++) {
                if (max[i] != H5S_UNLIMITED && dims[i] > max[i] &&
                    rc == 0) {
                    rc = -2;
                }
            }
        }
    }
    if (type >= 0) {
        H5Tclose(type);
    }
    if (space >= 0) {
        H5Sclose(space);
    }
    return rc;
}

/* The shape and value size of data/<name>/<leaf>, or a sample failure
 * explaining why they cannot be read. */
static int
read_shape(struct ms_file *f, const struct ms_sample_name *s,
           const char *leaf, hid_t dset, H5T_class_t *cls, int *rank,
           hsize_t dims[3], size_t *elem, struct ms_error *err)
{
    int rc = 0;
    size_t size = 0;
    int shape_rc = dataset_shape(dset, cls, rank, dims, &size);
    *elem = size;
    switch (shape_rc) {
    case 0:
        break;
    case -3:
        SAMPLE_FAIL(MS_ELAYOUT,
                    "data/%s/%s: its datatype is damaged or unsupported: "
                    "%zu-byte values (at most %d)",
                    s->name, leaf, size, MAX_NUMBER_BYTES);
    case -2:
        SAMPLE_FAIL(MS_ELAYOUT,
                    "data/%s/%s: its dataspace is damaged (a dimension "
                    "exceeds its declared maximum)",
                    s->name, leaf);
    default:
        SAMPLE_FAIL(MS_EIO, "data/%s/%s: cannot read its shape", s->name,
                    leaf);
    }
done:
    return rc;
}

/* "8 x 400 x 1300" */
static void
format_dims(char *out, size_t size, int rank, const hsize_t *dims)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < rank && used < size; i++) {
        int n = snprintf(out + used, size - used, "%s%llu", i ? " x " : "",
                         (unsigned long long)dims[i]);
        used += n > 0 ? (size_t)n : 0;
    }
}

/* elem x dims[0] x ... x dims[rank - 1], or UINT64_MAX if it overflows. */
static hsize_t
bytes_of(size_t elem, int rank, const hsize_t *dims)
{
    hsize_t n = elem;
    for (int i = 0; i < rank; i++) {
        n = dims[i] && n > UINT64_MAX / dims[i] ? UINT64_MAX : n * dims[i];
    }
    return n;
}

/* The chunks a chunked dataset has stored, and whether its chunks are
 * larger than its maximum dimensions: H5Dget_num_chunks's status. */
static herr_t
count_chunks(hid_t dset, int rank, const hsize_t *chunk, hsize_t *stored,
             bool *oversized)
{
    hid_t space = H5Dget_space(dset); /* required, though unused */
    herr_t counted = space >= 0 ? H5Dget_num_chunks(dset, space, stored)
                                : -1;
    hsize_t max[3];
    if (space >= 0 && H5Sget_simple_extent_dims(space, NULL, max) == rank) {
        for (int i = 0; i < rank; i++) {
            *oversized |= max[i] != H5S_UNLIMITED && chunk[i] > max[i];
        }
    }
    if (space >= 0) {
        H5Sclose(space);
    }
    return counted;
}

/* The chunk index of a chunked dataset holding bytes in all: every chunk
 * of the grid stored (unwritten chunks would read as the fill value, see
 * check_storage), no chunk larger than the maximum dimensions (HDF5 never
 * creates one), and unfiltered chunks all stored at their full size, edge
 * chunks too.  HDF5 1.10.8 reads past its own buffers on the last two. */
static int
check_chunks(struct ms_file *f, const struct ms_sample_name *s,
             const char *leaf, hid_t dset, int rank, const hsize_t *dims,
             const hsize_t *chunk, bool filtered, hsize_t bytes,
             size_t elem, struct ms_error *err)
{
    int rc = 0;
    hsize_t expected = 1;
    hsize_t stored = 0;
    for (int i = 0; i < rank; i++) {
        hsize_t along = chunk[i] ? (dims[i] - 1) / chunk[i] + 1 : 1;
        expected = expected > UINT64_MAX / along ? UINT64_MAX
                                                 : expected * along;
    }
    bool oversized = false;
    herr_t counted = count_chunks(dset, rank, chunk, &stored, &oversized);
    if (oversized) {
        char chunks[96];
        format_dims(chunks, sizeof(chunks), rank, chunk);
        SAMPLE_FAIL(MS_ELAYOUT,
                    "data/%s/%s: its layout is damaged: chunks of %s are "
                    "larger than its maximum dimensions",
                    s->name, leaf, chunks);
    }
    if (counted < 0) {
        char msg[256];
        ms__hdf5_last_error(msg, sizeof(msg));
        SAMPLE_FAIL(MS_EIO, "data/%s/%s: cannot count its chunks: %s",
                    s->name, leaf, msg);
    }
    hsize_t chunk_bytes = bytes_of(elem, rank, chunk);
    if (!filtered && stored == expected &&
        (chunk_bytes == 0 || bytes / chunk_bytes != stored ||
         bytes % chunk_bytes != 0)) {
        SAMPLE_FAIL(MS_ELAYOUT,
                    "data/%s/%s: its layout is damaged: %llu bytes stored "
                    "for %llu uncompressed chunks of %llu bytes",
                    s->name, leaf, (unsigned long long)bytes,
                    (unsigned long long)stored,
                    (unsigned long long)chunk_bytes);
    }
    if (stored < expected) {
        char shape[96];
        format_dims(shape, sizeof(shape), rank, dims);
        SAMPLE_FAIL(MS_ELAYOUT,
                    "data/%s/%s: partly written: %llu of its %llu chunks "
                    "are stored, the rest would read as the fill value "
                    "(declared %s)",
                    s->name, leaf, (unsigned long long)stored,
                    (unsigned long long)expected, shape);
    }
done:
    return rc;
}

/* A dataset must be written in full.  HDF5 returns the fill value for
 * storage never written: for a dataset never written at all, or for the
 * chunks an aborted export did not reach.  Those values would enter the
 * statistics as if a simulation had produced them (and a damaged file
 * declaring millions of unwritten timesteps would take minutes to read),
 * so the sample is refused instead, and so is a virtual dataset, whose
 * missing source files read as the fill value too.  Stored sizes must
 * match the declared ones: compact or contiguous storage of other than
 * the dataset's bytes, or a chunk index that does not add up, is damage
 * HDF5 1.10.8 reads past its own buffers with.  The dims are non-zero. */
static int
check_storage(struct ms_file *f, const struct ms_sample_name *s,
              const char *leaf, hid_t dset, int rank, const hsize_t *dims,
              size_t elem, struct ms_error *err)
{
    int rc = 0;
    hid_t dcpl = H5Dget_create_plist(dset);
    H5D_layout_t layout = dcpl >= 0 ? H5Pget_layout(dcpl) : H5D_LAYOUT_ERROR;
    hsize_t chunk[3];
    bool chunked = layout == H5D_CHUNKED &&
                   H5Pget_chunk(dcpl, rank, chunk) == rank;
    bool filtered = dcpl >= 0 && H5Pget_nfilters(dcpl) != 0;
    bool external = dcpl >= 0 && H5Pget_external_count(dcpl) > 0;
    if (dcpl >= 0) {
        H5Pclose(dcpl);
    }
    if (layout == H5D_VIRTUAL) {
        SAMPLE_FAIL(MS_ELAYOUT,
                    "data/%s/%s: is a virtual dataset (its data lives in "
                    "other files); meshstats reads only data stored in "
                    "this file: copy it in (h5repack -l CONTI)",
                    s->name, leaf);
    }
    char shape[96];
    format_dims(shape, sizeof(shape), rank, dims);
    hsize_t bytes = H5Dget_storage_size(dset);
    if (bytes == 0) {
        SAMPLE_FAIL(MS_ELAYOUT,
                    "data/%s/%s: declared (%s) but never written: no data "
                    "is stored",
                    s->name, leaf, shape);
    }
    if (chunked) {
        return check_chunks(f, s, leaf, dset, rank, dims, chunk, filtered,
                            bytes, elem, err);
    }
    hsize_t want = bytes_of(elem, rank, dims);
    if ((layout == H5D_COMPACT || (layout == H5D_CONTIGUOUS && !external)) &&
        bytes != want) {
        SAMPLE_FAIL(MS_ELAYOUT,
                    "data/%s/%s: its layout is damaged: %llu bytes stored "
                    "for %s values of %zu bytes",
                    s->name, leaf, (unsigned long long)bytes, shape, elem);
    }
done:
    return rc;
}

/* The filters of a chunked dataset, if chunk_decode.c can undo them all:
 * shuffle and deflate, in any order, each at most once. */
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
    if (n < 1 || n > 2) {
        return false;
    }
    for (int i = 0; i < n; i++) {
        unsigned flags, config;
        unsigned cd[8];
        size_t ncd = 8;
        char name[64];
        H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &ncd, cd,
                                         sizeof(name), name, &config);
        if (id == H5Z_FILTER_SHUFFLE && !out->shuffle) {
            out->shuffle = true;
            out->shuffle_index = (unsigned)i;
        } else if (id == H5Z_FILTER_DEFLATE && !out->deflate) {
            out->deflate = true;
            out->deflate_index = (unsigned)i;
        } else {
            return false; /* szip, lz4, fletcher32...: H5Dread decodes */
        }
    }
    /* Deflate must be applied after shuffle for the reverse order to hold. */
    return !(out->shuffle && out->deflate &&
             out->deflate_index < out->shuffle_index);
}

/* The stored element size and how nodal_data's bytes can be read without
 * H5Dread: directly (contiguous, allocated, no filters or external files,
 * stored as the native float32 the workers widen to double), or chunk by
 * chunk with the filters undone by the workers. */
static void
stored_layout(struct ms_file *f, hid_t dset, struct ms_sample_shape *shape)
{
    hid_t type = H5Dget_type(dset);
    hid_t dcpl = H5Dget_create_plist(dset);
    shape->elem_size = type >= 0 ? H5Tget_size(type) : sizeof(double);
    /* IEEE float32 in either byte order converts to a native float
     * exactly; everything else is read as double. */
    shape->single = type >= 0 && (H5Tequal(type, H5T_IEEE_F32LE) > 0 ||
                                  H5Tequal(type, H5T_IEEE_F32BE) > 0);
    shape->direct_offset = MS_NO_DIRECT_READ;
    shape->chunk_t = 1;
    shape->chunk[0] = 0;
    bool native = type >= 0 && H5Tequal(type, H5T_NATIVE_FLOAT) > 0;
    H5D_layout_t layout = dcpl >= 0 ? H5Pget_layout(dcpl) : H5D_LAYOUT_ERROR;
    if (layout == H5D_CHUNKED) {
        hsize_t dims[3];
        if (H5Pget_chunk(dcpl, 3, dims) == 3) {
            shape->chunk_t = dims[1];
            if (f->fd >= 0 && native &&
                decodable_filters(dcpl, sizeof(float), &shape->filters)) {
                for (int i = 0; i < 3; i++) {
                    shape->chunk[i] = dims[i];
                }
            }
        }
    } else if (f->fd >= 0 && native && layout == H5D_CONTIGUOUS &&
               H5Pget_nfilters(dcpl) == 0 && H5Pget_external_count(dcpl) == 0) {
        haddr_t offset = H5Dget_offset(dset);
        if (offset != HADDR_UNDEF) {
            shape->direct_offset = offset;
        }
    }
    if (dcpl >= 0) {
        H5Pclose(dcpl);
    }
    if (type >= 0) {
        H5Tclose(type);
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
                    "data/%s/nodal_data: has a non-float type (class %d); "
                    "expected a float type",
                    s->name, (int)cls);
    }
    if (rank != 3) {
        SAMPLE_FAIL(MS_ELAYOUT,
                    "data/%s/nodal_data: has rank %d; expected 3 "
                    "(features x timesteps x nodes)",
                    s->name, rank);
    }
    if (dims[0] < need) {
        SAMPLE_FAIL(MS_ELAYOUT,
                    "data/%s/nodal_data: has %llu feature rows; needs at "
                    "least %u (6, and 3 + input_var %u, 3 + output_var %u)",
                    s->name, (unsigned long long)dims[0], need, iv, ov);
    }
    if (dims[1] == 0 || dims[2] == 0) {
        SAMPLE_FAIL(MS_ELAYOUT,
                    "data/%s/nodal_data: has %llu timesteps and %llu nodes; "
                    "needs at least one of each",
                    s->name, (unsigned long long)dims[1],
                    (unsigned long long)dims[2]);
    }
    if (dims[2] > UINT32_MAX || dims[1] > SIZE_MAX / 2) {
        SAMPLE_FAIL(MS_ELAYOUT,
                    "data/%s/nodal_data: %llu nodes is more than meshstats "
                    "supports (%lu)",
                    s->name, (unsigned long long)dims[2],
                    (unsigned long)UINT32_MAX);
    }
    if (dims[0] > SIZE_MAX / 8 / dims[1] / dims[2]) {
        SAMPLE_FAIL(MS_EOVERFLOW,
                    "data/%s/nodal_data: its size (%llu x %llu x %llu "
                    "values) overflows",
                    s->name, (unsigned long long)dims[0],
                    (unsigned long long)dims[1], (unsigned long long)dims[2]);
    }
done:
    return rc;
}

static int
check_nodal_data(struct ms_file *f, const struct ms_sample_name *s,
                 unsigned iv, unsigned ov, struct ms_sample_shape *shape,
                 struct ms_error *err)
{
    hid_t dset;
    int rc = ms__sample_dataset_open(f, s, "nodal_data", &dset, err);
    if (rc != 0) {
        return rc;
    }
    H5T_class_t cls;
    int rank = 0;
    hsize_t dims[3] = {0, 0, 0};
    size_t elem = 0;
    rc = read_shape(f, s, "nodal_data", dset, &cls, &rank, dims, &elem, err);
    if (rc == 0) {
        rc = check_nodal_dims(f, s, cls, rank, dims, iv, ov, err);
    }
    if (rc == 0) {
        rc = check_storage(f, s, "nodal_data", dset, 3, dims, elem, err);
    }
    if (rc == 0) {
        shape->F = (size_t)dims[0];
        shape->T = (size_t)dims[1];
        shape->N = (size_t)dims[2];
        stored_layout(f, dset, shape);
    }
    H5Dclose(dset);
    return rc;
}

static int
check_mesh_edge(struct ms_file *f, const struct ms_sample_name *s,
                struct ms_sample_shape *shape, struct ms_error *err)
{
    hid_t dset;
    int rc = ms__sample_dataset_open(f, s, "mesh_edge", &dset, err);
    if (rc != 0) {
        return rc;
    }
    H5T_class_t cls;
    int rank = 0;
    hsize_t dims[3] = {0, 0, 0};
    size_t elem = 0;
    rc = read_shape(f, s, "mesh_edge", dset, &cls, &rank, dims, &elem, err);
    if (rc != 0) {
        goto done;
    }
    if (cls != H5T_INTEGER) {
        SAMPLE_FAIL(MS_ELAYOUT,
                    "data/%s/mesh_edge: has a non-integer type (class %d); "
                    "expected integer node indices",
                    s->name, (int)cls);
    }
    if (rank != 2 || dims[0] != 2) {
        SAMPLE_FAIL(MS_ELAYOUT,
                    "data/%s/mesh_edge: has rank %d and %llu rows; expected "
                    "shape (2, E)",
                    s->name, rank, rank >= 1 ? (unsigned long long)dims[0] : 0ULL);
    }
    if (dims[1] > SIZE_MAX / 16) {
        SAMPLE_FAIL(MS_EOVERFLOW, "data/%s/mesh_edge: %llu edges overflow",
                    s->name, (unsigned long long)dims[1]);
    }
    if (dims[1] > 0) {
        rc = check_storage(f, s, "mesh_edge", dset, 2, dims, elem, err);
        if (rc != 0) {
            goto done;
        }
    }
    shape->E = (size_t)dims[1];
done:
    if (dset >= 0) {
        H5Dclose(dset);
    }
    return rc;
}

int
ms__sample_shape(struct ms_file *f, const struct ms_sample_name *s,
                 unsigned input_var, unsigned output_var,
                 struct ms_sample_shape *shape, struct ms_error *err)
{
    ms__hdf5_quiet();
    int rc = 0;
    char path[96];
    snprintf(path, sizeof(path), "data/%s", s->name);
    H5I_type_t type;
    rc = ms__sample_object_type(f, s, path, &type, err);
    if (rc != 0) {
        goto done;
    }
    if (type != H5I_GROUP) {
        SAMPLE_FAIL(MS_ELAYOUT, "%s: is not a group", path);
    }
    rc = check_nodal_data(f, s, input_var, output_var, shape, err);
    if (rc == 0) {
        rc = check_mesh_edge(f, s, shape, err);
    }
done:
    return rc;
}
