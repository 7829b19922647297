"""The bad-input corpus: every malformation of docs/spec.md section 1 we can think
of,
built by this file (no committed binaries), each with the exit status and
the words of the message a user must see.  A run that dies by a signal, or
takes longer than TIMEOUT seconds, fails whatever it printed.

Usage: python3 test_corpus.py /path/to/meshstats   (prints TAP)
"""

import atexit
import json
import os
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402
from tap import (WRAPPER, also_wrap, case, main, sanitized,  # noqa: E402
                 wrapper)

MESHSTATS = sys.argv[1] if len(sys.argv) > 1 else "meshstats"
TMP = tempfile.mkdtemp(prefix="meshstats-corpus-")
atexit.register(shutil.rmtree, TMP, True)
TIMEOUT = 60
RNG = np.random.default_rng(2026)


def good(F=8, T=4, nx=4, ny=3):
    return oracle.random_sample(RNG, F, T, nx, ny)


def h5(name, build):
    path = os.path.join(TMP, name)
    with h5py.File(path, "w") as f:
        build(f)
    return path


def sample(f, sid, nodal, edges, nodal_dtype="<f4", edge_dtype="<i8", **kw):
    g = f.require_group(f"data/{sid}")
    if nodal is not None:
        g.create_dataset("nodal_data", data=nodal, dtype=nodal_dtype, **kw)
    if edges is not None:
        g.create_dataset("mesh_edge", data=edges, dtype=edge_dtype)


def with_good_sample(build):
    """A file with a good sample 1 and whatever build adds as sample 7."""
    def both(f):
        sample(f, 1, *good())
        build(f)
    return both


def damaged_env():
    """HDF5 1.10.8 leaks small blocks on the error paths of damaged files:
    under LeakSanitizer, those runs skip leak detection (the valgrind stage
    checks them with a suppression limited to HDF5's own allocations)."""
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":detect_leaks=0"
    return env


def run(path, *args, config_dir=None, env=None):
    p = subprocess.run([*wrapper(), MESHSTATS, *map(str, args), path],
                       capture_output=True, text=True,
                       cwd=config_dir or TMP, timeout=TIMEOUT, env=env)
    assert p.returncode >= 0, f"killed by signal {-p.returncode}: {p.stderr}"
    return p


def expect(path, status, *words, args=()):
    p = run(path, *args)
    assert p.returncode == status, (
        f"exit {p.returncode}, expected {status}: {p.stderr[-500:]}")
    for w in words:
        assert w in p.stderr, f"{w!r} not in {p.stderr[-500:]!r}"
    return p


# ---------------------------------------------------------------------------
# The table: (name, build, args, status, words of the message).  A sample
# that is bad while another is good is skipped (exit 0, warned, listed in
# the JSON); the same file under --strict fails (exit 1).

def edges_with(i, j, value):
    nodal, edges = good()
    edges = edges.astype(np.uint64 if value >= 2**63 else np.int64)
    edges[i, j] = value
    return nodal, edges


def partly_written(f, leaf):
    """Sample 7 with <leaf> chunked and only its first chunk written (an
    export that stopped early): the rest reads as the fill value."""
    nodal, edges = good()
    g = f.require_group("data/7")
    data = nodal if leaf == "nodal_data" else edges
    other = edges if leaf == "nodal_data" else nodal
    chunks = (8, 1, 12) if leaf == "nodal_data" else (2, 2)
    d = g.create_dataset(leaf, shape=data.shape, dtype=data.dtype,
                         chunks=chunks, fillvalue=0)
    d[tuple(slice(0, c) for c in chunks)] = data[
        tuple(slice(0, c) for c in chunks)]
    g.create_dataset("mesh_edge" if leaf == "nodal_data" else "nodal_data",
                     data=other)


def virtual(f, sid):
    """Sample sid's nodal_data as a virtual dataset over another file's,
    which is gone (its values would read as the fill value)."""
    nodal, edges = good()
    source = os.path.join(TMP, f"virtual-source-{sid}.h5")
    with h5py.File(source, "w") as src:
        src.create_dataset("nodal", data=nodal.astype("<f4"))
    layout = h5py.VirtualLayout(shape=nodal.shape, dtype="<f4")
    layout[...] = h5py.VirtualSource(source, "nodal", shape=nodal.shape)
    g = f.require_group(f"data/{sid}")
    g.create_virtual_dataset("nodal_data", layout)
    g.create_dataset("mesh_edge", data=edges)
    os.remove(source)


