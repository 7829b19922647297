/*
 * reader.c: every HDF5 call made while reading a dataset.
 *
 * It opens the file read-only, lists the samples, checks each sample's
 * datasets against the layout of SPEC section 1, reads and validates edge
 * lists, and reads the feature rows of chosen timesteps.  HDF5 statuses are
 * translated here into MS_E* codes and sentences that name the file, the
 * sample id and the dataset path; HDF5's own automatic error printing is
 * turned off and its innermost message is quoted instead.  It never writes.
 *
 * Debian's HDF5 is thread-safe behind one global lock, so these functions
 * may be called from worker threads, but H5Dread calls run one at a time.
 * Where nodal_data is contiguous, unfiltered and stored as native float32,
 * its bytes are read with pread at H5Dget_offset instead, outside the lock,
 * so reads from several workers really run in parallel; the checks that
 * allow it are made once per sample, on the calling thread.  The
 * error-printing switch is per thread, so every entry point turns it off
 * for its caller.
 */
#include "internal.h"

#include <hdf5.h>

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define EDGE_READ_BLOCK 65536
#define MAX_ID_DIGITS 18

struct ms_file {
    hid_t id;
    char *path;
    int fd;          /* for direct reads; -1 if they are off */
};

static atomic_bool force_hdf5;

void
ms__reader_force_hdf5(bool force)
{
    atomic_store(&force_hdf5, force);
}

/* The direct path (direct_read.c) needs only the descriptor and the path. */
static int
direct_read_slots(struct ms_file *f, const struct ms_sample_name *s,
                  const struct ms_sample_shape *shape,
                  const struct ms_slot_list *sl, float *buf,
                  struct ms_error *err)
{
    struct ms_direct_source src = {f->fd, f->path, s, shape};
    return ms__direct_read_slots(&src, sl, buf, err);
}

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

/* A descriptor for direct reads, or -1 when they cannot be used: a
 * userblock shifts HDF5's addresses, and MESHSTATS_NO_PREAD=1 turns them
 * off by hand. */
static int
direct_read_fd(hid_t file, const char *path)
{
    const char *off = getenv("MESHSTATS_NO_PREAD");
    if (off != NULL && strcmp(off, "1") == 0) {
        return -1;
    }
    hid_t fcpl = H5Fget_create_plist(file);
    hsize_t userblock = 1;
    if (fcpl >= 0) {
        H5Pget_userblock(fcpl, &userblock);
        H5Pclose(fcpl);
    }
    if (userblock != 0) {
        return -1;
    }
    return open(path, O_RDONLY | O_CLOEXEC);
}

int
ms__file_open(const char *path, struct ms_file **out, struct ms_error *err)
{
    ms__hdf5_quiet();
    *out = NULL;
    struct stat st;
    if (stat(path, &st) != 0) {
        int code = errno == EACCES ? MS_EACCES : MS_ENOENT;
        return ms__error_set(err, code, "%s: cannot open: %s", path,
                             strerror(errno));
    }
    if (S_ISDIR(st.st_mode)) {
        return ms__error_set(err, MS_ENOENT,
                             "%s: is a directory, not an HDF5 dataset file",
                             path);
    }
    if (access(path, R_OK) != 0) {
        return ms__error_set(err, MS_EACCES, "%s: cannot read: %s", path,
                             strerror(errno));
    }
    htri_t is_hdf5 = H5Fis_hdf5(path);
    if (is_hdf5 <= 0) {
        return ms__error_set(err, MS_ENOTHDF5,
                             "%s: not an HDF5 file (no HDF5 signature found)",
                             path);
    }
    struct ms_file *f = ms__calloc(1, sizeof(*f));
    if (f == NULL) {
        goto fail_alloc;
    }
    f->path = ms__strdup(path);
    if (f->path == NULL) {
        goto fail_path;
    }
    f->fd = -1;
    f->id = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f->id < 0) {
        char msg[256];
        ms__hdf5_last_error(msg, sizeof(msg));
        ms__free(f->path);
        ms__free(f);
        return ms__error_set(
            err, MS_EIO, "%s: cannot open with HDF5: %s%s", path, msg,
            strstr(msg, "lock") == NULL
                ? ""
                : ". Another program has it open for writing; wait for it "
                  "or close it. If the file system does not support "
                  "locking, set HDF5_USE_FILE_LOCKING=FALSE");
    }
    f->fd = direct_read_fd(f->id, path);
    *out = f;
    return 0;

