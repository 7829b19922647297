/*
 * direct_read.c: nodal_data read without HDF5, for datasets whose bytes
 * are already what the workers need (contiguous, unfiltered, native
 * float32; sample_check.c decides, once per sample, on the calling
 * thread).
 *
 * Each row of each run of consecutive timesteps is one contiguous byte
 * range at H5Dget_offset + ((row * T + t) * N) * 4, read with pread
 * straight into the unit's float block: no copy, no conversion; the first
 * rows of a sample read whole, at every timestep and node, are one range.  No HDF5 call and no lock: reads from several workers
 * run in parallel.  It also holds the benchmark throttle that slows every
 * read down to a chosen rate.
 */
#include "read/read.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int
ms__pread_floats(int fd, uint64_t offset, size_t count, float *dst)
{
    return ms__pread_bytes(fd, offset, count * sizeof(float), dst);
}

int
ms__pread_bytes(int fd, uint64_t offset, size_t want, void *dst)
{
    size_t got = 0;
    while (got < want) {
        ssize_t r = pread(fd, (char *)dst + got, want - got,
                          (off_t)(offset + got));
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            return r == 0 ? EIO : errno;
        }
        got += (size_t)r;
    }
    return 0;
}

#ifdef MS_FAULT_INJECTION
/* Test hook, compiled out of release builds: MESHSTATS_FAULT_OFFSET=N
 * shifts every direct read of nodal_data by N bytes, the kind of mistake
 * MESHSTATS_VERIFY_READS is there to catch. */
static uint64_t
fault_offset(void)
{
    const char *env = getenv("MESHSTATS_FAULT_OFFSET");
    return env != NULL ? strtoull(env, NULL, 10) : 0;
}
#else
static uint64_t
fault_offset(void)
{
    return 0;
}
#endif

/* How many rows from row on the list needs at every timestep of a
 * sample it reads whole (every timestep, every node): one byte range in
 * the file, and in buf (row r at r x T x N in both); 0 if not so. */
static size_t
whole_rows(const struct ms_slot_list *sl, size_t T, size_t N, size_t row)
{
    if (sl->count != N || sl->n != T || sl->t[0] != 0 ||
        sl->t[sl->n - 1] != T - 1) {
        return 0; /* (t sorted and distinct: 0 .. T-1 is every one) */
    }
    size_t rows = 0;
    for (size_t r = row; r < sl->nrows; r++, rows++) {
        for (size_t i = 0; i < sl->n; i++) {
            if (!ms__slot_needs_row(sl, i, r)) {
                return rows;
            }
        }
    }
    return rows;
}

int
ms__direct_read_slots(const struct ms_direct_source *src,
                      const struct ms_slot_list *sl, float *buf,
                      struct ms_error *err)
{
    const struct ms_sample_name *s = src->sample;
    const struct ms_sample_shape *shape = src->shape;
    size_t T = shape->T, N = shape->N, n = sl->count;
    uint64_t shift = fault_offset();
    /* Rows read whole at every timestep are one range (a sample of a few
     * nodes is then one read, not one a row). */
    size_t row = 0, whole = whole_rows(sl, T, N, 0);
    if (whole > 0) {
        uint64_t at = shift + shape->direct_offset;
        int e = ms__pread_floats(src->fd, at, whole * T * N, buf);
        if (e != 0) {
            return ms__error_set(err, MS_EIO,
                                 "%s: sample %lld: data/%s/nodal_data: read "
                                 "of rows 0..%zu failed: %s",
                                 src->path, (long long)s->id, s->name,
                                 whole - 1, strerror(e));
        }
        row = whole;
    }
    /* For each other row, each run of consecutive timesteps that need it
     * is one contiguous byte range when the list covers every node (a run
     * of one timestep otherwise). */
    for (; row < sl->nrows; row++) {
        for (size_t i = 0; i < sl->n;) {
            if (!ms__slot_needs_row(sl, i, row)) {
                i++;
                continue;
            }
            size_t run = 1;
            while (n == N && i + run < sl->n &&
                   sl->t[i + run] == sl->t[i] + run &&
                   ms__slot_needs_row(sl, i + run, row)) {
                run++;
            }
            uint64_t at = shift + shape->direct_offset +
                          (((uint64_t)row * T + sl->t[i]) * N + sl->first) *
                              sizeof(float);
            float *dst = buf + (row * sl->n + i) * n;
            int e = ms__pread_floats(src->fd, at, run * n, dst);
            if (e != 0) {
                return ms__error_set(
                    err, MS_EIO,
                    "%s: sample %lld: data/%s/nodal_data: read of row %zu, "
                    "timesteps %zu..%zu failed: %s",
                    src->path, (long long)s->id, s->name, row, sl->t[i],
                    sl->t[i] + run - 1, strerror(e));
            }
            i += run;
        }
    }
    return 0;
}

void
ms__throttle_reads(const struct timespec *start, size_t bytes, uint64_t bps)
{
    if (bps == 0) {
        return;
    }
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double spent = (double)(now.tv_sec - start->tv_sec) +
                   1e-9 * (double)(now.tv_nsec - start->tv_nsec);
    double wait = (double)bytes / (double)bps - spent;
    if (wait > 0) {
        struct timespec d = {(time_t)wait,
                             (long)((wait - (double)(time_t)wait) * 1e9)};
        while (nanosleep(&d, &d) != 0 && errno == EINTR) {
        }
    }
}
