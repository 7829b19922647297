"""Compressed the way h5py users compress: LZF (h5py's own), Blosc, LZ4,
Zstandard, BZip2 and Bitshuffle, written by h5py, Debian's HDF5 plugins,
the bitshuffle package and python3-zstandard (never by meshstats), each
against the same data uncompressed and the numpy reference, at -j 1 and
-j 2, with the workers decoding and without (MESHSTATS_NO_PREAD=1), every
decoded chunk cross-checked against H5Dread (MESHSTATS_VERIFY_READS=1),
and for the filters meshstats provides with HDF5's plugin folder empty.
A filter HDF5 cannot load skips its sample with a message naming it and
what provides it; a damaged chunk skips its sample, never a crash.

Usage: python3 test_filters.py /path/to/meshstats   (prints TAP)
"""

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model_oracle  # noqa: E402
import oracle  # noqa: E402
from tap import case, main, wrapper  # noqa: E402

MESHSTATS = sys.argv[1] if len(sys.argv) > 1 else "meshstats"
TMP = tempfile.mkdtemp(prefix="meshstats-filters-")
atexit.register(shutil.rmtree, TMP, True)
EMPTY = os.path.join(TMP, "no-plugins")
os.makedirs(EMPTY)
RNG = np.random.default_rng(27)
SAMPLES = []
for _sid in range(3):
    _nodal, _edges = oracle.random_sample(RNG, 8, 10, 17 + _sid, 13)
    SAMPLES.append((_sid, _nodal.astype("<f4"), _edges))


def run(path, *args, env=None):
    e = dict(os.environ, MESHSTATS_VERIFY_READS="1", **(env or {}))
    return subprocess.run([*wrapper(), MESHSTATS, *map(str, args), path],
                          capture_output=True, text=True, cwd=TMP, env=e,
                          timeout=120)


def stats(path, *args, env=None):
    p = run(path, "--json", "-", "-q", *args, env=env)
    assert p.returncode == 0, f"exit {p.returncode}: {p.stderr.strip()}"
    assert p.stderr == "", p.stderr
    out = json.loads(p.stdout)
    del out["dataset"]
    return out


def plain():
    path = os.path.join(TMP, "plain.h5")
    if not os.path.exists(path):
        oracle.write_dataset(path, SAMPLES)
    return path


def compressed(name, nodal_dtype="<f4", **kw):
    """SAMPLES with nodal_data and mesh_edge chunked and filtered by kw."""
    path = os.path.join(TMP, name)
    with h5py.File(path, "w") as f:
        for sid, nodal, edges in SAMPLES:
            g = f.create_group(f"data/{sid}")
            g.create_dataset("nodal_data", data=nodal, dtype=nodal_dtype,
                             chunks=(8, 3, nodal.shape[2]), **kw)
            g.create_dataset("mesh_edge", data=edges, chunks=(2, 40), **kw)
    return path