fail_path:
    ms__free(f);
fail_alloc:
    return ms__error_set(err, MS_ENOMEM, "%s: out of memory", path);
}

void
ms__file_close(struct ms_file *f)
{
    if (f == NULL) {
        return;
    }
    ms__hdf5_quiet();
    H5Fclose(f->id);
    if (f->fd >= 0) {
        close(f->fd);
    }
    ms__free(f->path);
    ms__free(f);
}

/* ------------------------------------------------------------------ */
/* Listing samples. */

struct listing {
    struct ms_sample_name *names;
    size_t count, cap;
    ms_warning_fn warn;
    void *userdata;
    const char *path;
    int rc;
};

/* A sample id is a non-empty run of decimal digits (at most 18 of them,
 * after leading zeros, so it fits an int64). */
static bool
parse_sample_id(const char *name, int64_t *id)
{
    size_t len = strlen(name);
    if (len == 0 || len > 64) {
        return false;
    }
    int64_t value = 0;
    size_t digits = 0;
    for (size_t i = 0; i < len; i++) {
        if (name[i] < '0' || name[i] > '9') {
            return false;
        }
        if (value != 0 || name[i] != '0') {
            digits++;
        }
        if (digits > MAX_ID_DIGITS) {
            return false;
        }
        value = value * 10 + (name[i] - '0');
    }
    *id = value;
    return true;
}

static herr_t
collect_name(hid_t group, const char *name, const H5L_info_t *info,
             void *data)
{
    (void)group;
    (void)info;
    struct listing *l = data;
    int64_t id;
    if (!parse_sample_id(name, &id)) {
        if (l->warn != NULL) {
            char msg[512];
            snprintf(msg, sizeof(msg),
                     "%s: data/%s: group name is not a sample id (a decimal "
                     "integer); skipped",
                     l->path, name);
            l->warn(l->userdata, -1, msg);
        }
        return 0;
    }
    if (l->count == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        void *grown = ms__reallocarray(l->names, cap, sizeof(*l->names));
        if (grown == NULL) {
            l->rc = MS_ENOMEM;
            return -1;
        }
        l->names = grown;
        l->cap = cap;
    }
    char *copy = ms__strdup(name);
    if (copy == NULL) {
        l->rc = MS_ENOMEM;
        return -1;
    }
    l->names[l->count++] = (struct ms_sample_name){id, copy};
    return 0;
}

static int
compare_names(const void *a, const void *b)
{
    const struct ms_sample_name *x = a, *y = b;
    if (x->id != y->id) {
        return x->id < y->id ? -1 : 1;
    }
    return strcmp(x->name, y->name);
}

void
ms__sample_names_free(struct ms_sample_name *names, size_t count)
{
    for (size_t i = 0; names != NULL && i < count; i++) {
        ms__free(names[i].name);
    }
    ms__free(names);
}

/* The HDF5 object type at path, or H5I_BADID if there is none. */
static H5I_type_t
object_type(hid_t loc, const char *path)
{
    if (H5Lexists(loc, path, H5P_DEFAULT) <= 0) {
        return H5I_BADID;
    }
    hid_t obj = H5Oopen(loc, path, H5P_DEFAULT);
    if (obj < 0) {
        return H5I_BADID;
    }
    H5I_type_t type = H5Iget_type(obj);
    H5Oclose(obj);
    return type;
}

int
ms__file_list_samples(struct ms_file *f, ms_warning_fn warn, void *userdata,
                      struct ms_sample_name **out, size_t *count,
                      struct ms_error *err)
{
    ms__hdf5_quiet();
    *out = NULL;
    *count = 0;
    if (object_type(f->id, "data") != H5I_GROUP) {
        return ms__error_set(err, MS_ELAYOUT,
                             "%s: no group 'data' (expected data/<id>/"
                             "nodal_data and data/<id>/mesh_edge)",
                             f->path);
    }
    hid_t group = H5Gopen2(f->id, "data", H5P_DEFAULT);
    if (group < 0) {
        char msg[256];
        ms__hdf5_last_error(msg, sizeof(msg));
        return ms__error_set(err, MS_EIO, "%s: data: cannot open group: %s",
                             f->path, msg);
    }
    struct listing l = {
        .warn = warn, .userdata = userdata, .path = f->path};
    hsize_t idx = 0;
    herr_t status = H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, &idx,
                               collect_name, &l);
    H5Gclose(group);
    if (l.rc != 0 || status < 0) {
        ms__sample_names_free(l.names, l.count);
        if (l.rc == MS_ENOMEM) {
            return ms__error_set(err, MS_ENOMEM, "%s: out of memory",
                                 f->path);
        }
        char msg[256];
        ms__hdf5_last_error(msg, sizeof(msg));
        return ms__error_set(err, MS_EIO, "%s: data: cannot list: %s",
                             f->path, msg);
    }
    if (l.count > 1) {
        qsort(l.names, l.count, sizeof(*l.names), compare_names);
    }
    *out = l.names;
    *count = l.count;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Checking a sample's layout. */

