"""End-to-end checks of meshes larger than one block against the numpy
oracle (docs/design.md "Large meshes", "Edge order"): the same bytes at
every memory limit, worker count, prefetch and read path; edge lists
stored in order, shuffled, over nodes numbered at random, read and placed
in parts; bad indices and non-finite values named at their place.

Usage: python3 test_large_mesh.py /path/to/meshstats
Prints TAP (one line per case).
"""

import json
import os
import re
import shutil
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402
from oracle_runs import (  # noqa: E402
    BLOCKED_E, BLOCKED_N, TMP, blocked_dataset, check, plate, run, stats,
    stats_hdf5_path)
from tap import WRAPPER, also_wrap, case, main, settings  # noqa: E402


@case
def edge_var_8_matches_numpy_and_carries_everywhere():
    # The training code's 8 edge features: r and |r| of the deformed mesh,
    # then of the reference mesh (rows 0..2), both directions.
    path = plate()
    got = stats(path, "--edge-var", 8)
    check(got, oracle.reference(path, ev=8))
    assert got["edge_var"] == 8 and len(got["edge"]["mean"]) == 8
    assert got["edge"]["mean"][4:7] == [0.0, 0.0, 0.0], got["edge"]["mean"]
    four = stats(path)
    for key in ("mean", "std", "min", "max"):
        assert got["edge"][key][:4] == four["edge"][key], key
    check(stats(path, "--edge-var", 8, "-s", 5),
          oracle.reference(path, ev=8, M=5))
    # Config key, write-back shape and attribute, CSV and table columns.
    cfg = os.path.join(TMP, "ev8.txt")
    with open(cfg, "w") as f:
        f.write("edge_var 8\n")
    also_wrap(2)  # the config key and write-back under valgrind too
    assert stats(path, "-c", cfg) == got
    copy = os.path.join(TMP, "ev8.h5")
    shutil.copy(path, copy)
    csv = os.path.join(TMP, "ev8.csv")
    p = run("--edge-var", 8, "--write-back", "--per-sample", csv, copy)
    assert "r0_x" in p.stdout and "|r0|" in p.stdout, p.stdout
    with h5py.File(copy, "r") as f:
        params = f["metadata/normalization_params"]
        assert params["edge_mean"].shape == (8,)
        assert params["edge_std"].shape == (8,)
        assert params.attrs["edge_var"] == 8
    with open(csv) as f:
        header = f.readline()
    assert "edge_|r0|_std" in header and "edge_r0_z_mean" in header, header
    p = run("--edge-var", 5, path, expect=2)
    assert "--edge-var: '5' is not valid; expected 4 or 8" in p.stderr


@case
def blocked_mesh_matches_numpy_full_and_sampled():
    path = blocked_dataset("blocked.h5")
    check(stats(path), oracle.reference(path))
    also_wrap(1)  # edge features of order 8 in a blocked unit
    check(stats(path, "--edge-var", 8), oracle.reference(path, ev=8))
    check(stats(path, "-s", 3), oracle.reference(path, M=3))
    check(stats(path, "-s", 2, "--output-var", 2),
          oracle.reference(path, ov=2, M=2))
    # 360,001 nodes (an odd number: the reference positions after the
    # deformed ones still 16-byte aligned, asserted in the test build):
    # positions of 8.6 MB, written around the cache (unit.c,
    # MS_STREAM_POSITIONS_BYTES), deformed and reference (edge_var 8), in
    # two buffers and in one; 180,000 edges between random nodes, every
    # node but one an end of one (fewer edges than nodes: not renumbered).
    big = os.path.join(TMP, "streamed.h5")
    rng = np.random.default_rng(11)
    ends = rng.permutation(360001)[:360000].reshape(2, 180000)
    oracle.write_dataset(big, [(0, rng.normal(0.0, 1.0, (8, 2, 360001)),
                                ends)])
    want = oracle.reference(big, ev=8)
    also_wrap(1)  # the stores around the cache under valgrind (3 s)
    for limit in ("2G", "24M"):
        check(stats(big, "--memory-limit", limit, "--edge-var", 8), want)


