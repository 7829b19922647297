/*
 * chunk_read.c: chunked nodal_data read chunk by chunk, decoded by the
 * workers.
 *
 * For chunked native float32 whose filters codecs.c undoes (shuffles,
 * then deflate, LZF, Blosc, LZ4 or Zstandard; sample_check.c decides),
 * HDF5 only fetches each chunk's stored bytes (H5Dread_chunk, briefly
 * under its global lock); decoding runs here, in the worker, in
 * parallel (chunk_decode.c), and
 * the rows the slots need are copied into the unit's float block.  Every
 * chunk is stored (check_storage made sure): one that is not is an error,
 * never the fill value.
 */
#include "read/hdf5_file.h"

#include <string.h>

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
    /* Codecs grow incompressible data a little (deflate a few bytes per
     * 16 KiB; LZ4 in blocks of 16 bytes, the smallest seen, by a quarter):
     * a chunk claiming more than twice its values is damaged, not to be
     * allocated. */
    if (stored > 2 * (uint64_t)chunk_bytes + 4096) {
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
 * dims c) into the block of the list's nodes (float: decodable chunks are
 * float32). */
static void
scatter_chunk(const float *chunk, const size_t o[3], const size_t c[3],
              const struct ms_slot_list *sl, size_t first, size_t last,
              size_t N, float *buf)
{
    size_t lo = o[2] > sl->first ? o[2] : sl->first;
    size_t hi = o[2] + c[2] < N ? o[2] + c[2] : N;
    hi = hi < sl->first + sl->count ? hi : sl->first + sl->count;
    size_t r_end = o[0] + c[0] < sl->nrows ? o[0] + c[0] : sl->nrows;
    for (size_t row = o[0]; row < r_end && lo < hi; row++) {
        for (size_t i = first; i < last; i++) {
            if (!ms__slot_needs_row(sl, i, row)) {
                continue;
            }
            const float *src = chunk +
                               ((row - o[0]) * c[1] + (sl->t[i] - o[1])) *
                                   c[2] +
                               (lo - o[2]);
            float *dst = buf + (row * sl->n + i) * sl->count +
                         (lo - sl->first);
            memcpy(dst, src, (hi - lo) * sizeof(float));
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
        size_t n_end = sl->first + sl->count;
        for (size_t n0 = sl->first / c[2] * c[2]; n0 < n_end; n0 += c[2]) {
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
int
ms__read_slots_chunked(struct ms_file *f, const struct ms_sample_name *s,
                   const struct ms_sample_shape *shape,
                   const struct ms_slot_list *sl, float *buf,
                   struct ms_read_scratch *rs, struct ms_error *err)
{
    hid_t dset;
    int rc = ms__sample_dataset_read_open(f, s, "nodal_data", &dset, err);
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