#define SAMPLE_FAIL(code, ...)                                               \
    do {                                                                     \
        char what_[640];                                                     \
        snprintf(what_, sizeof(what_), __VA_ARGS__);                         \
        rc = ms__error_set(err, (code), "%s: sample %lld: %s", f->path,     \
                           (long long)s->id, what_);                         \
        goto done;                                                           \
    } while (0)

/* Open data/<name>/<leaf> as a dataset, or explain why it cannot be. */
static int
open_dataset(struct ms_file *f, const struct ms_sample_name *s,
             const char *leaf, hid_t *out, struct ms_error *err)
{
    int rc = 0;
    char path[128];
    snprintf(path, sizeof(path), "data/%s/%s", s->name, leaf);
    *out = -1;
    H5I_type_t type = object_type(f->id, path);
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

/* The shape of data/<name>/<leaf>, or a sample failure explaining why it
 * cannot be read. */
static int
read_shape(struct ms_file *f, const struct ms_sample_name *s,
           const char *leaf, hid_t dset, H5T_class_t *cls, int *rank,
           hsize_t dims[3], struct ms_error *err)
{
    int rc = 0;
    size_t size = 0;
    switch (dataset_shape(dset, cls, rank, dims, &size)) {
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

/* A dataset must be written in full.  HDF5 returns the fill value for
 * storage never written: for a dataset never written at all, or for the
 * chunks an aborted export did not reach.  Those values would enter the
 * statistics as if a simulation had produced them (and a damaged file
 * declaring millions of unwritten timesteps would take minutes to read),
 * so the sample is refused instead.  So is a chunk shape larger than the
 * maximum dimensions, which HDF5 never creates and 1.10.8 reads past its
 * own buffers with.  The dims are non-zero. */
static int
check_storage(struct ms_file *f, const struct ms_sample_name *s,
              const char *leaf, hid_t dset, int rank, const hsize_t *dims,
              struct ms_error *err)
{
    int rc = 0;
    char shape[96];
    format_dims(shape, sizeof(shape), rank, dims);
    hsize_t bytes = H5Dget_storage_size(dset);
    if (bytes == 0) {
        SAMPLE_FAIL(MS_ELAYOUT,
                    "data/%s/%s: declared (%s) but never written: no data "
                    "is stored",
                    s->name, leaf, shape);
    }
    hid_t dcpl = H5Dget_create_plist(dset);
    hsize_t chunk[3];
    hsize_t expected = 1;
    hsize_t stored = 0;
    bool chunked = dcpl >= 0 && H5Pget_layout(dcpl) == H5D_CHUNKED &&
                   H5Pget_chunk(dcpl, rank, chunk) == rank;
    bool filtered = dcpl >= 0 && H5Pget_nfilters(dcpl) != 0;
    if (dcpl >= 0) {
        H5Pclose(dcpl);
    }
    if (!chunked) {
        return 0; /* contiguous and compact storage is written whole */
    }
    for (int i = 0; i < rank; i++) {
        hsize_t along = chunk[i] ? (dims[i] - 1) / chunk[i] + 1 : 1;
        expected = expected > UINT64_MAX / along ? UINT64_MAX
                                                 : expected * along;
    }
    hid_t space = H5Dget_space(dset); /* required, though unused */
    herr_t counted = space >= 0 ? H5Dget_num_chunks(dset, space, &stored)
                                : -1;
    hsize_t max[3];
    bool oversized = false; /* HDF5 refuses to create such a layout */
    if (space >= 0 && H5Sget_simple_extent_dims(space, NULL, max) == rank) {
        for (int i = 0; i < rank; i++) {
            oversized |= max[i] != H5S_UNLIMITED && chunk[i] > max[i];
        }
    }
    if (space >= 0) {
        H5Sclose(space);
    }
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
    /* Unfiltered chunks are stored at their full size, edge chunks too:
     * an index recording other sizes is damaged, and HDF5 1.10.8 reads
     * past its own buffers with it. */
    hid_t type = H5Dget_type(dset);
    size_t elem = type >= 0 ? H5Tget_size(type) : 0;
    if (type >= 0) {
        H5Tclose(type);
    }
    hsize_t chunk_bytes = elem;
    for (int i = 0; i < rank; i++) {
        chunk_bytes = chunk[i] && chunk_bytes > UINT64_MAX / chunk[i]
                          ? UINT64_MAX
                          : chunk_bytes * chunk[i];
    }
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

static int
check_nodal_data(struct ms_file *f, const struct ms_sample_name *s,
                 unsigned iv, unsigned ov, struct ms_sample_shape *shape,
                 struct ms_error *err)
{
    hid_t dset;
    int rc = open_dataset(f, s, "nodal_data", &dset, err);
    if (rc != 0) {
        return rc;
    }
    H5T_class_t cls;
    int rank = 0;
    hsize_t dims[3] = {0, 0, 0};
    unsigned need = MS_MIN_FEATURE_ROWS;
    need = 3 + iv > need ? 3 + iv : need;
    need = 3 + ov > need ? 3 + ov : need;
    rc = read_shape(f, s, "nodal_data", dset, &cls, &rank, dims, err);
    if (rc != 0) {
        goto done;
    }
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
    rc = check_storage(f, s, "nodal_data", dset, 3, dims, err);
    if (rc != 0) {
        goto done;
    }
    shape->F = (size_t)dims[0];
    shape->T = (size_t)dims[1];
    shape->N = (size_t)dims[2];
    stored_layout(f, dset, shape);
done:
    if (dset >= 0) {
        H5Dclose(dset);
    }
    return rc;
}

static int
check_mesh_edge(struct ms_file *f, const struct ms_sample_name *s,
                struct ms_sample_shape *shape, struct ms_error *err)
{
    hid_t dset;
    int rc = open_dataset(f, s, "mesh_edge", &dset, err);
    if (rc != 0) {
        return rc;
    }
    H5T_class_t cls;
    int rank = 0;
    hsize_t dims[3] = {0, 0, 0};
    rc = read_shape(f, s, "mesh_edge", dset, &cls, &rank, dims, err);
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
        rc = check_storage(f, s, "mesh_edge", dset, 2, dims, err);
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
    if (object_type(f->id, path) != H5I_GROUP) {
        SAMPLE_FAIL(MS_ELAYOUT, "%s: is not a group", path);
    }
    rc = check_nodal_data(f, s, input_var, output_var, shape, err);
    if (rc == 0) {
        rc = check_mesh_edge(f, s, shape, err);
    }
done:
    return rc;
}

/* ------------------------------------------------------------------ */
/* Reading. */

int
ms__sample_read_edges(struct ms_file *f, const struct ms_sample_name *s,
                      const struct ms_sample_shape *shape, uint32_t *edges,
                      struct ms_error *err)
{
    ms__hdf5_quiet();
    hid_t dset, fspace = -1, mspace = -1;
    int rc = open_dataset(f, s, "mesh_edge", &dset, err);
    if (rc != 0) {
        return rc;
    }
    size_t E = shape->E;
    int64_t *block = ms__malloc(2 * EDGE_READ_BLOCK * sizeof(*block));
    if (block == NULL) {
        SAMPLE_FAIL(MS_ENOMEM, "data/%s/mesh_edge: out of memory", s->name);
    }
    fspace = H5Dget_space(dset);
    for (size_t e0 = 0; e0 < E; e0 += EDGE_READ_BLOCK) {
        size_t n = E - e0 < EDGE_READ_BLOCK ? E - e0 : EDGE_READ_BLOCK;
        hsize_t start[2] = {0, e0}, count[2] = {2, n};
        mspace = H5Screate_simple(2, count, NULL);
        if (fspace < 0 || mspace < 0 ||
            H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count,
                                NULL) < 0 ||
            H5Dread(dset, H5T_NATIVE_INT64, mspace, fspace, H5P_DEFAULT,
                    block) < 0) {
            char msg[256];
            ms__hdf5_last_error(msg, sizeof(msg));
            SAMPLE_FAIL(MS_EIO, "data/%s/mesh_edge: read failed at edge %zu: %s",
                        s->name, e0, msg);
        }
        H5Sclose(mspace);
        mspace = -1;
        for (size_t k = 0; k < n; k++) {
            int64_t i = block[k], j = block[n + k];
            if (i < 0 || j < 0 || (uint64_t)i >= shape->N ||
                (uint64_t)j >= shape->N) {
                SAMPLE_FAIL(MS_ERANGE,
                            "data/%s/mesh_edge: edge %zu = (%lld, %lld) has a "
                            "node index outside [0, %zu)",
                            s->name, e0 + k, (long long)i, (long long)j,
                            shape->N);
            }
            edges[e0 + k] = (uint32_t)i;
            edges[E + e0 + k] = (uint32_t)j;
        }
    }
done:
    if (mspace >= 0) {
        H5Sclose(mspace);
    }
    if (fspace >= 0) {
        H5Sclose(fspace);
    }
    ms__free(block);
    H5Dclose(dset);
    return rc;
}

/* Select rows [0, nrows) x the listed timesteps x all nodes, one hyperslab
 * per run of consecutive timesteps. */
static herr_t
select_slots(hid_t fspace, size_t nrows, const size_t *slots, size_t nslots,
             size_t N)
{
    size_t i = 0;
    while (i < nslots) {
        size_t run = 1;
        while (i + run < nslots && slots[i + run] == slots[i] + run) {
            run++;
        }
        hsize_t start[3] = {0, slots[i], 0};
        hsize_t count[3] = {nrows, run, N};
        H5S_seloper_t op = i == 0 ? H5S_SELECT_SET : H5S_SELECT_OR;
        if (H5Sselect_hyperslab(fspace, op, start, NULL, count, NULL) < 0) {
            return -1;
        }
        i += run;
    }
    return 0;
}

/* Read through HDF5: one H5Dread of the union of hyperslabs, converted to
 * double by the library (under its global lock). */
static int
read_slots_hdf5(struct ms_file *f, const struct ms_sample_name *s,
                const struct ms_sample_shape *shape, size_t nrows,
                const size_t *slots, size_t nslots, void *buf,
                struct ms_error *err)
{
    hid_t dset, fspace = -1, mspace = -1;
    int rc = open_dataset(f, s, "nodal_data", &dset, err);
    if (rc != 0) {
        return rc;
    }
    hsize_t mdims[3] = {nrows, nslots, shape->N};
    fspace = H5Dget_space(dset);
    mspace = H5Screate_simple(3, mdims, NULL);
    if (fspace < 0 || mspace < 0 ||
        select_slots(fspace, nrows, slots, nslots, shape->N) < 0 ||
        H5Dread(dset, shape->single ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE,
                mspace, fspace, H5P_DEFAULT, buf) < 0) {
        char msg[256];
        ms__hdf5_last_error(msg, sizeof(msg));
        SAMPLE_FAIL(MS_EIO,
                    "data/%s/nodal_data: read of timesteps %zu..%zu failed: %s",
                    s->name, slots[0], slots[nslots - 1], msg);
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

/* ------------------------------------------------------------------ */
/* Chunked data decoded by the workers. */

/* Fetch the stored bytes of the chunk at offset (the only HDF5 calls, a
 * few microseconds under the lock).  check_storage made sure every chunk
 * is stored: one that is not is an error, never the fill value. */
static int
fetch_chunk(hid_t dset, const hsize_t offset[3], size_t chunk_bytes,
            struct ms_read_scratch *rs, size_t *bytes, uint32_t *mask)
{
    hsize_t stored = 0;
    *bytes = 0;
    if (H5Dget_chunk_storage_size(dset, offset, &stored) < 0 || stored == 0) {
        return MS_EIO;
    }
    /* Deflate grows incompressible data by a few bytes per 16 KiB; a chunk
     * claiming far more than its values is damaged, not to be allocated. */
    if (stored > chunk_bytes + chunk_bytes / 8 + 1024) {
        return MS_EIO;
    }
    if (stored > rs->raw_cap) {
        void *grown = ms__reallocarray(rs->raw, stored, 1);
        if (grown == NULL) {
            return MS_ENOMEM;
        }
        rs->raw = grown;
        rs->raw_cap = stored;
    }
    if (H5Dread_chunk(dset, H5P_DEFAULT, offset, mask, rs->raw) < 0) {
        return MS_EIO;
    }
    *bytes = stored;
    return 0;
}

/* Copy what the slots need of one decoded chunk (at chunk origin o, of
 * dims c) into the block (float: decodable chunks are float32). */
static void
scatter_chunk(const float *chunk, const size_t o[3], const size_t c[3],
              const struct ms_slot_list *sl, size_t first, size_t last,
              size_t N, float *buf)
{
    size_t n_end = o[2] + c[2] < N ? o[2] + c[2] : N;
    size_t r_end = o[0] + c[0] < sl->nrows ? o[0] + c[0] : sl->nrows;
    for (size_t row = o[0]; row < r_end; row++) {
        for (size_t i = first; i < last; i++) {
            if (!ms__slot_needs_row(sl, i, row)) {
                continue;
            }
            const float *src =
                chunk + ((row - o[0]) * c[1] + (sl->t[i] - o[1])) * c[2];
            float *dst = buf + (row * sl->n + i) * N + o[2];
            memcpy(dst, src, (n_end - o[2]) * sizeof(float));
        }
    }
}

/* Whether any slot in [first, last) needs a row in [r0, r1). */
static bool
rows_needed(const struct ms_slot_list *sl, size_t first, size_t last,
            size_t r0, size_t r1)
{
    for (size_t i = first; i < last; i++) {
        for (size_t row = r0; row < r1 && row < sl->nrows; row++) {
            if (ms__slot_needs_row(sl, i, row)) {
                return true;
            }
        }
    }
    return false;
}

/* Read, decode and scatter every chunk that holds what one time chunk's
 * slots [first, last) need. */
static int
read_time_chunk(hid_t dset, const struct ms_sample_shape *shape,
                const struct ms_slot_list *sl, size_t first, size_t last,
                float *buf, struct ms_read_scratch *rs, size_t *where)
{
    const size_t *c = shape->chunk;
    size_t chunk_bytes = c[0] * c[1] * c[2] * sizeof(float);
    size_t t0 = sl->t[first] / c[1] * c[1];
    for (size_t f0 = 0; f0 < sl->nrows; f0 += c[0]) {
        if (!rows_needed(sl, first, last, f0, f0 + c[0])) {
            continue;
        }
        for (size_t n0 = 0; n0 < shape->N; n0 += c[2]) {
            hsize_t offset[3] = {f0, t0, n0};
            size_t o[3] = {f0, t0, n0}, bytes;
            uint32_t mask = 0;
            *where = t0;
            int rc = fetch_chunk(dset, offset, chunk_bytes, rs, &bytes, &mask);
            if (rc != 0) {
                return rc;
            }
            if (ms__chunk_decode(&shape->filters, mask, rs->raw, bytes,
                                        rs->chunk, chunk_bytes,
                                        rs->tmp) != 0) {
                return MS_EIO;
            }
            scatter_chunk((const float *)rs->chunk, o, c, sl, first, last,
                          shape->N, buf);
        }
    }
    return 0;
}

/* Read chunked data chunk by chunk: HDF5 only fetches the stored bytes;
 * inflating and unshuffling run here, in the worker, in parallel. */
static int
read_slots_chunked(struct ms_file *f, const struct ms_sample_name *s,
                   const struct ms_sample_shape *shape,
                   const struct ms_slot_list *sl, float *buf,
                   struct ms_read_scratch *rs, struct ms_error *err)
{
    hid_t dset;
    int rc = open_dataset(f, s, "nodal_data", &dset, err);
    if (rc != 0) {
        return rc;
    }
    size_t ct = shape->chunk[1], where = 0;
    for (size_t first = 0; rc == 0 && first < sl->n;) {
        size_t last = first + 1;
        while (last < sl->n && sl->t[last] / ct == sl->t[first] / ct) {
            last++;
        }
        rc = read_time_chunk(dset, shape, sl, first, last, buf, rs, &where);
        first = last;
    }
    H5Dclose(dset);
    if (rc == MS_ENOMEM) {
        return ms__error_set(err, rc, "%s: out of memory", f->path);
    }
    if (rc != 0) {
        char msg[256];
        ms__hdf5_last_error(msg, sizeof(msg));
        return ms__error_set(err, MS_EIO,
                             "%s: sample %lld: data/%s/nodal_data: the chunk "
                             "at timestep %zu cannot be read or decoded "
                             "(%s)",
                             f->path, (long long)s->id, s->name, where, msg);
    }
    return 0;
}

#ifdef MS_FAULT_INJECTION
/* Test hook, compiled out of release builds: MESHSTATS_FAULT_READ=N makes
 * the N-th read of the process fail as a damaged disk would. */
static bool
injected_fault(void)
{
    static atomic_long reads;
    const char *env = getenv("MESHSTATS_FAULT_READ");
    long n = env ? atol(env) : 0;
    return n > 0 && atomic_fetch_add(&reads, 1) + 1 == n;
}
#else
static bool
injected_fault(void)
{
    return false;
}
#endif

int
ms__sample_read_slots(struct ms_file *f, const struct ms_sample_name *s,
                      const struct ms_sample_shape *shape,
                      const struct ms_slot_list *sl, void *buf,
                      struct ms_read_scratch *rs, struct ms_error *err)
{
    ms__hdf5_quiet();
    if (injected_fault()) {
        return ms__error_set(err, MS_EIO,
                             "%s: sample %lld: data/%s/nodal_data: read of "
                             "timesteps %zu..%zu failed: injected fault "
                             "(MESHSTATS_FAULT_READ)",
                             f->path, (long long)s->id, s->name, sl->t[0],
                             sl->t[sl->n - 1]);
    }
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    int rc;
    bool fast = !atomic_load(&force_hdf5);
    if (fast && shape->direct_offset != MS_NO_DIRECT_READ) {
        rc = direct_read_slots(f, s, shape, sl, buf, err);
    } else if (fast && shape->chunk[0] != 0 && rs->chunk != NULL) {
        rc = read_slots_chunked(f, s, shape, sl, buf, rs, err);
    } else {
        rc = read_slots_hdf5(f, s, shape, sl->nrows, sl->t, sl->n, buf, err);
    }
    ms__throttle_reads(&start, sl->nrows * sl->n * shape->N *
                                   shape->elem_size);
    return rc;
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
    char where[320];
    snprintf(where, sizeof(where), "metadata/splits/%s", name);
    hid_t dset = -1, space = -1;
    if (strchr(name, '/') != NULL || strlen(name) > 200 ||
        object_type(f->id, where) != H5I_DATASET) {
        rc = ms__error_set(err, MS_ENOTFOUND,
                           "%s: no split '%s' (expected an integer dataset "
                           "at %s)",
                           path, name, where);
        goto done;
    }
    dset = H5Dopen2(f->id, where, H5P_DEFAULT);
    hid_t type = dset >= 0 ? H5Dget_type(dset) : -1;
    bool integer = type >= 0 && H5Tget_class(type) == H5T_INTEGER;
    if (type >= 0) {
        H5Tclose(type);
    }
    space = dset >= 0 ? H5Dget_space(dset) : -1;
    int rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    hssize_t n = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    if (!integer || rank < 0 || rank > 1 || n < 0 || n > (1 << 26)) {
        rc = ms__error_set(err, MS_ELAYOUT,
                           "%s: %s: expected a one-dimensional array of "
                           "integer sample ids",
                           path, where);
        goto done;
    }
    *ids = ms__calloc(n ? (size_t)n : 1, sizeof(**ids));
    if (*ids == NULL) {
        rc = ms__error_set(err, MS_ENOMEM, "out of memory");
        goto done;
    }
    if (n > 0 && H5Dread(dset, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL,
                         H5P_DEFAULT, *ids) < 0) {
        char msg[256];
        ms__hdf5_last_error(msg, sizeof(msg));
        rc = ms__error_set(err, MS_EIO, "%s: %s: cannot read: %s", path,
                           where, msg);
        goto done;
    }
    for (hssize_t i = 0; i < n; i++) {
        if ((*ids)[i] < 0) {
            rc = ms__error_set(err, MS_ELAYOUT,
                               "%s: %s: entry %lld is %lld, not a sample id",
                               path, where, (long long)i,
                               (long long)(*ids)[i]);
            goto done;
        }
    }
    *count = (size_t)n;
done:
    if (rc != 0) {
        ms__free(*ids);
        *ids = NULL;
    }
    if (space >= 0) {
        H5Sclose(space);
    }
    if (dset >= 0) {
        H5Dclose(dset);
    }
    ms__file_close(f);
    return rc;
}

void
ms__hdf5_version(char *buf, size_t size)
{
    unsigned major = 0, minor = 0, release = 0;
    H5get_libversion(&major, &minor, &release);
    snprintf(buf, size, "%u.%u.%u", major, minor, release);
}
