"""End-to-end checks of the meshstats command against the numpy oracle:
the seed's layout, sampled and full passes, chunked and compressed storage,
datatypes, bad samples, samples checked in segments, write-back, splits,
per-sample rows (large meshes: test_large_mesh.py; quantiles:
test_quantiles.py).

Usage: python3 test_oracle.py /path/to/meshstats
Prints TAP (one line per case).  Every dataset is written to a temporary
folder by h5py or by `meshstats generate`; nothing is read from the working
directory.
"""

import hashlib
import json
import os
import re
import subprocess
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402
from oracle_runs import (  # noqa: E402
    MESHSTATS, TMP, check, generated, plate, run, stats, stats_hdf5_path)
from tap import also_wrap, case, main, settings, wrapper  # noqa: E402


@case
def full_mode_matches_numpy_on_generated_plate():
    check(stats(plate()), oracle.reference(plate()))


@case
def sampled_mode_matches_numpy_linspace_selection():
    check(stats(plate(), "-s", 5), oracle.reference(plate(), M=5))


@case
def sampled_mode_with_more_timesteps_than_stored_equals_full():
    a, b = stats(plate(), "-s", 50), stats(plate())
    check(a, oracle.reference(plate(), M=50))
    for g in ("node", "edge", "delta"):
        assert a[g] == b[g], g


@case
def other_input_output_var_and_varying_shapes_match_numpy():
    rng = np.random.default_rng(7)
    samples = []
    for sid, (T, nx, ny) in zip([3, 10, 2], [(7, 5, 4), (1, 6, 3),
                                             (13, 4, 4)]):
        nodal, edges = oracle.random_sample(rng, 10, T, nx, ny)
        samples.append((sid, nodal, edges))
    path = os.path.join(TMP, "varying.h5")
    oracle.write_dataset(path, samples, dtype="<f8")
    for M in (0, 4):
        got = stats(path, "--input-var", 5, "--output-var", 3, "-s", M)
        check(got, oracle.reference(path, iv=5, ov=3, M=M))


@case
def large_offset_data_stays_exact():
    rng = np.random.default_rng(11)
    samples = []
    for sid in range(3):
        nodal, edges = oracle.random_sample(rng, 8, 30, 20, 15,
                                            offset=1e7, spread=10.0)
        nodal[0:3] += 1e7  # positions near 1e7 too
        samples.append((sid, nodal, edges))
    path = os.path.join(TMP, "offset.h5")
    oracle.write_dataset(path, samples, dtype="<f8")
    got = stats(path, "--memory-limit", "64K")
    ref = oracle.reference(path)
    check(got, ref)
    # The node means sit near 1e7 with a std near 10.
    assert abs(ref["node"]["mean"][0] - 1e7) < 1.0
    assert 9.0 < ref["node"]["std"][0] < 11.0


@case
def float32_large_offset_stays_exact():
    rng = np.random.default_rng(5)
    samples = [(s, *oracle.random_sample(rng, 8, 25, 12, 12, offset=1e7,
                                         spread=10.0)) for s in range(4)]
    path = os.path.join(TMP, "offset32.h5")
    oracle.write_dataset(path, samples, dtype="<f4")
    check(stats(path), oracle.reference(path))


@case
def json_is_byte_identical_across_memory_limits_and_workers():
    outs = {run("--json", "-", "--memory-limit", lim, "-j", j,
                plate()).stdout
            for lim, j in settings(("64K", "200K", "256M"), (1, 2))}
    assert len(outs) == 1, f"{len(outs)} different outputs"


@case
def chunked_gzip_and_contiguous_copies_agree():
    args = ("--samples", 3, "--timesteps", 9, "--nodes", 120)
    plain = generated("p.h5", *args)
    gz = generated("gz.h5", *args, "--gzip", wrapped=True)
    also_wrap(1)  # the chunked file's generator too
    ch = generated("ch.h5", *args, "--chunked", wrapped=True)
    also_wrap(3)  # each file's read under valgrind too
    res = [stats(p) for p in (plain, gz, ch)]
    with h5py.File(gz, "r") as f:
        assert f["data/0/nodal_data"].compression == "gzip"
    for r in res[1:]:
        for g in ("node", "edge", "delta"):
            assert r[g] == res[0][g], g


