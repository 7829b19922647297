/*
 * trajectory_read.c: a trajectory's dynamic fields at a unit's frames.
 *
 * DeepMind's layout stores a field as (T, N, F): the frames of a run of
 * consecutive slots are one contiguous range per field, read with pread
 * outside HDF5's lock when the field is contiguous native float32
 * (trajectory_check.c decided), else with one H5Dread of the hyperslab.
 * The values are then transposed into the unit's block, one row per
 * component (struct ms_block), which is what the moment kernels and the
 * edge features read.  Failures name the file, the trajectory and the
 * field; it never writes.
 */
#include "read/hdf5_file.h"

#include <string.h>
#include <time.h>

/* Room for bytes in the worker's frames buffer. */
static int
frames_room(struct ms_read_scratch *rs, size_t bytes)
{
    if (bytes <= rs->frames_cap) {
        return 0;
    }
    unsigned char *grown = ms__malloc(bytes);
    if (grown == NULL) {
        return MS_ENOMEM;
    }
    ms__free(rs->frames);
    rs->frames = grown;
    rs->frames_cap = bytes;
    return 0;
}

/* MESHSTATS_VERIFY_READS: frames read directly (float) against H5Dread's
 * (read_verify.c). */
static int
verify_run(struct ms_file *f, const struct ms_sample_name *s,
           const struct ms_field_shape *fs, const hsize_t start[3],
           const hsize_t count[3], const float *got, struct ms_error *err)
{
    size_t n = (size_t)(count[0] * count[1] * count[2]);
    float *ref = ms__malloc(n * sizeof(float));
    if (ref == NULL) {
        return ms__error_set(err, MS_ENOMEM, "%s: out of memory", f->path);
    }
    int rc = ms__sample_read_frames(f, s, fs->leaf, start, count,
                                    H5T_NATIVE_FLOAT, ref, err);
    for (size_t k = 0; rc == 0 && k < n; k++) {
        if (memcmp(&got[k], &ref[k], sizeof(float)) != 0) {
            char what[96];
            snprintf(what, sizeof(what), "%s/%s", s->name, fs->leaf);
            rc = ms__verify_failed(err, f->path, s, what,
                                   (size_t)start[0] * fs->count * fs->F + k);
        }
    }
    ms__free(ref);
    return rc;
}

/* Frames [t0, t0 + run) of a field, every node and component, as stored
 * order (frame, node, component), into out as float or double. */
static int
read_run(struct ms_file *f, const struct ms_sample_name *s,
         const struct ms_field_shape *fs, bool single, size_t t0, size_t run,
         void *out, struct ms_error *err)
{
    size_t N = fs->count, F = fs->F;
    hsize_t start[3] = {t0, 0, 0}, count[3] = {run, N, F};
    if (single && fs->direct_offset != MS_NO_DIRECT_READ) {
        uint64_t at = fs->direct_offset + (uint64_t)t0 * N * F * sizeof(float);
        int e = ms__pread_floats(fs->direct_fd, at, run * N * F, out);
        if (e != 0) {
            return ms__error_set(err, MS_EIO,
                                 "%s: sample %lld: %s/%s: read of frames "
                                 "%zu..%zu failed: %s",
                                 f->path, (long long)s->id, s->name, fs->leaf,
                                 t0, t0 + run - 1, strerror(e));
        }
        return ms__verify_reads() ? verify_run(f, s, fs, start, count, out, err)
                                  : 0;
    }
    return ms__sample_read_frames(f, s, fs->leaf, start, count,
                                  single ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE,
                                  out, err);
}

/* Components [0, comps) of run frames as read (frame, node, component)
 * into rows row0.. of the block, at slots i0... */
static void
transpose(const void *in, size_t F, size_t comps, size_t run, size_t N,
          bool single, size_t row0, size_t i0, size_t nslots, void *buf)
{
    for (size_t c = 0; c < comps; c++) {
        for (size_t j = 0; j < run; j++) {
            size_t at = ((row0 + c) * nslots + i0 + j) * N;
            size_t from = j * N * F + c;
            if (single) {
                const float *src = (const float *)in + from;
                float *dst = (float *)buf + at;
                for (size_t n = 0; n < N; n++) {
                    dst[n] = src[n * F];
                }
            } else {
                const double *src = (const double *)in + from;
                double *dst = (double *)buf + at;
                for (size_t n = 0; n < N; n++) {
                    dst[n] = src[n * F];
                }
            }
        }
    }
}

int
ms__trajectory_read_frames(struct ms_file *f, const struct ms_sample_name *s,
                           const struct ms_sample_shape *shape,
                           const struct ms_model *m,
                           const struct ms_slot_list *sl, void *buf,
                           struct ms_read_scratch *rs, struct ms_error *err)
{
    ms__hdf5_quiet();
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    size_t N = shape->N, row0 = 0, bytes = 0;
    size_t elem = shape->single ? sizeof(float) : sizeof(double);
    for (size_t k = 0; k < m->ndynamic; k++) {
        const struct ms_field_shape *fs = &shape->field[m->dynamic[k].field];
        for (size_t i = 0; i < sl->n;) {
            size_t run = 1;
            while (i + run < sl->n && sl->t[i + run] == sl->t[i] + run) {
                run++;
            }
            if (frames_room(rs, run * N * fs->F * elem) != 0) {
                return ms__error_set(err, MS_ENOMEM, "%s: out of memory",
                                     f->path);
            }
            int rc = read_run(f, s, fs, shape->single, sl->t[i], run,
                              rs->frames, err);
            if (rc != 0) {
                return rc;
            }
            transpose(rs->frames, fs->F, m->dynamic[k].comps, run, N,
                      shape->single, row0, i, sl->n, buf);
            bytes += run * N * fs->F * fs->elem_size;
            i += run;
        }
        row0 += m->dynamic[k].comps;
    }
    ms__throttle_reads(&start, bytes, rs->throttle);
    return 0;
}