def direct_chunks(g, name, a, fid, encode, chunks, raw_every=0):
    """a stored under filter fid with every chunk encoded by encode (and
    every raw_every-th stored raw, its filter skipped, as HDF5 does with
    an optional filter that would not shrink it)."""
    d = g.create_dataset(name, shape=a.shape, dtype=a.dtype, chunks=chunks,
                         compression=fid, allow_unknown_filter=True)
    grid = [-(-s // c) for s, c in zip(a.shape, chunks)]
    for k, ix in enumerate(np.ndindex(*grid)):
        off = tuple(i * c for i, c in zip(ix, chunks))
        block = np.zeros(chunks, a.dtype)
        part = a[tuple(slice(o, o + c) for o, c in zip(off, chunks))]
        block[tuple(slice(0, n) for n in part.shape)] = part
        if raw_every and k % raw_every == 0:
            d.id.write_direct_chunk(off, block.tobytes(), filter_mask=1)
        else:
            d.id.write_direct_chunk(off, encode(block.tobytes()))


def direct_file(name, fid, encode, raw_every=0):
    path = os.path.join(TMP, name)
    with h5py.File(path, "w") as f:
        for sid, nodal, edges in SAMPLES:
            g = f.create_group(f"data/{sid}")
            direct_chunks(g, "nodal_data", nodal, fid, encode,
                          (8, 3, nodal.shape[2]), raw_every)
            direct_chunks(g, "mesh_edge", edges, fid, encode, (2, 40),
                          raw_every)
    return path


def same_as_plain(path, own=True):
    """path's JSON equals the uncompressed file's at -j 1 and 2, decoded by
    the workers and by HDF5, and (own: a filter meshstats provides) with
    HDF5's plugin folder empty."""
    want = stats(plain())
    folders = [None, EMPTY] if own else [None]
    for j in ("1", "2"):
        for pread in ("0", "1"):
            for folder in folders:
                env = {"MESHSTATS_NO_PREAD": pread}
                if folder:
                    env["HDF5_PLUGIN_PATH"] = folder
                got = stats(path, "-j", j, env=env)
                assert got == want, (j, pread, folder)
    problems = oracle.compare(want, oracle.reference(plain()), tol=1e-12)
    assert not problems, problems[:4]


@case
def lzf_as_h5py_writes_it():
    same_as_plain(compressed("lzf.h5", compression="lzf"))
    same_as_plain(compressed("lzf_shuffle.h5", compression="lzf",
                             shuffle=True))
    # Every chunk stored raw, its LZF skipped (the filter-mask bit), as
    # h5py's optional LZF does when compressing would not shrink it.
    same_as_plain(direct_file("lzf_raw.h5", 32000, lambda b: b,
                              raw_every=1))


def low_level(name, pipeline):
    """SAMPLES with both datasets filtered by pipeline(dcpl), applied in
    the order it sets them (h5py's high-level API only ever puts shuffle
    first)."""
    path = os.path.join(TMP, name)
    with h5py.File(path, "w") as f:
        for sid, nodal, edges in SAMPLES:
            for leaf, a, chunks in (("nodal_data", nodal,
                                     (8, 3, nodal.shape[2])),
                                    ("mesh_edge", edges, (2, 40))):
                dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
                dcpl.set_chunk(chunks)
                pipeline(dcpl)
                tid = h5py.h5t.py_create(a.dtype)
                space = h5py.h5s.create_simple(a.shape)
                g = f.require_group(f"data/{sid}")
                d = h5py.h5d.create(g.id, leaf.encode(), tid, space,
                                    dcpl=dcpl)
                d.write(h5py.h5s.ALL, h5py.h5s.ALL, np.ascontiguousarray(a))
    return path


@case
def pipelines_in_any_order():
    # [deflate, shuffle]: the shuffle is applied to deflate's output, so
    # the workers leave it to H5Dread; [lzf, deflate]: two codecs.
    def deflate_then_shuffle(dcpl):
        dcpl.set_deflate(4)
        dcpl.set_shuffle()

    def lzf_then_deflate(dcpl):
        dcpl.set_filter(32000, h5py.h5z.FLAG_OPTIONAL)
        dcpl.set_deflate(4)
    same_as_plain(low_level("deflate_shuffle.h5", deflate_then_shuffle),
                  own=False)
    same_as_plain(low_level("lzf_deflate.h5", lzf_then_deflate))


@case
def blosc_with_each_inner_compressor_and_shuffle():
    # cd_values 4..6: level, shuffle (0 none, 1 byte, 2 bit), compressor
    # (0 blosclz, 1 lz4, 4 zlib, 5 zstd); 0..3 are set by the plugin.
    for shuffle, codec in ((1, 0), (2, 1), (0, 4), (1, 5)):
        same_as_plain(compressed(f"blosc{shuffle}{codec}.h5",
                                 compression=32001,
                                 compression_opts=(0, 0, 0, 0, 5, shuffle,
                                                   codec)))


@case
def lz4_as_hdf5s_plugin_writes_it():
    same_as_plain(compressed("lz4.h5", compression=32004))
    # A block size smaller than a chunk: several blocks a chunk; blocks of
    # 16 bytes, stored a quarter larger than the chunk.
    same_as_plain(compressed("lz4_blocks.h5", compression=32004,
                             compression_opts=(256,)))
    same_as_plain(compressed("lz4_tiny_blocks.h5", compression=32004,
                             compression_opts=(16,)))


@case
def zstandard_chunks_from_python_zstandard():
    import zstandard
    for level in (1, 19):
        c = zstandard.ZstdCompressor(level=level)
        same_as_plain(direct_file(f"zstd{level}.h5", 32015, c.compress))
    # Every other chunk stored raw (its filter-mask bit set).
    same_as_plain(direct_file("zstd_raw.h5", 32015,
                              zstandard.ZstdCompressor().compress,
                              raw_every=2))


@case
def bzip2_and_bitshuffle_through_debians_plugins():
    import bitshuffle.h5 as bsh
    same_as_plain(compressed("bz2.h5", compression=307), own=False)
    same_as_plain(compressed("bshuf.h5", compression=bsh.H5FILTER,
                             compression_opts=(0, bsh.H5_COMPRESS_LZ4)),
                  own=False)


@case
def float64_and_trajectories_read_through_hdf5_with_the_same_filters():
    # float64 nodal_data goes through H5Dread, which then uses the
    # decoders meshstats registered (the plugin folder is empty).
    want = stats(compressed("f64.h5", nodal_dtype="<f8"))
    got = stats(compressed("f64_lzf.h5", nodal_dtype="<f8",
                           compression="lzf"),
                env={"HDF5_PLUGIN_PATH": EMPTY})
    assert got == want
    trajs = [(i, model_oracle.cloth_trajectory(RNG, 8, 5 + i, 4))
             for i in range(2)]
    one = os.path.join(TMP, "cloth.h5")
    model_oracle.write(one, trajs)
    for name, kw in (("lzf", {"compression": "lzf"}),
                     ("blosc", {"compression": 32001}),
                     ("lz4", {"compression": 32004})):
        path = os.path.join(TMP, f"cloth_{name}.h5")
        with h5py.File(path, "w") as f:
            for tid, fields in trajs:
                g = f.create_group(str(tid))
                for key, a in fields.items():
                    g.create_dataset(key, data=a, chunks=True, **kw)
        for j in ("1", "2"):
            assert stats(path, "-j", j, env={"HDF5_PLUGIN_PATH": EMPTY}) == \
                stats(one), (name, j)


def skipped_naming(path, *words, env=None):
    p = run(path, "--json", "-", env=env)
    assert p.returncode == 1, (p.returncode, p.stderr)  # no usable sample
    lines = [x for x in p.stderr.splitlines() if "sample 0" in x]
    assert len(lines) == 1, p.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])
    assert "no detail from HDF5" not in p.stderr, p.stderr
    strict = run(path, "--strict", env=env)
    assert strict.returncode == 1, strict.returncode
    assert all(w in strict.stderr for w in words), strict.stderr