@case
def chunk_layouts_decoded_by_workers_match_hdf5_and_numpy():
    rng = np.random.default_rng(21)
    samples = [(s, *oracle.random_sample(rng, 8, 23, 25, 10))
               for s in range(3)]  # 250 nodes, 23 timesteps
    layouts = {
        "gzip_shuffle_partial": dict(chunks=(3, 7, 100), compression="gzip"),
        "gzip_whole_rows": dict(chunks=(1, 5, 250), compression="gzip"),
        "plain_chunks": dict(chunks=(2, 4, 64)),
    }
    for name, kw in layouts.items():
        path = os.path.join(TMP, f"chunks-{name}.h5")
        oracle.write_dataset(path, samples, dtype="<f4", **kw)
        for M in (0, 5):
            fast = stats(path, "-s", M, "--memory-limit", "2M")
            slow = stats_hdf5_path(path, "-s", M)
            for g in ("node", "edge", "delta"):
                assert fast[g] == slow[g], (name, M, g)
            check(fast, oracle.reference(path, M=M))


@case
def shuffle_only_deflate_only_and_unwritten_chunks_decode():
    rng = np.random.default_rng(22)
    nodal, edges = oracle.random_sample(rng, 8, 12, 10, 6)
    for name, kw in (("shuffle", dict(shuffle=True)),
                     ("deflate", dict(compression="gzip", shuffle=False))):
        path = os.path.join(TMP, f"only-{name}.h5")
        with h5py.File(path, "w") as f:
            g = f.create_group("data/0")
            g.create_dataset("nodal_data", data=nodal.astype("<f4"),
                             chunks=(2, 3, 60), **kw)
            g.create_dataset("mesh_edge", data=edges)
        also_wrap(1)  # each filter's decoding under valgrind
        fast, slow = stats(path), stats_hdf5_path(path)
        assert all(fast[g] == slow[g] for g in ("node", "edge", "delta"))
        check(fast, oracle.reference(path))
    # A sample whose chunks were not all written (an export that stopped
    # at timestep 4) is left out, on both read paths: its fill values would
    # otherwise count as data.  The statistics are the other sample's.
    path = os.path.join(TMP, "unwritten.h5")
    with h5py.File(path, "w") as f:
        g = f.create_group("data/0")
        d = g.create_dataset("nodal_data", shape=nodal.shape, dtype="<f4",
                             chunks=(8, 4, 60), compression="gzip",
                             fillvalue=0.25)
        d[:, :4, :] = nodal[:, :4, :]  # timesteps 4.. stay unwritten
        g.create_dataset("mesh_edge", data=edges)
        g = f.create_group("data/1")
        g.create_dataset("nodal_data", data=nodal, chunks=(8, 4, 60),
                         compression="gzip")
        g.create_dataset("mesh_edge", data=edges)
    fast, slow = stats(path), stats_hdf5_path(path)
    assert all(fast[g] == slow[g] for g in ("node", "edge", "delta"))
    assert [s["id"] for s in fast["samples"]["skipped"]] == [0], fast
    check(fast, oracle.reference(path, skip_ids=[0]))


@case
def big_endian_floats_and_int32_edges_are_converted():
    rng = np.random.default_rng(3)
    samples = [(s, *oracle.random_sample(rng, 8, 6, 5, 5)) for s in range(2)]
    le = os.path.join(TMP, "le.h5")
    be = os.path.join(TMP, "be.h5")
    oracle.write_dataset(le, samples, dtype="<f8")
    oracle.write_dataset(be, samples, dtype=">f8", edge_dtype=">i4")
    a, b = stats(le), stats(be)
    for g in ("node", "edge", "delta"):
        assert a[g] == b[g], g
    check(b, oracle.reference(be))


