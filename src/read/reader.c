/*
 * reader.c: the data of a sample read: its edge list, validated, and the
 * feature rows of chosen timesteps.
 *
 * Rows come by the fastest path the sample allows (sample_check.c decided,
 * once per sample, when the sample was checked): pread outside HDF5's
 * lock for contiguous native float32 (direct_read.c), chunk by chunk with
 * decoding in the worker for float32 whose filters codecs.c undoes
 * (chunk_read.c), and H5Dread, which converts, for everything else.
 * Every path gives the same values.
 * Debian's HDF5 is thread-safe behind one global lock, so these functions
 * run on worker threads; HDF5's error printing is per thread, so each entry
 * point turns it off for its caller.  Failures name the file, the sample
 * and the dataset.  It never writes.
 */
#include "read/hdf5_file.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EDGE_READ_BLOCK MS_EDGE_READ_BLOCK

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
    struct ms_direct_source src = {shape->direct_fd, f->path, s, shape};
    return ms__direct_read_slots(&src, sl, buf, err);
}

/* Edges [e0, e0 + n) of mesh_edge through H5Dread into block. */
static int
read_edge_block_hdf5(hid_t dset, hid_t fspace, size_t e0, size_t n,
                     int64_t *block)
{
    hsize_t start[2] = {0, e0}, dims[2] = {2, n};
    hid_t mspace = H5Screate_simple(2, dims, NULL);
    bool ok = fspace >= 0 && mspace >= 0 &&
              H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, dims,
                                  NULL) >= 0 &&
              H5Dread(dset, H5T_NATIVE_INT64, mspace, fspace, H5P_DEFAULT,
                      block) >= 0;
    /* Closing clears HDF5's error stack: keep what says why it failed. */
    hid_t why = ok ? -1 : H5Eget_current_stack();
    if (mspace >= 0) {
        H5Sclose(mspace);
    }
    if (why >= 0) {
        H5Eset_current_stack(why);
    }
    return ok ? 0 : -1;
}

/* MESHSTATS_VERIFY_READS: a directly read edge block against H5Dread's
 * (0, -1 if that read fails, or -2 - k for the first index k that
 * differs). */
static int
verify_edge_block(hid_t dset, hid_t fspace, size_t e0, size_t n,
                  const int64_t *block)
{
    int64_t *ref = ms__malloc(2 * n * sizeof(*ref));
    int rc = ref == NULL ? ENOMEM
                         : read_edge_block_hdf5(dset, fspace, e0, n, ref);
    for (size_t k = 0; rc == 0 && k < 2 * n; k++) {
        rc = block[k] == ref[k] ? 0 : -2 - (int)(k % n);
    }
    ms__free(ref);
    return rc;
}

/* Edges [e0, e0 + n) of mesh_edge (rows from and to) into block (from's
 * n indices, then to's) as int64: with pread when the dataset is
 * contiguous native int64 or int32, else with H5Dread.  0, an errno, -1
 * for HDF5's failure, or below -1 for a verified read that differs. */
static int
read_edge_block(struct ms_file *f, const struct ms_sample_shape *shape,
                hid_t dset, hid_t fspace, size_t e0, size_t n, int64_t *block)
{
    size_t elem = shape->edge_elem;
    if (shape->edge_offset != MS_NO_DIRECT_READ && !atomic_load(&force_hdf5)) {
        for (size_t r = 0; r < 2; r++) {
            /* int32 lands in the upper half of the row's room, to be
             * widened in place from the front. */
            int64_t *row = block + r * n;
            void *dst = elem == 8 ? (void *)row : (void *)((int32_t *)row + n);
            uint64_t at = shape->edge_offset + (r * shape->E + e0) * elem;
            int e = ms__pread_bytes(shape->edge_fd, at, n * elem, dst);
            if (e != 0) {
                return e;
            }
            for (size_t k = 0; elem == 4 && k < n; k++) {
                int32_t v; /* stored at or after row[k]: read before */
                memcpy(&v, (int32_t *)row + n + k, sizeof(v));
                row[k] = v;
            }
        }
        return ms__verify_reads()
                   ? verify_edge_block(dset, fspace, e0, n, block)
                   : 0;
    }
    return read_edge_block_hdf5(dset, fspace, e0, n, block);
}

/* The n edges of block (from's indices, then to's) checked against
 * [0, N) and stored at from + at and to + at (if from is not NULL): the
 * first bad edge's place, or n. */
static size_t
take_edges(const int64_t *block, size_t n, size_t N, uint32_t *from,
           uint32_t *to, size_t at)
{
    for (size_t k = 0; k < n; k++) {
        int64_t i = block[k], j = block[n + k];
        if (i < 0 || j < 0 || (uint64_t)i >= N || (uint64_t)j >= N) {
            return k;
        }
        if (from != NULL) {
            from[at + k] = (uint32_t)i;
            to[at + k] = (uint32_t)j;
        }
    }
    return n;
}

/* mesh_edge opened, unless it is read with pread only: then nothing of
 * HDF5 is needed (nor its lock); *dset and *fspace stay -1. */
static int
open_edges(struct ms_file *f, const struct ms_sample_name *s,
           const struct ms_sample_shape *shape, hid_t *dset, hid_t *fspace,
           struct ms_error *err)
{
    if (shape->edge_offset != MS_NO_DIRECT_READ && !atomic_load(&force_hdf5) &&
        !ms__verify_reads()) {
        return 0;
    }
    ms__hdf5_quiet();
    int rc = ms__sample_dataset_read_open(f, s, "mesh_edge", dset, err);
    if (rc == 0) {
        *fspace = H5Dget_space(*dset);
    }
    return rc;
}

/* An edge's node index as read: HDF5 converts a stored unsigned index
 * of 2^63 or more to the largest int64, which is then not its value. */