def limits_same(path, limits, workers=(1, 2), prefetches=("1", "auto")):
    """The JSON of path at every limit, worker count and prefetch: one."""
    outs = {}
    for limit, j, prefetch in settings(limits, workers, prefetches):
        out = run("-q", "--json", "-", "--memory-limit", limit, "-j", j,
                  "--prefetch", prefetch, path).stdout
        outs.setdefault(out, []).append((limit, j, prefetch))
    assert len(outs) == 1, list(outs.values())
    return json.loads(next(iter(outs)))


def local_edges(nodal, edges):
    """Edges between nodes at most 200 apart, stored by their first node,
    as meshers store them."""
    rng = np.random.default_rng(9)
    edges[0] = np.sort(rng.integers(0, BLOCKED_N - 200, size=BLOCKED_E))
    edges[1] = edges[0] + rng.integers(1, 200, size=BLOCKED_E)


def shuffle_edges(nodal, edges):
    local_edges(nodal, edges)
    edges[:] = edges[::-1, np.random.default_rng(10).permutation(BLOCKED_E)]


@case
def blocked_mesh_is_byte_identical_across_limits_workers_and_reads():
    # 2G holds two position buffers and the edge order; 8M one buffer and
    # the order; 4M one buffer, each EDGES unit reading its edges, which
    # only a list stored in order allows (test_plan.c checks those
    # choices; the trace says which the pass made).  Chunked, gzip and
    # H5Dread reads of the same values give the same bytes.
    path = blocked_dataset("blocked.h5")
    want = limits_same(path, ("2G", "8M"))
    for name, kw in (("blocked-gz.h5", {"chunks": (2, 2, 5000),
                                        "compression": "gzip"}),
                     ("blocked-ch.h5", {"chunks": (3, 1, 7000)})):
        other = blocked_dataset(name, **kw)
        also_wrap(1)  # each storage's blocked reads under valgrind
        for got in (stats(other, "--memory-limit", "8M"),
                    stats_hdf5_path(other)):
            for g in ("node", "edge", "delta"):
                assert got[g] == want[g], (name, g)
    got = stats_hdf5_path(path, "--memory-limit", "8M")
    for g in ("node", "edge", "delta"):
        assert got[g] == want[g], ("H5Dread", g)
    # Stored in order, a local list streams at 4M, with the same bytes as
    # kept; shuffled, its statistics are the same to 1e-12.
    ordered = blocked_dataset("blocked-local.h5", transform=local_edges)
    same = limits_same(ordered, ("2G", "8M", "4M"))
    check(same, oracle.reference(ordered))
    traced_steps(ordered, {"keep": 1}, "--memory-limit", "8M")
    traced_steps(ordered, {"not kept": 1}, "--memory-limit", "4M")
    shuffled = blocked_dataset("blocked-shuffled.h5", transform=shuffle_edges)
    other = limits_same(shuffled, ("2G", "8M"))
    check(other, oracle.reference(shuffled))
    for g in ("node", "delta"):
        assert same[g] == other[g], g
    for key in ("mean", "std", "min", "max"):
        for a, b in zip(same["edge"][key], other["edge"][key]):
            assert abs(a - b) <= 1e-12 * max(other["edge"]["std"]), (key, a, b)
    # edge_var 8 doubles the positions each buffer holds, not the rule.
    eight = {run("-q", "--json", "-", "--edge-var", 8, "--memory-limit", lim,
                 "-j", j, path).stdout
             for lim, j in settings(("2G", "9M"), (1, 2))}
    assert len(eight) == 1, len(eight)


def node_reads(path, *args):
    """How many units of sample 0 read nodal_data in a traced run (EDGES
    units of a kept or placed list read nothing)."""
    trace = os.path.join(TMP, "reads.trace")
    run("-q", "--json", "/dev/null", "--trace", trace, *args, path)
    with open(trace) as f:
        return sum(1 for e in json.load(f)["traceEvents"]
                   if e["ph"] == "X" and e["name"] == "read"
                   and e["args"].get("sample") == 0
                   and e["args"].get("bytes", 0) > 0)