@case
def samples_of_different_datatypes_in_turn_are_each_read_as_stored():
    # The checks keep the facts of the last datatype met (src/read/
    # dataset_check.c): each sample's own must be asked whenever it
    # differs, float32 or 64, either byte order, int32 or 64 edges.
    rng = np.random.default_rng(31)
    nodal_types = ["<f4", "<f8", ">f4", "<f4", ">f8"]
    edge_types = ["<i8", "<i4", ">i8", "<i4"]
    path = os.path.join(TMP, "types.h5")
    with h5py.File(path, "w") as f:
        for k in range(20):
            nodal, edges = oracle.random_sample(rng, 8, 3, 4, 3)
            g = f.create_group(f"data/{k}")
            g.create_dataset("nodal_data", data=nodal,
                             dtype=nodal_types[k % 5])
            g.create_dataset("mesh_edge", data=edges, dtype=edge_types[k % 4])
    check(stats(path), oracle.reference(path))


@case
def single_timestep_sample_uses_its_values_as_deltas():
    rng = np.random.default_rng(9)
    nodal, edges = oracle.random_sample(rng, 8, 1, 4, 3)
    path = os.path.join(TMP, "t1.h5")
    oracle.write_dataset(path, [(0, nodal, edges)], dtype="<f8")
    got = stats(path)
    check(got, oracle.reference(path))
    assert got["delta"]["count"] == 12
    assert got["delta"]["mean"][0] == np.mean(nodal[3, 0]) or \
        abs(got["delta"]["mean"][0] - np.mean(nodal[3, 0])) < 1e-12


@case
def bad_sample_is_skipped_listed_and_fails_under_strict():
    rng = np.random.default_rng(1)
    good = [(s, *oracle.random_sample(rng, 8, 5, 4, 4)) for s in (1, 2)]
    nodal, edges = oracle.random_sample(rng, 8, 5, 4, 4)
    edges = edges.copy()
    edges[1, 3] = 99  # outside [0, 16)
    path = os.path.join(TMP, "badedge.h5")
    oracle.write_dataset(path, good + [(5, nodal, edges)])
    p = run("--json", "-", path)
    got = json.loads(p.stdout)
    assert got["samples"] == {"found": 3, "selected": 3, "used": 2, "skipped": [
        got["samples"]["skipped"][0]]}
    skipped = got["samples"]["skipped"][0]
    assert skipped["id"] == 5 and "mesh_edge" in skipped["reason"]
    assert "sample 5" in p.stderr and "data/5/mesh_edge" in p.stderr
    check(got, oracle.reference(path, skip_ids={5}))
    p = run("--strict", path, expect=1)
    assert "sample 5" in p.stderr and "edge 3" in p.stderr


def segmented_dataset():
    """300 samples of odd ids and shapes, checked by the pass in segments
    of 64, 118 and 118 (src/pass/stream.c), each while the one before
    runs; four bad ones: two the check finds (too few feature rows, in the
    second and third segments), two a worker finds (an edge beyond the
    nodes, in the first and third)."""
    path = os.path.join(TMP, "segmented.h5")
    rng = np.random.default_rng(23)
    samples, bad = [], {}
    for k in range(300):
        sid = 7 + 5 * k + k * k % 5
        shape = (1 + k % 4, 3 + k % 3, 2 + k % 2)
        if k == 63:
            # The first segment's last sample, 3.2 MB: read at --throttle
            # 1, its run lasts seconds whatever the machine's speed, and
            # the checks of the next two segments (118 small samples each,
            # about 1 s under valgrind) begin before it ends.
            shape = (40, 50, 50)
        nodal, edges = oracle.random_sample(rng, 8, *shape)
        if k in (40, 250):
            edges = edges.copy()
            edges[0, 1] = 1000
            bad[sid] = "mesh_edge"
        if k in (100, 200):
            nodal = nodal[:5]
            bad[sid] = "feature rows"
        samples.append((sid, nodal, edges))
    if not os.path.exists(path):
        oracle.write_dataset(path, samples)
    return path, bad