BAD_SAMPLES = [
    ("nodal_rank_2", lambda f: sample(f, 7, good()[0][:, 0, :], good()[1]),
     "has rank 2; expected 3"),
    ("nodal_rank_4", lambda f: sample(f, 7, good()[0][None], good()[1]),
     "has rank 4; expected 3"),
    ("too_few_feature_rows", lambda f: sample(f, 7, good(F=5)[0], good()[1]),
     "has 5 feature rows; needs at least 7"),
    ("integer_nodal_data",
     lambda f: sample(f, 7, *good(), nodal_dtype="<i4"), "non-float type"),
    ("edges_three_rows",
     lambda f: sample(f, 7, good()[0], np.zeros((3, 4), np.int64)),
     "expected shape (2, E)"),
    ("edges_rank_1",
     lambda f: sample(f, 7, good()[0], np.zeros(4, np.int64)),
     "expected shape (2, E)"),
    ("edges_float",
     lambda f: sample(f, 7, *good(), edge_dtype="<f8"), "non-integer type"),
    ("edge_index_too_large", lambda f: sample(f, 7, *edges_with(1, 2, 12)),
     "has a node index outside [0, 12)"),
    ("edge_index_negative", lambda f: sample(f, 7, *edges_with(0, 0, -1)),
     "has a node index outside [0, 12)"),
    ("edge_index_huge_unsigned",
     lambda f: sample(f, 7, *edges_with(0, 1, 2**63), edge_dtype="<u8"),
     "= (9223372036854775807 or more, "),
    ("missing_nodal_data", lambda f: sample(f, 7, None, good()[1]),
     "data/7/nodal_data: missing"),
    ("missing_mesh_edge", lambda f: sample(f, 7, good()[0], None),
     "data/7/mesh_edge: missing"),
    ("sample_is_a_dataset",
     lambda f: f.create_dataset("data/7", data=np.arange(3)),
     "data/7: is not a group"),
    ("no_nodes",
     lambda f: sample(f, 7, np.zeros((8, 3, 0)), np.zeros((2, 0), np.int64)),
     "0 nodes"),
    ("no_timesteps",
     lambda f: sample(f, 7, np.zeros((8, 0, 5)), np.zeros((2, 0), np.int64)),
     "0 timesteps"),
    ("declared_huge_never_written", lambda f: f.require_group(
        "data/7").create_dataset("nodal_data", shape=(8, 2**40, 1000),
                                 dtype="<f4", chunks=(1, 1, 1000)) and
     sample(f, 7, None, good()[1]), "never written"),
    ("nodal_partly_written", lambda f: partly_written(f, "nodal_data"),
     "data/7/nodal_data: partly written: 1 of its 4 chunks are stored"),
    ("edges_partly_written", lambda f: partly_written(f, "mesh_edge"),
     "data/7/mesh_edge: partly written: 1 of its"),
    ("edges_never_written", lambda f: f.require_group(
        "data/7").create_dataset("mesh_edge", shape=(2, 5), dtype="<i8") and
     sample(f, 7, good()[0], None), "data/7/mesh_edge: declared (2 x 5) but "
     "never written"),
    ("virtual_nodal_data", lambda f: virtual(f, 7),
     "data/7/nodal_data: is a virtual dataset, and its source file"),
    ("more_nodes_than_supported", lambda f: f.require_group(
        "data/7").create_dataset("nodal_data", shape=(8, 2, 2**33),
                                 dtype="<f4", chunks=(1, 1, 2**20)) and
     sample(f, 7, None, good()[1]), "more than meshstats supports"),
    ("size_overflows", lambda f: f.require_group(
        "data/7").create_dataset("nodal_data", shape=(2**62, 2, 2),
                                 dtype="<f4", chunks=(1, 1, 2)) and
     sample(f, 7, None, good()[1]), "overflows"),
]

# Under valgrind, a bad sample's --strict run too where the pass stops
# from a worker, the index being checked as its unit is read (the others
# stop before the pass; tests/tap.py WRAPPED_RUNS).
STRICT_WRAPPED = {"edge_index_negative"}

for _name, _build, _words in BAD_SAMPLES:
    def _make(name=_name, build=_build, words=_words):
        def check():
            path = h5(f"{name}.h5", with_good_sample(build))
            p = expect(path, 0, "warning:", "sample 7", path, words,
                       args=("--json", "-"))
            assert '"used": 1' in p.stdout and '"id": 7' in p.stdout, p.stdout
            if name in STRICT_WRAPPED:
                also_wrap(1)
            expect(path, 1, "sample 7", words, args=("--strict",))
        check.__name__ = f"bad_sample_{name}_is_skipped_or_fails_strict"
        return check
    case(_make())


def patched(name, build, old, new, at=0):
    """A file made by build, with the one occurrence of the bytes old
    overwritten by new at offset at: damage h5py cannot write."""
    path = h5(name, with_good_sample(build))
    raw = bytearray(open(path, "rb").read())
    where = raw.find(old)
    assert where >= 0 and raw.find(old, where + 1) < 0, name
    raw[where + at:where + at + len(new)] = new
    open(path, "wb").write(raw)
    return path


