/*
 * dataset_check.c: whether one dataset of a sample can be read as stored:
 * its class, rank, dims and value size (a damaged datatype or dataspace
 * message refused), and that it is stored whole and undamaged (never
 * written, partly written chunked data, chunks beyond the maximum, a chunk
 * index whose sizes do not add up: damage HDF5 1.10.8 does not detect and
 * then misreads or crashes on).  Shared by both layouts' checks
 * (sample_check.c, trajectory_check.c); failures name the file, the sample
 * and the dataset.
 */
#include "read/hdf5_file.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Numbers wider than this are not numbers a simulation wrote: a damaged
 * datatype message (a 2.9 MB float made HDF5 1.10.8 crash converting). */
#define MAX_NUMBER_BYTES 16

/* The rank and dims (up to 3) of a dataset of type t: 0, -1 if they (or
 * its type) cannot be read, -2 if a dimension exceeds its declared maximum
 * (which only a damaged dataspace message can say), or -3 if a float or
 * integer type is wider than MAX_NUMBER_BYTES or has more bits of
 * precision than it has bits. */
static int
dataset_shape(hid_t dset, const struct ms_type_facts *t, int *rank,
              hsize_t dims[3])
{
    hid_t space = H5Dget_space(dset);
    int rc = -1;
    if (t->cls != H5T_NO_CLASS && space >= 0) {
        *rank = H5Sget_simple_extent_ndims(space);
        rc = *rank >= 0 ? 0 : -1;
        if (t->cls == H5T_FLOAT || t->cls == H5T_INTEGER) {
            size_t bits = t->precision;
            if (t->size == 0 || t->size > MAX_NUMBER_BYTES || bits == 0 ||
                bits > 8 * t->size) {
                rc = -3;
            }
        }
        hsize_t max[3];
        if (*rank >= 0 && *rank <= 3 &&
            H5Sget_simple_extent_dims(space, dims, max) >= 0) {
            for (int i = 0; i < *rank; i++) {
                if (max[i] != H5S_UNLIMITED && dims[i] > max[i] && rc == 0) {
                    rc = -2;
                }
            }
        }
    }
    if (space >= 0) {
        H5Sclose(space);
    }
    return rc;
}

void
ms__dataset_shape_close(struct ms_dataset_shape *ds)
{
    if (ds->dcpl >= 0) {
        H5Pclose(ds->dcpl);
    }
    if (ds->type >= 0) {
        H5Tclose(ds->type);
    }
    if (ds->id >= 0) {
        H5Dclose(ds->id);
    }
    ds->id = ds->type = ds->dcpl = -1;
}

/* HDF5's number of the external file list message (H5Opublic.h does not
 * name it). */
#define EXTERNAL_FILES_MESSAGE 7

/* Whether HDF5 gives dset an address of data stored in its own file:
 * contiguous data gets one, and chunked, compact and virtual data never
 * do.  Data stored in external files gets one too when its layout
 * message holds one (HDF5 never writes that, a damaged file may), so the
 * header is asked whether it lists external files; and data never
 * written gets one in a file with a userblock (the undefined address
 * plus the userblock: the storage check then finds nothing stored). */
static bool
stored_here_at(hid_t dset, haddr_t *offset, unsigned long *fileno)
{
    *offset = H5Dget_offset(dset);
    H5O_info_t info;
    bool here = *offset != HADDR_UNDEF &&
                H5Oget_info2(dset, &info, H5O_INFO_HDR | H5O_INFO_BASIC) >=
                    0 &&
                (info.hdr.mesg.present & (1ull << EXTERNAL_FILES_MESSAGE)) ==
                    0;
    *fileno = here ? info.fileno : 0;
    return here;
}

/* What the checks ask of a datatype. */
static void
type_facts(hid_t type, struct ms_type_facts *t)
{
    t->cls = type >= 0 ? H5Tget_class(type) : H5T_NO_CLASS;
    t->size = type >= 0 ? H5Tget_size(type) : 0;
    bool number = t->cls == H5T_FLOAT || t->cls == H5T_INTEGER;
    t->precision = number ? H5Tget_precision(type) : 0;
    t->native_float = number && H5Tequal(type, H5T_NATIVE_FLOAT) > 0;
    t->float32 = t->native_float ||
                 (number && (H5Tequal(type, H5T_IEEE_F32LE) > 0 ||
                             H5Tequal(type, H5T_IEEE_F32BE) > 0));
    t->native_int = number && H5Tequal(type, t->size == 8 ? H5T_NATIVE_INT64
                                                          : H5T_NATIVE_INT32) >
                                  0;
}