static const char *
index_text(int64_t v, char *buf, size_t size)
{
    snprintf(buf, size, v == INT64_MAX ? "%lld or more" : "%lld",
             (long long)v);
    return buf;
}

int
ms__sample_read_edges(struct ms_file *f, const struct ms_sample_name *s,
                      const struct ms_sample_shape *shape, size_t first,
                      size_t count, uint32_t *from, uint32_t *to,
                      struct ms_error *err)
{
    hid_t dset = -1, fspace = -1;
    int rc = open_edges(f, s, shape, &dset, &fspace, err);
    if (rc != 0) {
        return rc;
    }
    size_t end = first + count;
    size_t room = count < EDGE_READ_BLOCK ? count : EDGE_READ_BLOCK;
    int64_t *block = ms__malloc((2 * room + 1) * sizeof(*block));
    if (block == NULL) {
        SAMPLE_FAIL(MS_ENOMEM, "data/%s/mesh_edge: out of memory", s->name);
    }
    for (size_t e0 = first; e0 < end; e0 += EDGE_READ_BLOCK) {
        size_t n = end - e0 < EDGE_READ_BLOCK ? end - e0 : EDGE_READ_BLOCK;
        int e = read_edge_block(f, shape, dset, fspace, e0, n, block);
        if (e < -1) {
            char what[96];
            snprintf(what, sizeof(what), "data/%s/mesh_edge", s->name);
            rc = ms__verify_failed(err, f->path, s, what,
                                   e0 + (size_t)(-2 - e));
            goto done;
        }
        if (e != 0) {
            char msg[256];
            if (e > 0) {
                snprintf(msg, sizeof(msg), "%s", strerror(e));
            } else {
                ms__hdf5_last_error(msg, sizeof(msg));
            }
            SAMPLE_FAIL(MS_EIO,
                        "data/%s/mesh_edge: read failed at edge %zu: %s",
                        s->name, e0, msg);
        }
        size_t k = take_edges(block, n, shape->N, from, to, e0 - first);
        if (k < n) {
            char a[48], b[48];
            SAMPLE_FAIL(MS_ERANGE,
                        "data/%s/mesh_edge: edge %zu = (%s, %s) has a "
                        "node index outside [0, %zu)",
                        s->name, e0 + k, index_text(block[k], a, sizeof(a)),
                        index_text(block[n + k], b, sizeof(b)), shape->N);
        }
    }
done:
    if (fspace >= 0) {
        H5Sclose(fspace);
    }
    ms__free(block);
    if (dset >= 0) {
        H5Dclose(dset);
    }
    return rc;
}

/* Select rows [0, nrows) x the listed timesteps x the list's nodes, one
 * hyperslab per run of consecutive timesteps. */
static herr_t
select_slots(hid_t fspace, const struct ms_slot_list *sl)
{
    size_t i = 0;
    while (i < sl->n) {
        size_t run = 1;
        while (i + run < sl->n && sl->t[i + run] == sl->t[i] + run) {
            run++;
        }
        hsize_t start[3] = {0, sl->t[i], sl->first};
        hsize_t count[3] = {sl->nrows, run, sl->count};
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
                const struct ms_sample_shape *shape,
                const struct ms_slot_list *sl, void *buf, struct ms_error *err)
{
    hid_t dset, fspace = -1, mspace = -1;
    int rc = ms__sample_dataset_read_open(f, s, "nodal_data", &dset, err);
    if (rc != 0) {
        return rc;
    }
    const size_t *slots = sl->t;
    size_t nslots = sl->n;
    hsize_t mdims[3] = {sl->nrows, nslots, sl->count};
    fspace = H5Dget_space(dset);
    mspace = H5Screate_simple(3, mdims, NULL);
    if (fspace < 0 || mspace < 0 || select_slots(fspace, sl) < 0 ||
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

/* MESHSTATS_VERIFY_READS: the rows a fast path read into buf (float) read
 * again through H5Dread and compared bit for bit (read_verify.c). */
static int
verify_slots(struct ms_file *f, const struct ms_sample_name *s,
             const struct ms_sample_shape *shape,
             const struct ms_slot_list *sl, const float *buf,
             struct ms_error *err)
{
    size_t n = sl->count;
    float *ref = ms__calloc(sl->nrows * sl->n * n, sizeof(float));
    if (ref == NULL) {
        return ms__error_set(err, MS_ENOMEM, "%s: out of memory", f->path);
    }
    int rc = read_slots_hdf5(f, s, shape, sl, ref, err);
    for (size_t row = 0; rc == 0 && row < sl->nrows; row++) {
        for (size_t i = 0; rc == 0 && i < sl->n; i++) {
            size_t at = (row * sl->n + i) * n;
            if (ms__slot_needs_row(sl, i, row) &&
                memcmp(buf + at, ref + at, n * sizeof(float)) != 0) {
                char what[96];
                snprintf(what, sizeof(what), "data/%s/nodal_data", s->name);
                rc = ms__verify_failed(err, f->path, s, what,
                                       (row * shape->T + sl->t[i]) *
                                               shape->N + sl->first);
            }
        }
    }
    ms__free(ref);
    return rc;
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
        rc = ms__read_slots_chunked(f, s, shape, sl, buf, rs, err);
    } else {
        fast = false;
        ms__hdf5_quiet();
        rc = read_slots_hdf5(f, s, shape, sl, buf, err);
    }
    if (rc == 0 && fast && ms__verify_reads()) {
        rc = verify_slots(f, s, shape, sl, buf, err);
    }
    ms__throttle_reads(&start, sl->nrows * sl->n * sl->count * shape->elem_size,
                       rs->throttle);
    return rc;
}