def compact_edges(f):
    """Sample 7 with mesh_edge in compact storage (inside its header)."""
    nodal, edges = good()
    g = f.require_group("data/7")
    g.create_dataset("nodal_data", data=nodal.astype("<f4"))
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_layout(h5py.h5d.COMPACT)
    space = h5py.h5s.create_simple(edges.shape)
    d = h5py.h5d.create(g.id, b"mesh_edge", h5py.h5t.STD_I64LE, space,
                        dcpl=dcpl)
    d.write(h5py.h5s.ALL, h5py.h5s.ALL, np.ascontiguousarray(edges, "<i8"))


EDGES = good()[1]  # the plate's edges do not depend on the random values


def chunked(**kw):
    return lambda f: sample(f, 7, *good(**kw), chunks=(8, 1, 12),
                            maxshape=(8, kw.get("T", 4), 12))


# Damage the dataset fuzzer found in sample metadata, rebuilt by patching
# the bytes of one HDF5 message of sample 7: (name, build, bytes to find,
# offset and bytes written there, words of the message).  Each is refused
# before any data is read, and each made HDF5 1.10.8 or meshstats misbehave
# before: a dataspace declaring 2**18 timesteps of a dataset with at most 4
# (seconds of fill values read), chunks larger than the maximum dimensions,
# an unfiltered chunk recorded at another size and compact storage smaller
# than its dataset (HDF5 copied past its buffer), and a 2.9 MB float type
# (HDF5 crashed converting it).
DAMAGED = [
    ("dataspace_beyond_its_maximum", chunked(T=5),
     struct.pack("<6Q", 8, 5, 12, 8, 5, 12), 8, struct.pack("<Q", 2**40),
     "data/7/nodal_data: its dataspace is damaged"),
    ("chunk_shape_beyond_the_maximum", chunked(),
     struct.pack("<4I", 8, 1, 12, 4), 4, struct.pack("<I", 64),
     "data/7/nodal_data: its layout is damaged: chunks of 8 x 64 x 12 are "
     "larger than its maximum dimensions"),
    ("chunk_index_size", chunked(),
     struct.pack("<II4Q", 384, 0, 0, 1, 0, 0), 0, struct.pack("<I", 100),
     "data/7/nodal_data: its layout is damaged: 1252 bytes stored for 4 "
     "uncompressed chunks of 384 bytes"),
    ("compact_storage_size", compact_edges,
     struct.pack("<BBH", 3, 0, EDGES.size * 8) +
     EDGES.astype("<i8").tobytes()[:16], 2, struct.pack("<H", 14),
     f"data/7/mesh_edge: its layout is damaged: 14 bytes stored for 2 x "
     f"{EDGES.shape[1]} values of 8 bytes"),
    ("absurdly_wide_float_type",
     lambda f: sample(f, 7, *good(), nodal_dtype="<f8"),
     struct.pack("<IHHBBBBI", 8, 0, 64, 52, 11, 0, 52, 1023), 0,
     struct.pack("<I", 2**20),
     "data/7/nodal_data: its datatype is damaged or unsupported: "
     "1048576-byte values (at most 16)"),
]

for _name, _build, _old, _at, _new, _words in DAMAGED:
    def _make(name=_name, build=_build, old=_old, at=_at, new=_new,
              words=_words):
        def check():
            path = patched(f"{name}.h5", build, old, new, at)
            expect(path, 0, "warning:", "sample 7", path, words)
            expect(path, 1, "sample 7", path, words, args=("--strict",))
        check.__name__ = f"damaged_{name}_is_refused_without_reading"
        return check
    case(_make())


# ---------------------------------------------------------------------------
# Whole-file problems: exit 1 with the file named.

@case
def not_hdf5_text_file():
    path = os.path.join(TMP, "notes.h5")
    with open(path, "w") as f:
        f.write("timestep,value\n1,2\n")
    expect(path, 1, "not an HDF5 file", path)


@case
def empty_file():
    path = os.path.join(TMP, "empty.h5")
    open(path, "w").close()
    expect(path, 1, "not an HDF5 file")


@case
def missing_file_and_directory():
    expect(os.path.join(TMP, "nope.h5"), 1, "No such file")
    also_wrap(1)  # a folder given as the file
    expect(TMP, 1, "is a directory")


@case
def no_data_group_or_data_not_a_group():
    expect(h5("nodata.h5", lambda f: f.create_group("meta")), 1,
           "no group 'data'")
    expect(h5("dataset.h5", lambda f: f.create_dataset("data", data=[1])),
           1, "no group 'data'")


@case
def no_sample_ids_under_data():
    def build(f):
        f.create_group("data/train")
        f.create_group("data/sample_1")
    expect(h5("noids.h5", build), 1, "no samples", "not a sample id")
    expect(h5("emptydata.h5", lambda f: f.create_group("data")), 1,
           "no samples")


@case
def only_sample_bad_means_no_usable_samples():
    path = h5("onlybad.h5", lambda f: sample(f, 3, good(F=5)[0], good()[1]))
    expect(path, 1, "no usable samples", "feature rows")