@case
def chunks_across_many_blocks_are_read_by_units_across_them():
    # A chunk holding a row of a timestep for every node, as `meshstats
    # generate --chunked --gzip` writes them, is decoded whole whenever
    # any of its nodes is read: the NODES units span it, and the
    # renumbering reads the reference positions in spans as long as its
    # buffer allows, so it is decoded once a unit, not once a block of
    # 16,384 nodes (docs/design.md "Large meshes").  100,000 nodes (7
    # blocks, more than a unit of unchunked data takes) between random
    # nodes (renumbered), and along a chain (stored in order).
    N, T = 100_000, 3
    rng = np.random.default_rng(21)
    nodal = rng.normal(0.0, 1.0, size=(8, T, N))
    nodal[0:3] += rng.uniform(0.0, 100.0, size=(3, 1, N))
    chain = np.stack([np.arange(N - 1), np.arange(1, N)])
    for name, edges in (("random", rng.integers(0, N, size=(2, 2 * N))),
                        ("chain", chain)):
        plain = os.path.join(TMP, f"across-{name}.h5")
        gz = os.path.join(TMP, f"across-{name}-gz.h5")
        oracle.write_dataset(plain, [(0, nodal, edges)])
        oracle.write_dataset(gz, [(0, nodal, edges)], chunks=(1, 1, N),
                             compression="gzip")
        want = stats(plain, "--memory-limit", "2G")
        check(want, oracle.reference(plain))
        for args in (("--memory-limit", "2G"), ("--memory-limit", "2G",
                                                 "-j", 1, "-s", 2),
                     ("--memory-limit", "12M")):
            got = stats(gz, *args)
            ref = want if "-s" not in args else stats(plain, *args)
            for g in ("node", "edge", "delta"):
                assert got[g] == ref[g], (name, args, g)
        if WRAPPER:
            continue
        # One NODES unit a timestep where the limit holds the chunk's
        # nodes; the same values unchunked take units of the usual size.
        assert node_reads(gz, "--memory-limit", "2G") == T, name
        assert node_reads(plain, "--memory-limit", "2G") > T, name


@case
def an_unordered_edge_list_not_kept_fails_naming_the_limit_that_keeps_it():
    # The order of a list stored in no order is the mesh's own: where the
    # limit cannot hold it, the sample fails rather than give other bytes.
    path = blocked_dataset("blocked.h5")
    p = run("-q", "--json", "-", "--memory-limit", "5M", path, expect=1)
    assert "data/0/mesh_edge: its 270000 edges are not stored in an order " \
        "local to the mesh" in p.stderr, p.stderr
    need = re.search(r"raise --memory-limit \(config key "
                     r"stats_memory_limit\) to at least (\d+)K", p.stderr)
    assert need, p.stderr
    at = f"{need.group(1)}K"
    got = run("-q", "--json", "-", "--memory-limit", at, "--prefetch", "1",
              path).stdout
    assert json.loads(got) == stats(path), at


@case
def the_limit_named_for_an_unordered_list_holds_it_with_that_prefetch():
    # With --prefetch 2 the limit named keeps the list beside two units;
    # a limit too small for any budget names the one that keeps it too.
    path = blocked_dataset("blocked.h5")
    for args in (("--prefetch", "2", "--memory-limit", "5M"),
                 ("--edge-var", "8", "--memory-limit", "3M")):
        p = run("-q", "--json", "-", *args, path, expect=1)
        need = re.search(r"to at least (\d+)K", p.stderr)
        assert need, p.stderr
        again = list(args)
        again[-1] = f"{need.group(1)}K"
        got = run("-q", "--json", "-", *again, path).stdout
        want = stats(path, *args[:-2])
        assert json.loads(got) == want, (args, p.stderr)


LONG_N, LONG_E = 20000, 1_100_000


def long_local_mesh(rng, n=LONG_N):
    """n nodes and LONG_E edges between nodes at most 100 apart, stored by
    their first node: more than one part of a list."""
    lo = np.sort(rng.integers(0, n - 100, LONG_E))
    return (rng.normal(size=(7, 2, n)),
            np.stack([lo, lo + rng.integers(1, 100, LONG_E)]))


def write_with_a_bad_edge(name, values, edges, at):
    """values and edges (with edge `at` pointing past the last node) as
    sample 0, and a tiny good sample 1: the file must skip sample 0 alone,
    naming the edge, at -j 1 and -j 2."""
    bad = edges.copy()
    bad[1, at] = values.shape[2]
    path = os.path.join(TMP, name)
    oracle.write_dataset(path, [(0, values, bad), (1, values[:, :, :50],
                                                   np.array([[0], [1]]))])
    also_wrap(1)  # the bad edge found in its part under valgrind
    for j in ("1", "2"):
        skipped = stats(path, "-j", j, "--prefetch", "auto")["samples"][
            "skipped"]
        assert len(skipped) == 1 and f"edge {at} = (" in \
            skipped[0]["reason"], (name, skipped)


