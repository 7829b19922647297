/*
 * codecs.c: one filter of HDF5's chunk pipeline undone on a buffer, over
 * Debian's libraries: deflate (zlib), LZF (liblzf, h5py's
 * compression="lzf"), Blosc (libblosc), LZ4 in the framing of HDF5's LZ4
 * filter (liblz4) and Zstandard (libzstd), and HDF5's byte shuffle.
 *
 * Each turns in_bytes of stored bytes into exactly want bytes, or fails:
 * a chunk that decodes to any other size is damaged.  Every library call
 * here is reentrant (Blosc through its context interface, one thread), so
 * workers decode side by side (chunk_decode.c), and HDF5 calls the same
 * functions through the filters meshstats registers (filters.c).  No HDF5
 * calls; the caller owns the buffers (libzstd and libblosc make a small
 * context of their own a call).
 */
#include "read/read.h"

#include <blosc.h>
#include <liblzf/lzf.h>
#include <lz4.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

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

static uint64_t
big_endian(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        v = v << 8 | p[i];
    }
    return v;
}

/* HDF5's LZ4 filter: the decoded size (8 bytes, big-endian), the block
 * size (4), then each block as its stored size (4) and its bytes, stored
 * raw when LZ4 would not shrink it. */
static int
lz4_blocks(const unsigned char *in, size_t in_bytes, unsigned char *out,
           size_t want)
{
    if (in_bytes < 12 || big_endian(in, 8) != want) {
        return MS_EIO;
    }
    size_t block = (size_t)big_endian(in + 8, 4), at = 12, done = 0;
    if (block == 0 && want > 0) {
        return MS_EIO;
    }
    while (done < want) {
        size_t n = want - done < block ? want - done : block;
        if (in_bytes - at < 4) {
            return MS_EIO;
        }
        size_t stored = (size_t)big_endian(in + at, 4);
        at += 4;
        if (stored > in_bytes - at || stored > INT32_MAX || n > INT32_MAX) {
            return MS_EIO;
        }
        if (stored == n) {
            memcpy(out + done, in + at, n);
        } else if (LZ4_decompress_safe((const char *)in + at,
                                       (char *)out + done, (int)stored,
                                       (int)n) != (int)n) {
            return MS_EIO;
        }
        at += stored;
        done += n;
    }
    return 0;
}

static int
blosc_frame(const unsigned char *in, size_t in_bytes, unsigned char *out,
            size_t want)
{
    size_t nbytes = 0, cbytes = 0, blocksize = 0;
    if (in_bytes < BLOSC_MIN_HEADER_LENGTH ||
        blosc_cbuffer_validate(in, in_bytes, &nbytes) != 0 || nbytes != want) {
        return MS_EIO;
    }
    blosc_cbuffer_sizes(in, &nbytes, &cbytes, &blocksize);
    if (cbytes > in_bytes || want > INT32_MAX) {
        return MS_EIO;
    }
    return blosc_decompress_ctx(in, out, want, 1) == (int)want ? 0 : MS_EIO;
}

int
ms__codec_decode(int filter, const unsigned char *in, size_t in_bytes,
                 unsigned char *out, size_t want, size_t elem)
{
    switch (filter) {
    case MS_FILTER_SHUFFLE:
        if (in_bytes != want || elem == 0) {
            return MS_EIO;
        }
        unshuffle(in, out, want, elem);
        return 0;
    case MS_FILTER_DEFLATE: {
        uLongf produced = (uLongf)want;
        int zrc = uncompress(out, &produced, in, (uLong)in_bytes);
        if (zrc == Z_MEM_ERROR) {
            return MS_ENOMEM;
        }
        return zrc == Z_OK && produced == want ? 0 : MS_EIO;
    }
    case MS_FILTER_LZF:
        if (in_bytes > UINT32_MAX || want > UINT32_MAX) {
            return MS_EIO;
        }
        return lzf_decompress(in, (unsigned)in_bytes, out, (unsigned)want) ==
                       want
                   ? 0
                   : MS_EIO;
    case MS_FILTER_BLOSC:
        return blosc_frame(in, in_bytes, out, want);
    case MS_FILTER_LZ4:
        return lz4_blocks(in, in_bytes, out, want);
    case MS_FILTER_ZSTD: {
        size_t n = ZSTD_decompress(out, want, in, in_bytes);
        return !ZSTD_isError(n) && n == want ? 0 : MS_EIO;
    }
    default:
        return MS_EIO;
    }
}

bool
ms__codec_known(int filter)
{
    switch (filter) {
    case MS_FILTER_SHUFFLE:
    case MS_FILTER_DEFLATE:
    case MS_FILTER_LZF:
    case MS_FILTER_BLOSC:
    case MS_FILTER_LZ4:
    case MS_FILTER_ZSTD:
        return true;
    default:
        return false;
    }
}

bool
ms__codec_decoded_size(int filter, const unsigned char *in, size_t in_bytes,
                       const unsigned *cd, size_t ncd, size_t *want)
{
    size_t cbytes = 0, blocksize = 0;
    unsigned long long z;
    switch (filter) {
    case MS_FILTER_LZF: /* h5py and PyTables store the chunk's size */
        *want = ncd >= 3 ? cd[2] : 0;
        return *want != 0;
    case MS_FILTER_BLOSC:
        if (in_bytes < BLOSC_MIN_HEADER_LENGTH ||
            blosc_cbuffer_validate(in, in_bytes, want) != 0) {
            return false;
        }
        blosc_cbuffer_sizes(in, want, &cbytes, &blocksize);
        return true;
    case MS_FILTER_LZ4:
        *want = in_bytes >= 12 ? (size_t)big_endian(in, 8) : 0;
        return in_bytes >= 12;
    case MS_FILTER_ZSTD:
        z = ZSTD_getFrameContentSize(in, in_bytes);
        *want = (size_t)z;
        return z != ZSTD_CONTENTSIZE_ERROR && z != ZSTD_CONTENTSIZE_UNKNOWN &&
               z <= SIZE_MAX;
    default:
        return false;
    }
}