@case
def names_that_are_not_ids_are_skipped_with_a_warning():
    def build(f):
        sample(f, 0, *good())
        f.create_group("data/readme")
    p = expect(h5("mixed.h5", build), 0, "data/readme", "not a sample id")
    assert "1 used of 1 found" in p.stdout


@case
def one_id_spelled_twice_is_read_once_as_a_loader_reads_it():
    # data/007, data/7 and data/07 are all sample 7; a loader opening
    # data/7 reads one group, so meshstats reads data/7 alone and warns of
    # the others (before: all three counted, --samples 7 "selected" 3).
    # Without data/7, the shortest spelling (07) is the one read.
    samples = {name: good() for name in ("007", "7", "07", "3")}
    for names, kept in ((("007", "7", "07", "3"), "7"),
                        (("007", "07", "3"), "07")):
        path = h5(f"twice-{len(names)}.h5", lambda f, names=names: [
            sample(f, name, *samples[name]) for name in names])
        alone = h5(f"once-{len(names)}.h5", lambda f, kept=kept: [
            sample(f, name, *samples[name]) for name in (kept, "3")])
        want = json.loads(run(alone, "--json", "-").stdout)
        for args in ((), ("--samples", "7")):
            p = run(path, "--json", "-", *args)
            assert p.returncode == 0, p.stderr
            got = json.loads(p.stdout)
            for other in set(names) - {kept, "3"}:
                assert (f"data/{other}: the same sample id as data/{kept} "
                        f"(7); skipped") in p.stderr, (other, p.stderr)
            assert got["samples"]["selected"] == (1 if args else 2), got
            if not args:
                for group in ("node", "edge", "delta"):
                    assert got[group] == want[group], (names, group)


@case
def float64_big_endian_varying_shapes_t1_and_e0_are_valid():
    def build(f):
        sample(f, 0, *good(T=1), nodal_dtype=">f8", edge_dtype=">i2")
        sample(f, 1, *good(T=6, nx=5, ny=2))
        sample(f, 2, good(T=3)[0], np.zeros((2, 0), np.int64))
    p = expect(h5("valid.h5", build), 0)
    assert "3 used of 3 found" in p.stdout


@case
def no_edges_anywhere_is_null_in_json_and_refused_by_write_back():
    path = h5("noedges.h5", lambda f: sample(f, 0, good()[0],
                                             np.zeros((2, 0), np.int64)))
    out = run(path, "--json", "-").stdout
    assert '"edge": {"count": 0' in out and "null" in out
    also_wrap(1)  # the write-back's refusal
    expect(path, 1, "edge group has no rows", args=("--write-back",))


@case
def nan_fails_and_inf_is_skipped_on_request():
    nodal, edges = good()
    nodal = nodal.copy()
    nodal[3, 2, 5] = np.nan
    nodal[4, 1, 0] = np.inf
    path = h5("nonfinite.h5", lambda f: sample(f, 0, nodal, edges))
    # The first bad value in timestep order is named: the Inf at t = 1.
    expect(path, 1, "non-finite value inf", "feature row 4, timestep 1, node 0")
    p = run(path, "--json", "-", "--skip-nonfinite")
    assert p.returncode == 0 and '"nonfinite_skipped"' in p.stdout


@case
def one_timestep_larger_than_the_memory_limit():
    # A mesh of one block (a WHOLE unit holds two of its timesteps) and a
    # larger one (the positions of one timestep, 24 bytes a node, must fit
    # beside one block of nodes): each error says what is needed and which
    # option raises the limit, and the size it names does fit.
    for nodes, words in ((16000, "one work unit needs"),
                         (50000, "positions of its 50000 nodes (1200000 "
                                 "bytes, 24 a node)")):
        nodal = np.zeros((8, 2, nodes), np.float32)
        path = h5(f"wide{nodes}.h5", lambda f: sample(
            f, 0, nodal, np.zeros((2, 1), np.int64)))
        p = expect(path, 1, words, "--memory-limit",
                   args=("--memory-limit", "600K"))
        need = re.search(r"at least (\d+)K", p.stderr).group(1)
        expect(path, 0, args=("--memory-limit", need + "K"))


@case
def userblock_file_is_read_through_hdf5():
    path = os.path.join(TMP, "userblock.h5")
    with h5py.File(path, "w", userblock_size=512) as f:
        sample(f, 0, *good())
    expect(path, 0)


@case
def never_written_in_a_file_with_a_userblock_is_skipped():
    # HDF5 1.10.8 adds the userblock to the undefined address of data never
    # written, so H5Dget_offset gives an address: the check must still
    # find that nothing is stored.
    path = os.path.join(TMP, "userblock-unwritten.h5")
    with h5py.File(path, "w", userblock_size=512) as f:
        sample(f, 0, *good())
        f.require_group("data/7").create_dataset("mesh_edge", shape=(2, 5),
                                                 dtype="<i8")
        sample(f, 7, good()[0], None)
    expect(path, 0, "sample 7", "data/7/mesh_edge: declared (2 x 5) but "
           "never written")