@case
def samples_checked_in_segments_are_skipped_in_id_order_as_numpy_says():
    path, bad = segmented_dataset()
    p = run("--json", "-", "-j", 2, path)
    got = json.loads(p.stdout)
    check(got, oracle.reference(path, skip_ids=set(bad)))
    skipped = got["samples"]["skipped"]
    assert [s["id"] for s in skipped] == sorted(bad), skipped
    for s in skipped:
        assert bad[s["id"]] in s["reason"], s
    named = [int(m) for m in re.findall(r"warning: \S+: sample (\d+):",
                                        p.stderr)]
    assert named == sorted(bad), (named, p.stderr)
    for args in (("-j", 1), ("-j", 2, "--prefetch", 1),
                 ("--memory-limit", "1M", "-j", 3)):
        assert run("--json", "-", *args, path).stdout == p.stdout, args
    first = min(bad)
    p = run("--strict", path, expect=1)
    assert f"sample {first}:" in p.stderr and bad[first] in p.stderr, \
        p.stderr
    checked_ahead(path, bad)


def checked_ahead(path, bad):
    """Throttled, the first segment's run outlasts the second segment's
    check, and the check thread goes on to the third (src/pass/planner.c):
    the same bytes and warnings; under --strict, a bad sample that check
    found first fails the pass, named."""
    trace = os.path.join(TMP, "segmented.trace")
    also_wrap(1)  # --throttle, --trace, checks ahead: under valgrind too
    p = run("--json", "-", "-j", 2, "--throttle", 1, "--trace", trace, path)
    assert p.stdout == run("--json", "-", "-j", 2, path).stdout
    named = [int(m) for m in re.findall(r"warning: \S+: sample (\d+):",
                                        p.stderr)]
    assert named == sorted(bad), (named, p.stderr)
    with open(trace) as f:
        events = [e for e in json.load(f)["traceEvents"] if e["ph"] == "X"]
    checks = sorted((e for e in events if e["name"] == "check"),
                    key=lambda e: e["ts"])
    assert [c["args"]["samples"] for c in checks] == [64, 118, 118], checks
    with h5py.File(path, "r") as f:
        ids = sorted(int(k) for k in f["data"])
    first = set(ids[:64])
    run_end = max(e["ts"] + e["dur"] for e in events
                  if e["name"] == "compute" and e["args"]["sample"] in first)
    assert checks[2]["ts"] < run_end, "the third check began after the " \
        "first segment's run: nothing was checked ahead"
    # Without the two bad samples of the first segments, the first one in
    # id order is the third segment's, which that check found.
    keep = [i for i in ids if i not in sorted(bad)[:2]]
    later = sorted(bad)[2]
    also_wrap(1)  # a failure found ahead: under valgrind too
    p = run("--strict", "--throttle", 1, "--samples",
            ",".join(map(str, keep)), path, expect=1)
    assert f"sample {later}:" in p.stderr and bad[later] in p.stderr, \
        p.stderr
    # Without the second segment's bad sample only, the third segment's
    # check has found its own while the first segment's worker finds the
    # first one in id order: that one is named, not the later.
    keep = [i for i in ids if i != sorted(bad)[1]]
    first = sorted(bad)[0]
    p = run("--strict", "--throttle", 1, "--samples",
            ",".join(map(str, keep)), path, expect=1)
    assert f"sample {first}:" in p.stderr and bad[first] in p.stderr, \
        p.stderr


