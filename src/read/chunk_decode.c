/*
 * chunk_decode.c: a chunk's filter pipeline undone in a worker, outside
 * HDF5's global lock.
 *
 * reader.c fetches a chunk's stored bytes with H5Dread_chunk (a few
 * microseconds under the lock); this file turns them back into the chunk's
 * values, filter by filter in the reverse of the order HDF5 applied them
 * (codecs.c undoes each), so that decompression runs on every worker at
 * once.  A bit set in filter_mask means HDF5 skipped that filter for this
 * chunk (it stores a chunk raw when compressing would not shrink it).
 * No HDF5 calls, no allocation: the caller owns every buffer.
 */
#include "read/read.h"

#include <string.h>

int
ms__chunk_decode(const struct ms_chunk_filters *filters, uint32_t filter_mask,
                 const unsigned char *raw, size_t raw_bytes, unsigned char *out,
                 size_t chunk_bytes, unsigned char *tmp)
{
    size_t steps = 0;
    for (size_t i = 0; i < filters->count; i++) {
        steps += !(filter_mask & (1u << i));
    }
    const unsigned char *data = raw;
    size_t size = raw_bytes;
    /* Steps alternate between out and tmp so that the last lands in out. */
    for (size_t i = filters->count; i-- > 0;) {
        if (filter_mask & (1u << i)) {
            continue;
        }
        unsigned char *dst = --steps % 2 == 0 ? out : tmp;
        int rc = ms__codec_decode(filters->id[i], data, size, dst,
                                  chunk_bytes, filters->elem_size);
        if (rc != 0) {
            return rc;
        }
        data = dst;
        size = chunk_bytes;
    }
    if (size != chunk_bytes) {
        return MS_EIO; /* a chunk stored raw, of the wrong size */
    }
    if (data != out) {
        memcpy(out, data, size);
    }
    return 0;
}