@case
def external_storage_given_an_address_is_read_where_hdf5_reads_it():
    # Sample 7's nodal_data is stored in a raw file (an external file
    # list); its layout message then patched to hold sample 1's address,
    # as no HDF5 writes it but a damaged file may: HDF5 now reports that
    # address, and still reads the external file.  So must meshstats.
    nodal, edges = good()
    other = (3 * nodal + 1).astype("<f4")
    raw_path = os.path.join(TMP, "efl-values.bin")
    plain = os.path.join(TMP, "efl.h5")
    with h5py.File(plain, "w") as f:
        sample(f, 1, nodal, edges)
        g = f.require_group("data/7")
        g.create_dataset("nodal_data", data=other, dtype="<f4",
                         external=[(raw_path, 0, other.nbytes)])
        g.create_dataset("mesh_edge", data=edges, dtype="<i8")
        at = f["data/1/nodal_data"].id.get_offset()
    data = bytearray(open(plain, "rb").read())
    undefined = b"\x03\x01" + b"\xff" * 8  # layout v3, contiguous
    where = data.find(undefined)
    assert where >= 0 and data.find(undefined, where + 1) < 0
    data[where + 2:where + 10] = at.to_bytes(8, "little")
    patched = os.path.join(TMP, "efl-addressed.h5")
    open(patched, "wb").write(data)
    with h5py.File(patched, "r") as f:
        assert f["data/7/nodal_data"].id.get_offset() == at
        assert np.array_equal(f["data/7/nodal_data"][()], other)
    stats = [json.loads(run(p, "--json", "-").stdout) for p in (plain,
                                                                 patched)]
    for group in ("node", "edge", "delta"):
        assert stats[0][group] == stats[1][group], group


def external_sample(name, short=0, leaf="nodal_data"):
    """A file of good sample 1 and sample 7 with leaf in two raw files
    named relative to the file's folder (the first from offset 16, after
    16 bytes of something else), the second short of `short` bytes; and
    the same sample stored plainly."""
    nodal, edges = good()
    first = good()
    data = (nodal if leaf == "nodal_data" else edges).astype(
        "<f8" if leaf == "nodal_data" else "<i8")
    raw = data.tobytes()
    half = len(raw) // 2
    names = [f"{name}-a.bin", f"{name}-b.bin"]
    open(os.path.join(TMP, names[0]), "wb").write(b"x" * 16 + raw[:half])
    open(os.path.join(TMP, names[1]), "wb").write(raw[half:len(raw) - short])
    paths = [os.path.join(TMP, f"{name}.h5"), os.path.join(TMP,
                                                          f"{name}-plain.h5")]
    for path, external in zip(paths, (True, False)):
        with h5py.File(path, "w") as f:
            sample(f, 1, *first)
            g = f.require_group("data/7")
            if external:  # (no data=: HDF5 would write the raw files
                # itself, relative to the working directory)
                g.create_dataset(leaf, shape=data.shape, dtype=data.dtype,
                                 external=[(names[0], 16, half),
                                           (names[1], 0, len(raw) - half)])
            else:
                g.create_dataset(leaf, data=data)
            other = edges if leaf == "nodal_data" else nodal
            g.create_dataset("mesh_edge" if leaf == "nodal_data"
                             else "nodal_data", data=other)
    return paths


@case
def external_raw_files_are_read_whole_or_the_sample_is_refused():
    # HDF5 reads an external raw file shorter than its list says as
    # zeros, without an error: such a sample is skipped naming the file
    # (before: its zeros counted, exit 0).  Whole files give the plain
    # copy's statistics, found from the working directory or, under
    # HDF5_EXTFILE_PREFIX=${ORIGIN}, from the file's folder.
    ext, plain = external_sample("efl-whole")
    want = json.loads(run(plain, "--json", "-").stdout)
    origin = dict(os.environ, HDF5_EXTFILE_PREFIX="${ORIGIN}")
    for cwd, env in ((TMP, None), ("/", origin)):
        got = json.loads(run(ext, "--json", "-", config_dir=cwd,
                             env=env).stdout)
        assert got["samples"]["used"] == 2
        for group in ("node", "edge", "delta"):
            assert got[group] == want[group], (cwd, group)
    for leaf in ("nodal_data", "mesh_edge"):
        ext, _ = external_sample(f"efl-short-{leaf}", short=8, leaf=leaf)
        p = run(ext, "--json", "-")
        assert p.returncode == 0, p.stderr
        for w in ("sample 7", f"data/7/{leaf}", f"efl-short-{leaf}-b.bin",
                  "would read as zeros"):
            assert w in p.stderr, (w, p.stderr)
        assert json.loads(p.stdout)["samples"]["used"] == 1
    p = run(ext, "--json", "-", config_dir="/")  # names not found from /
    assert p.returncode == 0 and "cannot be opened" in p.stderr, p.stderr
    # A raw file's name longer than meshstats' buffer (HDF5 copies it
    # without a terminator): refused, never read past.
    nodal, edges = good()
    path = h5("efl-long.h5", lambda f: (
        sample(f, 1, *good()), sample(f, 7, None, edges),
        f["data/7"].create_dataset(
            "nodal_data", shape=nodal.shape, dtype="<f4",
            external=[("/" + "n" * 1100, 0, h5py.h5f.UNLIMITED)])))
    expect(path, 0, "sample 7", "external file list cannot be read")