@case
def a_sample_of_a_later_segment_too_big_for_the_limit_fails_naming_it():
    # Segments share the limit out by themselves: sample 90 (the second
    # segment's) needs more than the first 64 did, and more than 300K.
    rng = np.random.default_rng(29)
    samples = [(k, *oracle.random_sample(rng, 8, 2, 3, 2)) for k in range(100)]
    samples[90] = (90, *oracle.random_sample(rng, 8, 2, 120, 100))
    path = os.path.join(TMP, "later-too-big.h5")
    oracle.write_dataset(path, samples)
    p = run("--memory-limit", "300K", path, expect=1)
    assert "sample 90: data/90/nodal_data" in p.stderr, p.stderr
    assert "raise --memory-limit" in p.stderr, p.stderr
    check(stats(path, "--memory-limit", "2M"), oracle.reference(path))


@case
def a_sample_too_big_for_a_later_segment_is_named_with_the_checks_ahead():
    # The check thread has checked the segments after the fourth (and set
    # aside their bad samples) when that segment's sample 400 is found too
    # big for its share: the rest is then checked again and planned whole
    # (src/pass/stream.c, plan_rest); the checks ahead are dropped, their
    # reasons with them (under valgrind in CI: no leak), and the failure
    # names sample 400.  At 2M it computes, the bad samples skipped.
    rng = np.random.default_rng(3)
    samples, bad = [], {30, 550}
    for k in range(600):
        big = k == 400
        nodal, edges = oracle.random_sample(rng, 8, 40 if big else 1,
                                            100 if big else 4,
                                            100 if big else 3)
        samples.append((k, nodal[:5] if k in bad else nodal, edges))
    path = os.path.join(TMP, "later-too-big-ahead.h5")
    oracle.write_dataset(path, samples)
    p = run("--json", "-", "-j", 2, "--memory-limit", "200K", path, expect=1)
    assert "sample 400:" in p.stderr, p.stderr
    assert "more than the memory limit" in p.stderr, p.stderr
    got = stats(path, "--memory-limit", "2M")
    assert [s["id"] for s in got["samples"]["skipped"]] == sorted(bad)
    check(got, oracle.reference(path, skip_ids=bad))


def file_digest(path):
    with h5py.File(path, "r") as f:
        h = hashlib.sha256()
        for name in sorted(f["data"].keys()):
            for ds in ("nodal_data", "mesh_edge"):
                h.update(f["data"][name][ds][...].tobytes())
        return h.hexdigest()


@case
def write_back_stores_float32_json_values_and_changes_nothing_else():
    path = os.path.join(TMP, "wb.h5")
    run("generate", path, "-q", "--samples", 2, "--timesteps", 5,
        "--nodes", 60, wrapped=False)
    before = file_digest(path)
    p = run("--json", "-", "--write-back", path)
    got = json.loads(p.stdout)
    assert file_digest(path) == before
    with h5py.File(path, "r") as f:
        g = f["metadata/normalization_params"]
        for group in ("node", "edge", "delta"):
            mean = g[f"{group}_mean"][...]
            std = g[f"{group}_std"][...]
            assert mean.dtype == np.float32 and std.dtype == np.float32
            assert np.array_equal(mean, np.float32(got[group]["mean"]))
            want = np.float32(np.maximum(got[group]["std"], 1e-8))
            assert np.array_equal(std, want), (group, std, want)
        assert np.array_equal(g["delta_min"][...],
                              np.float32(got["delta"]["min"]))
        assert np.array_equal(g["delta_max"][...],
                              np.float32(got["delta"]["max"]))
        assert g.attrs["mode"] in (b"full", "full")
        # The r components have mean 0 and the clamp shows on a constant.
        assert list(g["edge_mean"][:3]) == [0.0, 0.0, 0.0]
    # A second write-back replaces the datasets rather than failing.
    also_wrap(1)  # the swap of a new group for the old one
    run("-s", 2, "--write-back", "-q", path)
    with h5py.File(path, "r") as f:
        assert f["metadata/normalization_params"].attrs["mode"] in (
            b"sampled", "sampled")
    assert file_digest(path) == before


