/*
 * chunk_decode.c: HDF5's deflate and shuffle filters undone in a worker,
 * outside HDF5's global lock.
 *
 * reader.c fetches a chunk's stored bytes with H5Dread_chunk (a few
 * microseconds under the lock); this file turns them back into the chunk's
 * values, so that decompression runs on every worker at once.  The filters
 * are applied on write in the order shuffle, then deflate; they are undone
 * in reverse.  A bit set in filter_mask means HDF5 skipped that filter for
 * this chunk (it stores a chunk raw when compressing would not shrink it).
 * No HDF5 calls, no allocation: the caller owns every buffer.
 */
#include "internal.h"

#include <string.h>
#include <zlib.h>

/* HDF5's shuffle stored byte j of element i at j * count + i. */
static void
unshuffle(const unsigned char *in, unsigned char *out, size_t bytes,
          size_t elem)
{
    size_t count = bytes / elem;
    for (size_t j = 0; j < elem; j++) {
        const unsigned char *plane = in + j * count;
        for (size_t i = 0; i < count; i++) {
            out[i * elem + j] = plane[i];
        }
    }
    /* Bytes that do not make a whole element are stored as they were. */
    memcpy(out + count * elem, in + count * elem, bytes - count * elem);
}

int
ms__chunk_decode(const struct ms_chunk_filters *filters, uint32_t filter_mask,
                 const unsigned char *raw, size_t raw_bytes, unsigned char *out,
                 size_t chunk_bytes, unsigned char *tmp)
{
    bool deflate = filters->deflate && !(filter_mask & (1u << filters->deflate_index));
    bool shuffle = filters->shuffle && !(filter_mask & (1u << filters->shuffle_index));
    const unsigned char *data = raw;
    size_t size = raw_bytes;
    if (deflate) {
        unsigned char *dst = shuffle ? tmp : out;
        uLongf produced = (uLongf)chunk_bytes;
        int zrc = uncompress(dst, &produced, raw, (uLong)raw_bytes);
        if (zrc != Z_OK) {
            return zrc == Z_MEM_ERROR ? MS_ENOMEM : MS_EIO;
        }
        data = dst;
        size = (size_t)produced;
    }
    if (size != chunk_bytes) {
        return MS_EIO; /* a corrupt or truncated chunk */
    }
    if (shuffle) {
        unshuffle(data, out, size, filters->elem_size);
    } else if (data != out) {
        memcpy(out, data, size);
    }
    return 0;
}