@case
def truncated_files_fail_cleanly():
    src = os.path.join(TMP, "whole.h5")
    subprocess.run([*wrapper(), MESHSTATS, "generate", src, "-q",
                    "--samples", "3", "--timesteps", "5", "--nodes", "200"],
                   check=True)
    data = open(src, "rb").read()
    also_wrap(5)  # each truncation under valgrind
    for frac in (0.05, 0.3, 0.6, 0.9, 0.999):
        path = os.path.join(TMP, f"trunc{frac}.h5")
        with open(path, "wb") as f:
            f.write(data[:int(len(data) * frac)])
        p = run(path, env=damaged_env())
        assert p.returncode in (1,), (frac, p.returncode, p.stderr)
        assert path in p.stderr, p.stderr
        # (HDF5's "sblock" is no lock: no advice about another program)
        assert "Another program" not in p.stderr, p.stderr


@case
def data_past_the_end_of_a_file_cut_short_is_refused():
    # A file cut inside the last sample's contiguous nodal_data, its
    # superblock's end-of-file address patched to the new size so that
    # HDF5 opens it: HDF5 reads the missing part as zeros (before: float64
    # and H5Dread counted them, float32 read directly failed as an I/O
    # error).  Either way the sample is skipped, saying why.
    for dtype, env in (("<f8", None), ("<f4", None),
                       ("<f4", {"MESHSTATS_NO_PREAD": "1"})):
        src = os.path.join(TMP, "cut-src.h5")
        with h5py.File(src, "w", libver="earliest") as f:
            sample(f, 0, *good())
            nodal, edges = good(T=30)
            sample(f, 1, None, edges)  # (the values last in the file)
            sample(f, 1, nodal, None, nodal_dtype=dtype)
            at = f["data/1/nodal_data"].id.get_offset()
            size = f["data/1/nodal_data"].id.get_storage_size()
        data = bytearray(open(src, "rb").read())
        assert at + size == len(data) and data[8] == 0  # superblock v0
        cut = data[:at + size // 2]
        cut[40:48] = len(cut).to_bytes(8, "little")  # its end-of-file address
        path = os.path.join(TMP, "cut-patched.h5")
        open(path, "wb").write(cut)
        p = run(path, "--json", "-",
                env=dict(os.environ, **env) if env else None)
        assert p.returncode == 0, (dtype, env, p.stderr)
        for w in (path, "sample 1", "data/1/nodal_data", "run past the end",
                  "cut short"):
            assert w in p.stderr, (dtype, env, w, p.stderr)
        assert json.loads(p.stdout)["samples"]["used"] == 1, (dtype, env)


@case
def bit_flipped_files_never_crash_or_hang():
    src = os.path.join(TMP, "flipsrc.h5")
    subprocess.run([*wrapper(), MESHSTATS, "generate", src, "-q",
                    "--samples", "2", "--timesteps", "4", "--nodes", "60"],
                   check=True)
    data = bytearray(open(src, "rb").read())
    rnd = random.Random(7)
    outcomes = set()
    also_wrap(8)  # 8 of the 40 under valgrind (ASan runs them all)
    for trial in range(40):
        flipped = bytearray(data)
        for _ in range(8):
            i = rnd.randrange(len(flipped))
            flipped[i] ^= 1 << rnd.randrange(8)
        path = os.path.join(TMP, f"flip{trial}.h5")
        with open(path, "wb") as f:
            f.write(flipped)
        p = run(path, env=damaged_env())
        assert p.returncode in (0, 1), (trial, p.returncode, p.stderr[-300:])
        if p.returncode == 1:
            assert path in p.stderr, p.stderr
        outcomes.add(p.returncode)
    # The trials reach both ends: flips in values leave a valid file with
    # other numbers (exit 0), flips in metadata are refused naming the file
    # (exit 1).  Only one of them would mean the flips missed half the file.
    assert outcomes == {0, 1}, outcomes


# Inputs the dataset fuzzer found (tests/fuzz/corpus/dataset/regress-*),
# and what meshstats now says of each (DAMAGED above rebuilds most of them
# from good files).  Before: 2**18 timesteps of fill values read; HDF5
# reading past its chunk buffer (twice, the second time giving exit 0 and
# statistics); HDF5 crashing in H5Pget_fill_value (meshstats no longer asks
# for the fill value: a chunk that is not stored is an error); and HDF5
# crashing (exit 139) converting a 2.9 MB float type.
FUZZ_FINDINGS = {
    "regress-dims-beyond-maximum.h5": "its dataspace is damaged",
    "regress-chunk-beyond-maximum.h5": "its layout is damaged: chunks of "
                                       "65536 x 4 x 10",
    "regress-chunk-index-size.h5": "its layout is damaged: 432 bytes "
                                   "stored for 8 uncompressed chunks",
    "regress-compact-size.h5": "data/0/mesh_edge: its layout is damaged: "
                               "14 bytes stored for 2 x 17 values",
    "regress-fill-value-type.h5": "the chunk at timestep 0 cannot be read",
    "regress-unfiltered-chunk-size.h5": "partly written: 12 of its 18",
    "regress-wide-float-type.h5": "its datatype is damaged or unsupported: "
                                  "2949124-byte values",
}


@case
def fuzzer_findings_are_refused_cleanly():
    corpus = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          "fuzz", "corpus", "dataset")
    found = sorted(n for n in os.listdir(corpus) if n.startswith("regress-"))
    assert found == sorted(FUZZ_FINDINGS), found
    also_wrap(len(FUZZ_FINDINGS))  # each finding under valgrind
    for name, words in FUZZ_FINDINGS.items():
        path = os.path.join(TMP, name)
        shutil.copyfile(os.path.join(corpus, name), path)
        expect(path, 1, path, "sample 0", "data/0/", words,
               "no usable samples")