@case
def failed_run_never_opens_the_file_for_writing():
    rng = np.random.default_rng(2)
    nodal, edges = oracle.random_sample(rng, 8, 4, 3, 3)
    nodal[4, 2, 5] = np.nan
    path = os.path.join(TMP, "nan.h5")
    oracle.write_dataset(path, [(0, nodal, edges)], dtype="<f8")
    mtime = os.stat(path).st_mtime_ns
    with open(path, "rb") as fh:
        digest = hashlib.sha256(fh.read()).hexdigest()
    p = run("--write-back", path, expect=1)
    assert "non-finite" in p.stderr and "feature row 4" in p.stderr
    assert "timestep 2" in p.stderr and "sample 0" in p.stderr
    with open(path, "rb") as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == digest
    assert os.stat(path).st_mtime_ns == mtime


@case
def skip_nonfinite_leaves_out_rows_and_counts_them():
    rng = np.random.default_rng(4)
    nodal, edges = oracle.random_sample(rng, 8, 4, 3, 3)
    nodal[4, 1, 2] = np.inf  # node row (t=1, n=2); deltas t=0 and t=1
    path = os.path.join(TMP, "inf.h5")
    oracle.write_dataset(path, [(0, nodal, edges)], dtype="<f8")
    got = stats(path, "--skip-nonfinite")
    assert got["node"]["count"] == 4 * 9 - 1
    assert got["node"]["nonfinite_skipped"] == 1
    assert got["delta"]["nonfinite_skipped"] == 2
    keep = np.ones((4, 9), bool)
    keep[1, 2] = False
    col = nodal[3, :, :][keep]
    assert abs(got["node"]["mean"][0] - col.mean()) < 1e-12 * col.std()


@case
def an_outlier_whose_squares_overflow_around_the_first_value_matches_numpy():
    """disp_x 3e153 at the first node of a timestep: around it the
    timestep's other 299 values' squares sum past 1.8e308, around the
    mean they do not (before: that timestep's m2 silently 0)."""
    rng = np.random.default_rng(12)
    nodal, edges = oracle.random_sample(rng, 8, 6, 20, 15)
    nodal[3, 2, 0] = 3e153
    path = os.path.join(TMP, "outlier.h5")
    oracle.write_dataset(path, [(0, nodal, edges)], dtype="<f8")
    got, ref = stats(path), oracle.reference(path)
    check(got, ref)
    assert ref["node"]["std"][0] > 1e151  # the outlier counted


@case
def moments_that_overflow_are_an_error_naming_the_file_and_feature():
    """Finite values whose moments pass double's range: each timestep's
    stress constant at 1e200 (every block finite, their combination not),
    then +-1e200 within a timestep (the block itself): exit 1, no JSON,
    never a NaN, an inf or a std of 0 (before: exit 0 with those)."""
    rng = np.random.default_rng(13)
    nodal, edges = oracle.random_sample(rng, 8, 4, 5, 4)
    far = nodal.copy()
    far[6, 2, :] = 1e200
    within = nodal.copy()
    within[6, 1, :] = 1e200 * (-1.0) ** np.arange(20)
    for name, data, words in (
            ("combined", far, ("node feature stress", "once its blocks")),
            ("within", within, ("node features at timestep 1",))):
        path = os.path.join(TMP, f"overflow-{name}.h5")
        out = os.path.join(TMP, f"overflow-{name}.json")
        oracle.write_dataset(path, [(0, data, edges)], dtype="<f8")
        p = run("--json", out, path, expect=1)
        for w in (path, "overflow", *words):
            assert w in p.stderr, (w, p.stderr)
        assert not os.path.exists(out), name


