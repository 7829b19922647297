/*
 * reader.c: every HDF5 call made while reading a dataset.
 *
 * It opens the file read-only, lists the samples, reads and validates edge
 * lists, and reads the feature rows of chosen timesteps (sample_check.c
 * checks each sample's datasets against the layout of SPEC section 1).  HDF5 statuses are
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
#include "hdf5_file.h"

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
ms__file_list_samples(struct ms_file *f, ms_warning_fn warn, void *userdata,
                      struct ms_sample_name **out, size_t *count,
                      struct ms_error *err)
{
    ms__hdf5_quiet();
    *out = NULL;
    *count = 0;
    if (ms__object_type(f->id, "data") != H5I_GROUP) {
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
/* A sample's datasets (their checks are in sample_check.c). */

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
    snprintf(path, sizeof(path), "data/%s/%s", s->name, leaf);
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

/* ------------------------------------------------------------------ */
/* Reading. */

int
ms__sample_read_edges(struct ms_file *f, const struct ms_sample_name *s,
                      const struct ms_sample_shape *shape, uint32_t *edges,
                      struct ms_error *err)
{
    ms__hdf5_quiet();
    hid_t dset, fspace = -1, mspace = -1;
    int rc = ms__sample_dataset_open(f, s, "mesh_edge", &dset, err);
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
    int rc = ms__sample_dataset_open(f, s, "nodal_data", &dset, err);
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
    int rc = ms__sample_dataset_open(f, s, "nodal_data", &dset, err);
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
    ms__throttle_reads(&start, sl->nrows * sl->n * shape->N * shape->elem_size,
                       rs->throttle);
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
        ms__object_type(f->id, where) != H5I_DATASET) {
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