@case
def a_crash_inside_hdf5_on_a_damaged_file_exits_1_naming_it():
    # Found by the dataset fuzzer, files HDF5 1.10.8 crashes on before
    # meshstats sees any sample: a damaged local heap makes it copy from
    # NULL inside H5Lexists (SIGSEGV); another makes it corrupt the heap
    # (glibc's malloc aborts: SIGABRT).  The program's crash guard finds
    # HDF5 first on the crashed stack and reports the damaged file.  Run
    # without the wrapper: valgrind reports HDF5's invalid accesses.  In
    # the sanitizer build, which leaves crashes to ASan, the report must
    # show the crash in libhdf5.
    corpus = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          "fuzz", "corpus", "dataset")
    found = sorted(n for n in os.listdir(corpus)
                   if n.startswith("hdf5-crash-"))
    assert found == ["hdf5-crash-heap-corruption.h5",
                     "hdf5-crash-local-heap.h5"], found
    for name in found:
        path = os.path.join(TMP, name)
        shutil.copyfile(os.path.join(corpus, name), path)
        p = subprocess.run([MESHSTATS, path], capture_output=True,
                           text=True, cwd=TMP, timeout=TIMEOUT,
                           env=damaged_env())
        if sanitized(MESHSTATS):
            # The first frame that is HDF5's or meshstats' (as .ci/fuzz
            # decides; ASan's own interceptors are neither).
            frames = [ln for ln in p.stderr.splitlines()
                      if re.match(r"\s+#\d+ ", ln) and
                      re.search(r"libhdf5|/src/[a-z_/]+\.c:\d", ln)]
            assert "ERROR: AddressSanitizer" in p.stderr and frames, (
                name, p.stderr[-800:])
            assert "libhdf5" in frames[0], (name, frames[:3])
            continue
        assert p.returncode == 1, (name, p.returncode, p.stderr[-500:])
        assert (f"meshstats: error: {path}: HDF5 crashed reading this "
                "file: it is damaged" in p.stderr), p.stderr
        assert "nothing was written" in p.stderr


@case
def an_abort_inside_hdf5_is_blamed_on_the_file_only_before_reading():
    # glibc aborts on a corrupted heap in whichever malloc comes next, so
    # an abort inside HDF5 says who noticed, not who corrupted.  The crash
    # guard blames the file only where HDF5 parses its metadata: on the
    # main thread before data is read (opening, listing), or on the thread
    # that checks samples (where the damaged heap the fuzzer found is),
    # which runs beside the reading (src/pass/stream.c); on a worker,
    # reading data into meshstats' buffers, it is an internal error that
    # still dies by its signal.  The shim makes HDF5's malloc abort on the
    # chosen thread.  (ASan and valgrind replace malloc.)
    shim = os.environ.get("MESHSTATS_ABORT_SHIM")
    if sanitized(MESHSTATS) or WRAPPER or not shim:
        return
    path = os.path.join(TMP, "abort.h5")
    subprocess.run([MESHSTATS, "generate", path, "-q", "--samples", "2",
                    "--timesteps", "4", "--nodes", "60", "--gzip"],
                   check=True)
    for thread, status, words in (
            ("main", 1, "HDF5 crashed reading this file: it is damaged"),
            ("check", 1, "HDF5 crashed reading this file: it is damaged"),
            ("worker", -signal.SIGABRT, "internal error: crashed reading")):
        env = dict(os.environ, LD_PRELOAD=shim,
                   MESHSTATS_TEST_ABORT=thread)
        p = subprocess.run([MESHSTATS, "-j", "2", path], capture_output=True,
                           text=True, cwd=TMP, timeout=TIMEOUT, env=env)
        assert p.returncode == status, (thread, p.returncode, p.stderr)
        assert words in p.stderr, (thread, p.stderr)