@case
def split_train_equals_samples_list_equals_numpy():
    path = generated("splits.h5", "--samples", 10, "--timesteps", 7,
                     "--nodes", 90)
    with h5py.File(path, "r") as f:
        train = [int(i) for i in f["metadata/splits/train"][...]]
    by_split = stats(path, "--split", "train")
    by_ids = stats(path, "--samples", ",".join(map(str, train)))
    for g in ("node", "edge", "delta"):
        assert by_split[g] == by_ids[g], g
    assert by_split["selection"] == {"source": "split train", "ids": train}
    # found counts the file's samples, selected the train split's.
    assert by_split["samples"]["found"] == 10, by_split["samples"]
    assert by_split["samples"]["selected"] == by_split["samples"]["used"] \
        == len(train) == 8, by_split["samples"]
    check(by_split, oracle.reference(path, only_ids=set(train)))
    # Any worker count gives the same bytes with a selection too.
    outs = {run("--json", "-", "--split", "train", "-j", j, "--prefetch", p,
                path).stdout for j, p in settings((1, 2), (1, 5))}
    assert len(outs) == 1
    # The list file form and standard input agree.
    ids_file = os.path.join(TMP, "train.txt")
    with open(ids_file, "w") as f:
        f.write("# train\n" + "\n".join(map(str, reversed(train))) + "\n")
    also_wrap(2)  # both forms of --sample-list under valgrind too
    by_file = stats(path, "--sample-list", ids_file)
    p = subprocess.run([*wrapper(), MESHSTATS, "--json", "-", "--sample-list",
                        "-", path], input="\n".join(map(str, train)),
                       capture_output=True, text=True, cwd=TMP)
    by_stdin = json.loads(p.stdout)
    for g in ("node", "edge", "delta"):
        assert by_file[g] == by_split[g] == by_stdin[g], g


def read_csv(path):
    rows = np.genfromtxt(path, delimiter=",", names=True, dtype=None,
                         encoding="utf-8")
    return np.atleast_1d(rows)


@case
def per_sample_csv_rows_equal_one_sample_runs_and_merge_to_the_whole():
    path = generated("splits.h5", "--samples", 10, "--timesteps", 7,
                     "--nodes", 90)
    csv = os.path.join(TMP, "per_sample.csv")
    whole = stats(path, "--per-sample", csv)
    rows = read_csv(csv)
    assert len(rows) == 10 and list(rows["id"]) == list(range(10))
    assert np.all(rows["timesteps"] == 7)
    # Each row is exactly the result of a run on that sample alone.
    for sid in (0, 4, 9):
        one = stats(path, "--samples", sid)
        row = rows[rows["id"] == sid][0]
        assert row["node_disp_x_mean"] == one["node"]["mean"][0]
        assert row["edge_r_x_std"] == one["edge"]["std"][0]
        assert row["delta_d_stress_max"] == one["delta"]["max"][3]
        assert row["node_disp_x_count"] == one["node"]["count"]
    # Chan-merging the rows gives the whole-dataset result.
    n = rows["node_disp_z_count"].astype(float)
    mean = rows["node_disp_z_mean"]
    m2 = rows["node_disp_z_std"] ** 2 * n
    total_n = n.sum()
    total_mean = (n * mean).sum() / total_n
    total_m2 = m2.sum() + (n * (mean - total_mean) ** 2).sum()
    want_std = whole["node"]["std"][2]
    assert abs(total_mean - whole["node"]["mean"][2]) < 1e-12 * want_std
    assert abs(np.sqrt(total_m2 / total_n) - want_std) < 1e-10 * want_std
    # The outlier column is the worst |mean - dataset mean| / std.
    z = np.abs(rows["node_disp_z_mean"] - whole["node"]["mean"][2]) / want_std
    assert np.all(rows["outlier_std"] >= z - 1e-12)


@case
def top_k_names_the_most_outlying_samples():
    rng = np.random.default_rng(12)
    samples = [(s, *oracle.random_sample(rng, 8, 4, 4, 4)) for s in range(6)]
    samples[3][1][6] += 50.0  # sample 3's stress is far off
    path = os.path.join(TMP, "outlier.h5")
    oracle.write_dataset(path, samples, dtype="<f8")
    p = run("-q", "--top", 2, path)
    lines = [l for l in p.stderr.splitlines() if l.startswith("  sample")]
    assert len(lines) == 2 and lines[0].startswith("  sample 3:"), p.stderr
    assert "stress" in lines[0], lines[0]


if __name__ == "__main__":
    sys.exit(main("oracle"))