/* ds's datatype and what the checks ask of it: the facts of the last
 * type of the same slot (nodal_data, mesh_edge) when it is the same type
 * (one question instead of up to seven), else asked and kept. */
static void
learn_type(struct ms_file *f, struct ms_dataset_shape *ds, int slot)
{
    ds->type = H5Dget_type(ds->id);
    struct ms_known_type *k = slot >= 0 ? &f->known_types[slot] : NULL;
    if (k != NULL && ds->type >= 0 && k->type >= 0 &&
        H5Tequal(ds->type, k->type) > 0) {
        ds->facts = k->facts;
        return;
    }
    type_facts(ds->type, &ds->facts);
    hid_t copy = k != NULL && ds->type >= 0 ? H5Tcopy(ds->type) : -1;
    if (copy >= 0) {
        if (k->type >= 0) {
            H5Tclose(k->type);
        }
        k->type = copy;
        k->facts = ds->facts;
    }
}

/* ds's type (learn_type, slot -1: none kept), creation list and what the
 * checks ask of it, once.  Data at an address in its own file has nothing
 * more to ask, and the list, a copy made for the asking (a tenth of
 * checking a small sample), is not made. */
static void
describe(struct ms_file *f, struct ms_dataset_shape *ds, int slot)
{
    learn_type(f, ds, slot);
    ds->here = stored_here_at(ds->id, &ds->offset, &ds->fileno);
    if (ds->here) {
        ds->layout = H5D_CONTIGUOUS;
        ds->nfilters = ds->nexternal = 0;
        return;
    }
    ds->dcpl = H5Dget_create_plist(ds->id);
    hid_t dcpl = ds->dcpl;
    ds->layout = dcpl >= 0 ? H5Pget_layout(dcpl) : H5D_LAYOUT_ERROR;
    ds->nfilters = dcpl >= 0 ? H5Pget_nfilters(dcpl) : -1;
    ds->nexternal = dcpl >= 0 ? H5Pget_external_count(dcpl) : -1;
}