@case
def bad_config_values_exit_2_naming_the_line():
    path = h5("cfgdata.h5", lambda f: sample(f, 0, *good()))
    also_wrap(4)  # each bad value under valgrind
    for text, words in (("input_var four\n", "config.txt:1: input_var"),
                        ("\nstats_memory_limit 12Q\n",
                         "config.txt:2: stats_memory_limit"),
                        ("use_parallel_stats maybe\n", "True or False"),
                        ("progress\n", "missing value")):
        d = tempfile.mkdtemp(dir=TMP)
        with open(os.path.join(d, "config.txt"), "w") as f:
            f.write(text)
        p = run(path, config_dir=d)
        assert p.returncode == 2, (text, p.returncode, p.stderr)
        assert words in p.stderr, (words, p.stderr)


def faulted(path, fault, *args):
    env = dict(os.environ, MESHSTATS_FAULT_READ=str(fault))
    p = subprocess.run([*wrapper(), MESHSTATS, *map(str, args), path],
                       capture_output=True, text=True, cwd=TMP,
                       timeout=TIMEOUT, env=env)
    assert p.returncode >= 0, f"killed by signal {-p.returncode}"
    return p


@case
def a_read_failing_halfway_skips_its_sample_or_fails_strict():
    path = os.path.join(TMP, "fault.h5")
    subprocess.run([MESHSTATS, "generate", path, "-q",
                    "--samples", "4", "--timesteps", "60", "--nodes", "3000"],
                   check=True)
    # 1M and one unit in flight: each sample is 15 units, read in order,
    # so the 20th read is inside sample 1, after part of it was folded.
    args = ("--memory-limit", "1M", "-j", "1", "--prefetch", "1")
    p = faulted(path, 20, "--json", "-", *args)
    assert p.returncode == 0, p.stderr
    assert "injected fault" in p.stderr and "sample 1" in p.stderr
    assert '"used": 3' in p.stdout and '"id": 1' in p.stdout
    # The result is that of the other three samples alone.
    faulted_stats = json.loads(p.stdout)
    others = json.loads(run(path, "--json", "-", "--samples", "0,2,3",
                            *args).stdout)
    for group in ("node", "edge", "delta"):
        assert faulted_stats[group] == others[group], group
    assert faulted_stats["samples"]["skipped"][0]["id"] == 1
    p = faulted(path, 20, "--strict", *args)
    assert p.returncode == 1 and "injected fault" in p.stderr
    # With two workers and deep prefetch, whichever unit fails, the pass
    # still ends with one sample skipped and nothing hanging.
    for fault in (1, 3, 7, 12):
        p = faulted(path, fault, "--json", "-", "-j", "2", "--prefetch", "8",
                    "--memory-limit", "4M")
        assert p.returncode == 0 and '"used": 3' in p.stdout, p.stderr


def holding(path, mode):
    """Another process that holds path open (h5py mode 'r' or 'r+'), as a
    training run or a notebook might."""
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import h5py, sys, time; f = h5py.File(sys.argv[1], sys.argv[2]); "
         "print('open', flush=True); time.sleep(30)", path, mode],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "open"
    return holder


@case
def file_locked_by_another_writer_or_reader():
    path = os.path.join(TMP, "locked.h5")
    subprocess.run([MESHSTATS, "generate", path, "-q",
                    "--samples", "2", "--timesteps", "4", "--nodes", "50"],
                   check=True)
    out = os.path.join(TMP, "locked.json")
    # A writer holds an exclusive lock: even reading is refused.
    holder = holding(path, "r+")
    try:
        p = run(path)
    finally:
        holder.kill()
        holder.wait()
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert "unable to lock file" in p.stderr, p.stderr
    assert "HDF5_USE_FILE_LOCKING=FALSE" in p.stderr, p.stderr
    # A reader holds a shared lock: the pass runs, the write-back is refused
    # after the table and the JSON are out, and the file is untouched.  (The
    # snapshot is taken now: HDF5 itself writes to a file opened 'r+'.)
    before = open(path, "rb").read()
    holder = holding(path, "r")
    also_wrap(1)  # the write-back refused after the pass
    try:
        p = run(path, "--write-back", "--json", out)
    finally:
        holder.kill()
        holder.wait()
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert "cannot open for writing" in p.stderr, p.stderr
    assert "HDF5_USE_FILE_LOCKING=FALSE" in p.stderr, p.stderr
    assert "node" in p.stdout, "the table is still printed"
    assert os.path.getsize(out) > 0, "the JSON is still written"
    assert open(path, "rb").read() == before, "the file changed"


if __name__ == "__main__":
    sys.exit(main("corpus"))