@case
def a_bad_index_in_a_later_part_of_a_kept_list_skips_its_sample():
    # A list stored in order and kept is read in parts side by side: the
    # part with the bad index fails the sample even when the next one
    # reads fine.
    nodal, edges = long_local_mesh(np.random.default_rng(41))
    write_with_a_bad_edge("later-bad.h5", nodal, edges, 300_000)


@case
def a_list_placed_in_several_parts_is_the_same_whatever_ran_them():
    # 1,100,000 edges are counted, put and sorted in two parts (edge_order.h
    # MS_ORDER_PART) side by side: shuffled, or over nodes numbered at
    # random (renumbered first), the bytes are the same for any workers
    # and prefetch, equal to numpy; a bad index in the second part skips
    # the sample.
    # 40,000 nodes: numbered at random, more than one in eight of the
    # first 262,144 edges join nodes 16,384 or more apart (the rule that
    # renumbers, docs/design.md "Edge order"; at 20,000 only 3% do).
    rng = np.random.default_rng(43)
    n = 40_000
    nodal, local = long_local_mesh(rng, n)
    nodal[0:3] += np.linspace(0, 50, n)  # positions follow numbering
    relabel = rng.permutation(n)
    meshes = {"shuffled": (nodal, local[::-1, rng.permutation(LONG_E)]),
              "renumbered": (nodal[:, :, np.argsort(relabel)],
                             relabel[local])}
    first = relabel[local][:, :262_144]
    assert np.mean(np.abs(first[0] - first[1]) >= 16_384) > 1 / 8
    tiny = (nodal[:, :, :50], np.array([[0], [1]]))
    # Each step in parts: the list's two (MS_ORDER_PART); the nodes' sort
    # one part of 40,000 nodes in each of two digits (a grid of 2^17
    # cells, sorted 15 bits a digit: MS_ORDER_DIGIT).
    steps = {"shuffled": {"count": 2, "put": 2, "sort edges": 2},
             "renumbered": {"map": 1, "sort nodes": 2, "count": 2, "put": 2,
                            "sort edges": 2}}
    for name, (values, edges) in meshes.items():
        path = os.path.join(TMP, f"parts-{name}.h5")
        oracle.write_dataset(path, [(0, values, edges), (1, *tiny)])
        check(limits_same(path, ("2G",)), oracle.reference(path))
        traced_steps(path, steps[name])
        write_with_a_bad_edge(f"parts-{name}-bad.h5", values, edges,
                              1_050_000)
    # Stored by its first node, the list is kept as stored, read in parts.
    path = os.path.join(TMP, "parts-ordered.h5")
    oracle.write_dataset(path, [(0, nodal, local), (1, *tiny)])
    traced_steps(path, {"keep": 2})


def traced_steps(path, steps, *args):
    """The trace of sample 0 of path names its first task `list`, and the
    other tasks that order its edges by their steps, each in the parts
    steps gives (numbered from 0); each step starts after the one before
    has ended in every part (but the mapping of the order's memory, which
    runs beside them), and the units after the list is put.  args: the
    run's settings.  Not under valgrind (a run of 1,100,000 edges each,
    and threads that take turns: the order of work is the other stages'
    to check; the trace is written under it in test_oracle.py's
    checked_ahead)."""
    if WRAPPER:
        return
    trace = os.path.join(TMP, "steps.trace")
    run("-q", "--json", "/dev/null", "-j", 2, "--trace", trace, *args, path)
    with open(trace) as f:
        spans = [e for e in json.load(f)["traceEvents"]
                 if e["ph"] == "X" and e.get("args", {}).get("sample") == 0]
    by_step = {}
    for e in sorted((e for e in spans if e["name"] == "edges"),
                    key=lambda e: e["ts"]):
        by_step.setdefault(e["args"]["step"], []).append(e)
    first = by_step.pop("list")
    assert [e["args"] for e in first] == [{"sample": 0, "step": "list"}]
    assert set(by_step) == set(steps), list(by_step)
    for step, group in by_step.items():
        parts = sorted(e["args"].get("part", 0) for e in group)
        assert parts == list(range(steps[step])), (step, parts)
    end = first[0]["ts"] + first[0]["dur"]
    for step in steps:
        group = by_step[step]
        if step == "map":  # beside the others: nothing waits for it
            continue
        assert min(e["ts"] for e in group) >= end, (step, "started early")
        end = max(e["ts"] + e["dur"] for e in group)
    if "put" in steps:
        last_put = max(e["ts"] + e["dur"] for e in by_step["put"])
        units = [e for e in spans if e["name"] == "read"]
        assert units and min(e["ts"] for e in units) >= last_put