int
ms__dataset_open_shape(struct ms_file *f, const struct ms_sample_name *s,
                       const char *leaf, struct ms_dataset_shape *ds,
                       struct ms_error *err)
{
    *ds = (struct ms_dataset_shape){.id = -1, .type = -1, .dcpl = -1};
    int rc = ms__sample_dataset_open(f, s, leaf, &ds->id, err);
    if (rc != 0) {
        return rc;
    }
    describe(f, ds,
             strcmp(leaf, "nodal_data") == 0  ? 0
             : strcmp(leaf, "mesh_edge") == 0 ? 1
                                              : -1);
    int shape_rc = dataset_shape(ds->id, &ds->facts, &ds->rank, ds->dims);
    switch (shape_rc) {
    case 0:
        break;
    case -3:
        SAMPLE_FAIL(MS_ELAYOUT,
                    "%s%s/%s: its datatype is damaged or unsupported: "
                    "%zu-byte values (at most %d)",
                    f->prefix, s->name, leaf, ds->facts.size, MAX_NUMBER_BYTES);
    case -2:
        SAMPLE_FAIL(MS_ELAYOUT,
                    "%s%s/%s: its dataspace is damaged (a dimension "
                    "exceeds its declared maximum)",
                    f->prefix, s->name, leaf);
    default:
        SAMPLE_FAIL(MS_EIO, "%s%s/%s: cannot read its shape", f->prefix,
                    s->name, leaf);
    }
done:
    if (rc != 0) {
        ms__dataset_shape_close(ds);
    }
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
    herr_t counted = space >= 0 ? H5Dget_num_chunks(dset, space, stored) : -1;
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
             const hsize_t *chunk, bool filtered, hsize_t bytes, size_t elem,
             struct ms_error *err)
{
    int rc = 0;
    hsize_t expected = 1;
    hsize_t stored = 0;
    for (int i = 0; i < rank; i++) {
        hsize_t along = chunk[i] ? (dims[i] - 1) / chunk[i] + 1 : 1;
        expected =
            expected > UINT64_MAX / along ? UINT64_MAX : expected * along;
    }
    bool oversized = false;
    herr_t counted = count_chunks(dset, rank, chunk, &stored, &oversized);
    if (oversized) {
        char chunks[96];
        format_dims(chunks, sizeof(chunks), rank, chunk);
        SAMPLE_FAIL(MS_ELAYOUT,
                    "%s%s/%s: its layout is damaged: chunks of %s are "
                    "larger than its maximum dimensions",
                    f->prefix, s->name, leaf, chunks);
    }
    if (counted < 0) {
        char msg[256];
        ms__hdf5_last_error(msg, sizeof(msg));
        SAMPLE_FAIL(MS_EIO, "%s%s/%s: cannot count its chunks: %s", f->prefix,
                    s->name, leaf, msg);
    }
    hsize_t chunk_bytes = bytes_of(elem, rank, chunk);
    if (!filtered && stored == expected &&
        (chunk_bytes == 0 || bytes / chunk_bytes != stored ||
         bytes % chunk_bytes != 0)) {
        SAMPLE_FAIL(MS_ELAYOUT,
                    "%s%s/%s: its layout is damaged: %llu bytes stored "
                    "for %llu uncompressed chunks of %llu bytes",
                    f->prefix, s->name, leaf, (unsigned long long)bytes,
                    (unsigned long long)stored,
                    (unsigned long long)chunk_bytes);
    }
    if (stored < expected) {
        char shape[96];
        format_dims(shape, sizeof(shape), rank, dims);
        SAMPLE_FAIL(MS_ELAYOUT,
                    "%s%s/%s: partly written: %llu of its %llu chunks "
                    "are stored, the rest would read as the fill value "
                    "(declared %s)",
                    f->prefix, s->name, leaf, (unsigned long long)stored,
                    (unsigned long long)expected, shape);
    }
done:
    return rc;
}

static int check_source(struct ms_file *f, const struct ms_sample_name *s,
                        const char *what, hid_t dset, struct ms_error *err);

/* Contiguous data must lie inside the file that holds it: HDF5 reads the
 * part of a dataset past the end of a file cut short (its superblock
 * patched to open) as zeros, through H5Dread, without an error. */
static int
check_within_file(struct ms_file *f, const struct ms_sample_name *s,
                  const char *leaf, hid_t dset, hsize_t bytes,
                  struct ms_error *err)
{
    int rc = 0;
    haddr_t at = H5Dget_offset(dset);
    hid_t file = H5Iget_file_id(dset);
    hsize_t size = 0;
    herr_t got = file >= 0 ? H5Fget_filesize(file, &size) : -1;
    if (file >= 0) {
        H5Fclose(file);
    }
    if (at != HADDR_UNDEF && got >= 0 && (at > size || size - at < bytes)) {
        SAMPLE_FAIL(MS_ELAYOUT,
                    "%s%s/%s: its %llu bytes at offset %llu run past the "
                    "end of the file that holds them (%llu bytes): the "
                    "file was cut short",
                    f->prefix, s->name, leaf, (unsigned long long)bytes,
                    (unsigned long long)at, (unsigned long long)size);
    }
done:
    return rc;
}

/* A dataset must be written in full.  HDF5 returns the fill value for
 * storage never written: for a dataset never written at all, or for the
 * chunks an aborted export did not reach.  Those values would enter the
 * statistics as if a simulation had produced them (and a damaged file
 * declaring millions of unwritten timesteps would take minutes to read),
 * so the sample is refused instead, and so is a virtual dataset whose
 * sources do not all exist (virtual_check.c), or one in external raw
 * files that end before its bytes do (external_check.c).  Stored sizes must
 * match the declared ones: compact or contiguous storage of other than
 * the dataset's bytes, or a chunk index that does not add up, is damage
 * HDF5 1.10.8 reads past its own buffers with.  The dims are non-zero. */
