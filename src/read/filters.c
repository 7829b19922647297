/*
 * filters.c: the compression filters HDF5 needs to read what h5py users
 * write, and a clear word when one is missing.
 *
 * HDF5 finds a filter it was not built with as a plugin, in
 * HDF5_PLUGIN_PATH or its default folder.  Debian's hdf5-plugin-lzf does
 * not load (it leaves lzf_decompress undefined; bitshuffle's LZF plugin
 * does), and without Debian's plugin packages Blosc, LZ4 and Zstandard
 * are not there at all (no Debian package has a Zstandard plugin).  So
 * when a dataset needs one of LZF, Blosc, LZ4 and Zstandard and HDF5
 * cannot load it, meshstats registers the decoder of codecs.c as an HDF5
 * filter (decode only), once a process: H5Dread then reads it (mesh_edge,
 * float64 data, trajectory fields), while the workers decode float32
 * chunks themselves.  A filter HDF5 has from elsewhere (h5py registers
 * LZF; a plugin) is left as it is, so an embedding program keeps its own,
 * and nothing is registered in a process that never needed it.  For any
 * other filter a dataset needs and HDF5 cannot load, the sample's error
 * names it and what provides it.
 *
 * HDF5 1.10.8 copies a whole chunk out of what a filter returns, whatever
 * size the filter says it produced: a chunk that decodes short would be
 * read past its end.  So each thread records the chunk size of the
 * dataset it is about to read through HDF5 (ms__filters_expect, on every
 * open), and a decoder refuses any other size.
 */
#include "read/hdf5_file.h"

#include <stdio.h>
#include <string.h>

/* What provides a filter, by HDF5's registered id. */
static const struct known_filter {
    int id;
    const char *name;
    const char *provider;
} KNOWN[] = {
    {MS_FILTER_LZF, "LZF", "meshstats itself"},
    {MS_FILTER_BLOSC, "Blosc", "meshstats itself"},
    {MS_FILTER_LZ4, "LZ4", "meshstats itself"},
    {MS_FILTER_ZSTD, "Zstandard", "meshstats itself"},
    {307, "BZip2", "Debian's package hdf5-filter-plugin"},
    {32008, "Bitshuffle", "Debian's package bitshuffle"},
    {4, "SZIP", "an HDF5 built with szip (Debian's is)"},
    {32013, "ZFP", "the ZFP plugin (H5Z-ZFP), not packaged by Debian 12"},
    {32017, "SZ", "the SZ plugin, not packaged by Debian 12"},
    {32026, "Blosc2", "the Blosc2 plugin, not packaged by Debian 12"},
};

/* Chunks larger than this are not what HDF5 writes (its limit is 4 GiB):
 * a damaged header's size, never to be allocated. */
#define MAX_CHUNK_BYTES ((size_t)UINT32_MAX)

/* The bytes of a chunk of the dataset this thread reads through HDF5
 * (0: not known, a read that is not meshstats'). */
static _Thread_local size_t expected_chunk;

void
ms__filters_expect(hid_t dset)
{
    expected_chunk = 0;
    hid_t dcpl = H5Dget_create_plist(dset);
    hid_t type = H5Dget_type(dset);
    hsize_t dims[H5S_MAX_RANK];
    int rank = dcpl >= 0 && H5Pget_layout(dcpl) == H5D_CHUNKED
                   ? H5Pget_chunk(dcpl, H5S_MAX_RANK, dims)
                   : -1;
    size_t bytes = type >= 0 ? H5Tget_size(type) : 0;
    for (int d = 0; d < rank && bytes <= MAX_CHUNK_BYTES; d++) {
        bytes = dims[d] <= MAX_CHUNK_BYTES ? bytes * (size_t)dims[d]
                                           : MAX_CHUNK_BYTES + 1;
    }
    expected_chunk = rank > 0 && bytes <= MAX_CHUNK_BYTES ? bytes : 0;
    if (dcpl >= 0) {
        H5Pclose(dcpl);
    }
    if (type >= 0) {
        H5Tclose(type);
    }
}

/* HDF5's filter callback for codec id: decode only, into exactly the
 * dataset's chunk size when the thread knows it. */