@case
def a_filter_hdf5_cannot_load_is_named_with_its_package():
    empty = {"HDF5_PLUGIN_PATH": EMPTY}
    skipped_naming(os.path.join(TMP, "bz2.h5") if os.path.exists(
        os.path.join(TMP, "bz2.h5")) else compressed("bz2.h5",
                                                     compression=307),
                   "data/0/nodal_data", "BZip2 (id 307)",
                   "hdf5-filter-plugin", "HDF5_PLUGIN_PATH", env=empty)
    import bitshuffle.h5 as bsh
    skipped_naming(compressed("bshuf2.h5", compression=bsh.H5FILTER,
                              compression_opts=(0, bsh.H5_COMPRESS_LZ4)),
                   "Bitshuffle (id 32008)", "Debian's package bitshuffle",
                   env=empty)
    # A filter nobody here has: ZFP's id, and an id of no known filter.
    skipped_naming(direct_file("zfp.h5", 32013, lambda b: b),
                   "ZFP (id 32013)", "not packaged by Debian 12")
    skipped_naming(direct_file("unknown.h5", 40001, lambda b: b),
                   "(id 40001)", "no package meshstats knows of")


@case
def a_damaged_chunk_of_each_filter_skips_its_sample():
    import zstandard

    def garbage(b):
        return bytes(RNG.integers(0, 256, 64, dtype=np.uint8))

    # (HDF5's plugin folder empty: meshstats' own decoders, not Debian's
    # plugins, which ask for whatever size a damaged header says)
    for fid in (32000, 32001, 32004, 32015):
        path = direct_file(f"bad{fid}.h5", fid, garbage)
        for pread in ("0", "1"):
            p = run(path, "--json", "-", env={"MESHSTATS_NO_PREAD": pread,
                                              "HDF5_PLUGIN_PATH": EMPTY})
            assert p.returncode == 1, (fid, p.returncode, p.stderr)
            assert "sample 0" in p.stderr, p.stderr
    # Valid frames of the wrong size: a chunk is never taken short, by the
    # workers or by HDF5 through meshstats' decoders (float64 nodal_data
    # and mesh_edge go through H5Dread): HDF5 would read past the end.
    short = zstandard.ZstdCompressor().compress
    for name, dtype in (("short.h5", "<f4"), ("short64.h5", "<f8")):
        path = os.path.join(TMP, name)
        with h5py.File(path, "w") as f:
            for sid, nodal, edges in SAMPLES:
                g = f.create_group(f"data/{sid}")
                direct_chunks(g, "nodal_data", nodal.astype(dtype), 32015,
                              lambda b: short(b[:len(b) // 2]),
                              (8, 3, nodal.shape[2]))
                direct_chunks(g, "mesh_edge", edges, 32015,
                              lambda b: short(b[:len(b) // 2]), (2, 40))
        for pread in ("0", "1"):
            p = run(path, "--json", "-", env={"MESHSTATS_NO_PREAD": pread,
                                              "HDF5_PLUGIN_PATH": EMPTY})
            assert p.returncode == 1, (name, p.returncode, p.stderr)
            assert p.stderr.count("sample ") == 3, p.stderr
            assert "outside [0" not in p.stderr, p.stderr  # heap as edges
            assert p.stderr.count("decode") == 3, p.stderr


if __name__ == "__main__":
    sys.exit(main("filters"))