int
ms__dataset_check_storage(struct ms_file *f, const struct ms_sample_name *s,
                          const char *leaf, const struct ms_dataset_shape *ds,
                          struct ms_error *err)
{
    int rc = 0;
    hid_t dset = ds->id, dcpl = ds->dcpl;
    int rank = ds->rank;
    const hsize_t *dims = ds->dims;
    H5D_layout_t layout = ds->layout;
    hsize_t chunk[3];
    bool chunked =
        layout == H5D_CHUNKED && H5Pget_chunk(dcpl, rank, chunk) == rank;
    bool filtered = dcpl >= 0 && ds->nfilters != 0;
    bool external = ds->nexternal > 0;
    if (layout == H5D_VIRTUAL) {
        return ms__virtual_check(f, s, leaf, dset, dcpl, check_source, err);
    }
    if (filtered && (rc = ms__filters_check(f, s, leaf, dcpl, err)) != 0) {
        return rc;
    }
    char shape[96];
    format_dims(shape, sizeof(shape), rank, dims);
    hsize_t bytes = H5Dget_storage_size(dset);
    if (bytes == 0) {
        SAMPLE_FAIL(MS_ELAYOUT,
                    "%s%s/%s: declared (%s) but never written: no data "
                    "is stored",
                    f->prefix, s->name, leaf, shape);
    }
    if (chunked) {
        return check_chunks(f, s, leaf, dset, rank, dims, chunk, filtered,
                            bytes, ds->facts.size, err);
    }
    hsize_t want = bytes_of(ds->facts.size, rank, dims);
    if (layout == H5D_CONTIGUOUS && external) {
        return ms__external_check(f, s, leaf, dset, dcpl, ds->nexternal, want,
                                  err);
    }
    if ((layout == H5D_COMPACT || layout == H5D_CONTIGUOUS) &&
        bytes != want) {
        SAMPLE_FAIL(MS_ELAYOUT,
                    "%s%s/%s: its layout is damaged: %llu bytes stored "
                    "for %s values of %zu bytes",
                    f->prefix, s->name, leaf, (unsigned long long)bytes, shape,
                    ds->facts.size);
    }
    if (layout == H5D_CONTIGUOUS) {
        rc = check_within_file(f, s, leaf, dset, bytes, err);
    }
done:
    return rc;
}

/* A virtual dataset's source dataset, checked as any dataset is. */
static int
check_source(struct ms_file *f, const struct ms_sample_name *s,
             const char *what, hid_t dset, struct ms_error *err)
{
    int rc = 0;
    struct ms_dataset_shape ds = {.id = dset, .type = -1, .dcpl = -1};
    describe(f, &ds, -1);
    int shape_rc = dataset_shape(dset, &ds.facts, &ds.rank, ds.dims);
    if (shape_rc != 0 || ds.rank < 1 || ds.rank > 3) {
        SAMPLE_FAIL(MS_ELAYOUT, "%s%s/%s: its shape cannot be read",
                    f->prefix, s->name, what);
    }
    for (int d = 0; d < ds.rank; d++) {
        if (ds.dims[d] == 0) {
            goto done; /* no values: nothing to check */
        }
    }
    rc = ms__dataset_check_storage(f, s, what, &ds, err);
done:
    ds.id = -1; /* (the caller's) */
    ms__dataset_shape_close(&ds);
    return rc;
}

bool
ms__dataset_float32(const struct ms_dataset_shape *ds, bool *native)
{
    *native = ds->facts.native_float;
    return ds->facts.float32;
}

uint64_t
ms__dataset_direct_offset(struct ms_file *f, const struct ms_dataset_shape *ds,
                          bool native, int *fd)
{
    uint64_t at = MS_NO_DIRECT_READ;
    *fd = -1;
    if (f->direct && native && ds->layout == H5D_CONTIGUOUS &&
        ds->nfilters == 0 && ds->nexternal == 0) {
        *fd = ds->offset == HADDR_UNDEF ? -1
              : ds->here ? ms__source_fd_known(f, ds->id, ds->fileno)
                         : ms__source_fd(f, ds->id);
        at = *fd >= 0 ? ds->offset : MS_NO_DIRECT_READ;
    }
    return at;
}