static size_t
decode(int id, unsigned flags, size_t ncd, const unsigned cd[],
       size_t nbytes, size_t *buf_size, void **buf)
{
    size_t want = expected_chunk;
    if (!(flags & H5Z_FLAG_REVERSE) ||
        (want == 0 &&
         !ms__codec_decoded_size(id, *buf, nbytes, cd, ncd, &want)) ||
        want == 0 || want > MAX_CHUNK_BYTES) {
        return 0;
    }
    void *out = H5allocate_memory(want, false);
    if (out == NULL) {
        return 0;
    }
    if (ms__codec_decode(id, *buf, nbytes, out, want, 0) != 0) {
        H5free_memory(out);
        H5Epush2(H5E_DEFAULT, __FILE__, __func__, __LINE__, H5E_ERR_CLS,
                 H5E_PLINE, H5E_CANTFILTER,
                 "a chunk does not decode to its %zu bytes: damaged", want);
        return 0;
    }
    H5free_memory(*buf);
    *buf = out;
    *buf_size = want;
    return want;
}

#define DECODER(fn, id)                                                      \
    static size_t fn(unsigned flags, size_t ncd, const unsigned cd[],        \
                     size_t nbytes, size_t *buf_size, void **buf)            \
    {                                                                        \
        return decode(id, flags, ncd, cd, nbytes, buf_size, buf);            \
    }
DECODER(decode_lzf, MS_FILTER_LZF)
DECODER(decode_blosc, MS_FILTER_BLOSC)
DECODER(decode_lz4, MS_FILTER_LZ4)
DECODER(decode_zstd, MS_FILTER_ZSTD)

static const H5Z_class2_t CLASSES[] = {
    {H5Z_CLASS_T_VERS, MS_FILTER_LZF, 0, 1, "lzf (meshstats, decode only)",
     NULL, NULL, decode_lzf},
    {H5Z_CLASS_T_VERS, MS_FILTER_BLOSC, 0, 1,
     "blosc (meshstats, decode only)", NULL, NULL, decode_blosc},
    {H5Z_CLASS_T_VERS, MS_FILTER_LZ4, 0, 1, "lz4 (meshstats, decode only)",
     NULL, NULL, decode_lz4},
    {H5Z_CLASS_T_VERS, MS_FILTER_ZSTD, 0, 1, "zstd (meshstats, decode only)",
     NULL, NULL, decode_zstd},
};

/* Whether HDF5 can decode filter id now (registered, or a plugin that
 * loads). */
static bool
can_decode(H5Z_filter_t id)
{
    unsigned config = 0;
    return H5Zfilter_avail(id) > 0 && H5Zget_filter_info(id, &config) >= 0 &&
           (config & H5Z_FILTER_CONFIG_DECODE_ENABLED);
}

static uv_mutex_t registering;

static void
init_lock(void)
{
    uv_mutex_init(&registering);
}

/* Register meshstats' decoder of filter id, if it has one and HDF5 still
 * cannot decode it (another thread may just have): whether HDF5 now
 * can. */
static bool
register_decoder(H5Z_filter_t id)
{
    static uv_once_t once = UV_ONCE_INIT;
    uv_once(&once, init_lock);
    uv_mutex_lock(&registering);
    for (size_t i = 0; i < MS_ARRAY_SIZE(CLASSES); i++) {
        if (CLASSES[i].id == id && !can_decode(id)) {
            H5Zregister(&CLASSES[i]);
        }
    }
    uv_mutex_unlock(&registering);
    return can_decode(id);
}

int
ms__filters_check(struct ms_file *f, const struct ms_sample_name *s,
                  const char *leaf, hid_t dcpl, struct ms_error *err)
{
    int rc = 0;
    int n = H5Pget_nfilters(dcpl);
    for (int i = 0; i < n; i++) {
        unsigned flags, config, cd[8];
        size_t ncd = 8;
        char name[64] = "";
        H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &ncd, cd,
                                         sizeof(name), name, &config);
        if (id < 0 || can_decode(id) || register_decoder(id)) {
            H5Eclear2(H5E_DEFAULT); /* a plugin that failed to load */
            continue;
        }
        const struct known_filter *k = NULL;
        for (size_t j = 0; j < MS_ARRAY_SIZE(KNOWN); j++) {
            k = KNOWN[j].id == (int)id ? &KNOWN[j] : k;
        }
        H5Eclear2(H5E_DEFAULT);
        SAMPLE_FAIL(MS_ELAYOUT,
                    "%s%s/%s: is compressed with the filter %s (id %d), "
                    "which HDF5 cannot load here: it comes with %s; put its "
                    "plugin in HDF5's plugin folder or in one named by "
                    "HDF5_PLUGIN_PATH",
                    f->prefix, s->name, leaf,
                    k ? k->name : (name[0] ? name : "without a name"),
                    (int)id,
                    k ? k->provider : "no package meshstats knows of");
    }
done:
    return rc;
}