@case
def blocked_mesh_names_a_nonfinite_value_by_its_node_in_the_mesh():
    def spoil(nodal, edges):
        nodal[4, 2, 30001] = np.nan   # disp_y, timestep 2, in block 2
    path = blocked_dataset("blocked-nan.h5", spoil)
    p = run(path, expect=1)
    assert "feature row 4, timestep 2, node 30001" in p.stderr, p.stderr

    def spoil_position(nodal, edges):
        nodal[1, 3, 20000] = np.inf   # reference y: only edges use it
        edges[0, 7] = 20000
    path = blocked_dataset("blocked-inf.h5", spoil_position)
    also_wrap(1)  # a position's non-finite value: the edges' path
    p = run(path, expect=1)
    assert ("non-finite deformed position inf (feature rows 1 + 4), "
            "timestep 3, node 20000") in p.stderr, p.stderr
    got = stats(path, "--skip-nonfinite")
    with h5py.File(path, "r") as f:
        e = f["data/0/mesh_edge"][...]
    touching = int(np.count_nonzero((e[0] == 20000) | (e[1] == 20000)))
    assert got["edge"]["nonfinite_skipped"] == 2 * touching, got["edge"]
    assert got["edge"]["count"] == 2 * BLOCKED_E * 5 - 2 * touching
    assert got["node"]["nonfinite_skipped"] == 0


@case
def long_edge_lists_are_read_in_parts_directly_or_through_hdf5():
    """1,100,000 edges: read by blocks of 262,144 (pass.h MS_EDGE_BLOCK),
    with pread (contiguous native int64 and int32) or H5Dread: the same
    bytes, equal to numpy; a bad index in a later block is named at its
    place."""
    rng = np.random.default_rng(31)
    nodal, plate = oracle.random_sample(rng, 8, 2, 40, 25)  # 1000 nodes
    edges = rng.integers(0, 1000, size=(2, 1_100_000), dtype=np.int64)
    got = {}
    for edge_dtype in ("<i8", "<i4"):
        path = os.path.join(TMP, f"long-edges{edge_dtype[1:]}.h5")
        oracle.write_dataset(path, [(0, nodal, edges)], edge_dtype=edge_dtype)
        also_wrap(1)  # each integer type's pread under valgrind
        got[edge_dtype] = stats(path, "-j", 2)
        slow = stats_hdf5_path(path)
        for g in ("node", "edge", "delta"):
            assert got[edge_dtype][g] == slow[g], (edge_dtype, g)
            assert got[edge_dtype][g] == got["<i8"][g], (edge_dtype, g)
    check(got["<i8"], oracle.reference(path))
    # Stored by lower node, not kept at 8M (each EDGES unit reads its own
    # edges): the same bytes as kept.
    ordered = np.sort(edges, axis=0)
    ordered = ordered[:, np.argsort(ordered[0], kind="stable")]
    sorted_path = os.path.join(TMP, "long-edges-sorted.h5")
    oracle.write_dataset(sorted_path, [(0, nodal, ordered)])
    also_wrap(1)  # the edges read by each EDGES unit
    small = stats(sorted_path, "--memory-limit", "8M")
    assert small == stats(sorted_path, "--memory-limit", "2G")
    check(small, oracle.reference(sorted_path))
    # A bad index in the last block, then in the first (whose neighbour
    # block is read fine), is named at its place.
    for bad in (1_090_000, 5):
        wrong = edges.copy()
        wrong[1, bad] = 1000
        oracle.write_dataset(path, [(0, nodal, wrong), (1, nodal, plate)],
                             edge_dtype="<i4")
        for read in (stats, stats_hdf5_path):
            for workers in ("1", "2"):
                skipped = read(path, "-j", workers)["samples"]["skipped"]
                assert len(skipped) == 1 and f"edge {bad} = (" in \
                    skipped[0]["reason"], (bad, skipped)


if __name__ == "__main__":
    sys.exit(main("large_mesh"))
