/*
 * filters.c: the compression filters HDF5 needs to read what h5py users
 * write, and a clear word when one is missing.
 *
 * HDF5 finds a filter it was not built with as a plugin, in
 * HDF5_PLUGIN_PATH or its default folder; Debian's LZF plugin does not
 * load (it leaves lzf_decompress undefined), and without Debian's plugin
 * packages Blosc, LZ4 and Zstandard are not there at all.  So meshstats
 * registers the decoders of codecs.c as HDF5 filters (decode only), once
 * a process, for each of LZF, Blosc, LZ4 and Zstandard that HDF5 cannot
 * already load: H5Dread then reads them (mesh_edge, float64 data), while
 * the workers decode float32 chunks themselves.  A filter HDF5 has from
 * elsewhere (h5py registers LZF; a plugin) is left as it is, so an
 * embedding program keeps its own.  For any other filter a dataset needs
 * and HDF5 cannot load, the sample's error names it and what provides it.
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

/* HDF5's filter callback for codec id: decode only. */
static size_t
decode(int id, unsigned flags, size_t ncd, const unsigned cd[],
       size_t nbytes, size_t *buf_size, void **buf)
{
    size_t want = 0;
    if (!(flags & H5Z_FLAG_REVERSE) ||
        !ms__codec_decoded_size(id, *buf, nbytes, cd, ncd, &want) ||
        want == 0) {
        return 0;
    }
    void *out = H5allocate_memory(want, false);
    if (out == NULL) {
        return 0;
    }
    if (ms__codec_decode(id, *buf, nbytes, out, want, 0) != 0) {
        H5free_memory(out);
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

static void
register_missing(void)
{
    for (size_t i = 0; i < MS_ARRAY_SIZE(CLASSES); i++) {
        if (!can_decode(CLASSES[i].id)) {
            H5Zregister(&CLASSES[i]);
        }
    }
    H5Eclear2(H5E_DEFAULT); /* a plugin that failed to load */
}

void
ms__filters_register(void)
{
    static uv_once_t once = UV_ONCE_INIT;
    uv_once(&once, register_missing);
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
        if (id < 0 || can_decode(id)) {
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
