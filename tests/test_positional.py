"""Positional node features (docs/spec.md section 2.1) and the one-timestep
rule, against the numpy reference of tests/oracle.py (dense float64
matrices from the definition), on meshes made here: odd ids, shuffled and
repeated edges, a self-loop, an isolated node, samples of different sizes.

Usage: python3 test_positional.py /path/to/meshstats   (prints TAP)
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
import oracle  # noqa: E402
from tap import case, main, wrapper  # noqa: E402

MESHSTATS = sys.argv[1] if len(sys.argv) > 1 else "meshstats"
TMP = tempfile.mkdtemp(prefix="meshstats-positional-")
atexit.register(shutil.rmtree, TMP, True)
RNG = np.random.default_rng(19)


def run(*args, expect=0, cwd=TMP):
    p = subprocess.run([*wrapper(), MESHSTATS, *map(str, args)],
                       capture_output=True, text=True, cwd=cwd, timeout=120)
    assert p.returncode == expect, \
        f"exit {p.returncode} (expected {expect}) for {args}: {p.stderr}"
    return p


def stats(path, *args):
    return json.loads(run("--json", "-", "-q", *args, path).stdout)


def check(got, ref, iv=4):
    # The positional columns are computed, not stored: their min and max
    # agree to rounding, not bit for bit.
    for key in ("min", "max"):
        for k in range(iv, len(ref["node"][key])):
            a, b = got["node"][key][k], ref["node"][key][k]
            assert abs(a - b) <= 1e-12 * max(abs(b), 1e-300), (key, k, a, b)
            got["node"][key][k] = b
    problems = oracle.compare(got, ref, tol=1e-9)
    assert not problems, "; ".join(problems[:6])
    assert got["samples"]["used"] == ref["used"]


def mesh(sid, nx, ny, T):
    """A shuffled plate mesh with a repeated edge, a self-loop and an
    isolated last node, far from the origin."""
    nodal, edges = oracle.random_sample(RNG, 8, T, nx, ny)
    N = nx * ny + 1
    nodal = np.concatenate([nodal, RNG.normal(size=(8, T, 1))], axis=2)
    nodal[0:3] += RNG.normal(0, 0.01, size=(3, 1, N)) + 1e3
    edges = edges[:, RNG.permutation(edges.shape[1])]
    edges = np.concatenate([edges, edges[:, :3], [[2], [2]]], axis=1)
    return nodal, edges[::-1] if sid % 2 else edges


def dataset(name, T=5, ids=(7, 12, 300)):
    path = os.path.join(TMP, name)
    if not os.path.exists(path):
        oracle.write_dataset(path, [(sid, *mesh(sid, 4 + i, 3 + i, T))
                                    for i, sid in enumerate(ids)])
    return path


@case
def two_four_and_seven_columns_match_numpy_full_and_sampled():
    path = dataset("plates.h5")
    for P in (2, 4, 7):
        got = stats(path, "--positional-features", P)
        assert got["positional_features"] == P
        assert len(got["node"]["features"]) == 4 + P
        check(got, oracle.reference(path, P=P))
        check(stats(path, "--positional-features", P, "-s", 3),
              oracle.reference(path, P=P, M=3))
        check(stats(path, "--positional-features", P, "--samples", "12,300"),
              oracle.reference(path, P=P, only_ids={12, 300}))
    names = stats(path, "--positional-features", 7)["node"]["features"][4:]
    assert names == ["centroid_dist", "mean_edge_len", "rwpe_2", "rwpe_4",
                     "rwpe_8", "rwpe_16", "rwpe_32"], names


@case
def the_columns_are_byte_identical_across_workers_limits_and_reads():
    path = dataset("plates.h5")
    chunked = os.path.join(TMP, "plates_gz.h5")
    with h5py.File(path) as src, h5py.File(chunked, "w") as dst:
        for sid in src["data"]:
            g = dst.create_group(f"data/{sid}")
            g.create_dataset("nodal_data", data=src[f"data/{sid}/nodal_data"],
                             chunks=(8, 1, 5), compression="gzip",
                             shuffle=True)
            g["mesh_edge"] = src[f"data/{sid}/mesh_edge"][...]
    want = run("--json", "-", "-q", "--positional-features", 7, path).stdout
    for args in (("-j", 1), ("-j", 2, "--memory-limit", "300K"),
                 ("--prefetch", 1)):
        for p in (path, chunked):
            got = run("--json", "-", "-q", "--positional-features", 7, *args,
                      p).stdout
            assert got.replace(p, path) == want, (args, p)


@case
def whether_a_mesh_s_columns_fit_depends_on_the_limit_not_the_workers():
    # 12,000 nodes: their columns' task takes 2.26 MB; at 64 workers the
    # automatic prefetch of 128 would leave each task 2 MB of the 256M.
    path = os.path.join(TMP, "mixed.h5")
    oracle.write_dataset(path, [(0, *mesh(0, 120, 100, 6)),
                                (1, *mesh(1, 6, 5, 3))])
    want = run("--json", "-", "-q", "--positional-features", 7, "-j", 1,
               path).stdout
    assert json.loads(want)["samples"]["used"] == 2, want
    for args in (("-j", 64), ("-j", 64, "--quantiles")):
        p = run("--json", "-", "-q", "--positional-features", 7, *args, path)
        assert "positional features" not in p.stderr, (args, p.stderr)
        got = json.loads(p.stdout)
        if "--quantiles" in args:  # (the moments the same bytes)
            for g in ("node", "edge", "delta"):
                got[g].pop("quantiles", None)
            got.pop("quantile_accuracy", None)
            got.pop("warnings", None)
        assert json.dumps(got) == json.dumps(json.loads(want)), args


@case
def one_timestep_samples_feed_zeros_and_the_reference_mesh():
    path = dataset("t1.h5", T=1)
    for P in (0, 4):
        got = stats(path, "--positional-features", P)
        check(got, oracle.reference(path, P=P))
        assert got["node"]["mean"][:4] == [0, 0, 0, 0], got["node"]
        assert got["node"]["max"][:4] == [0, 0, 0, 0]


@case
def a_mesh_too_large_for_the_limit_fails_its_sample_by_name():
    # 3000 nodes: a unit fits in 500K, the seven columns' work does not.
    path = os.path.join(TMP, "wide.h5")
    run("generate", path, "-q", "--samples", 1, "--timesteps", 2, "--nodes",
        3000)
    run("--memory-limit", "500K", "--json", "-", path)
    p = run("--positional-features", 7, "--memory-limit", "500K", "--json",
            "-", path, expect=1)
    assert "positional features" in p.stderr and "--memory-limit" in \
        p.stderr, p.stderr


@case
def lpe_and_trajectories_are_refused_by_name():
    path = dataset("plates.h5")
    for enc in ("lpe", "rwpe+lpe"):
        p = run("--positional-features", 4, "--positional-encoding", enc,
                path, expect=2)
        assert enc in p.stderr and "rwpe" in p.stderr, p.stderr
    # Two columns need no encoding: lpe changes nothing there.
    assert stats(path, "--positional-features", 2,
                 "--positional-encoding", "lpe")["node"] == \
        stats(path, "--positional-features", 2)["node"]
    flag = os.path.join(TMP, "flag.h5")
    run("generate", flag, "-q", "--model", "cloth", "--samples", 2,
        "--timesteps", 4, "--nodes", 30)
    p = run("--positional-features", 2, flag, expect=2)
    assert "nodal model" in p.stderr, p.stderr
    p = run("--positional-features", 8, path, expect=2)
    assert "0..7" in p.stderr or "8" in p.stderr, p.stderr


@case
def config_key_csv_and_write_back_carry_the_columns():
    path = dataset("plates.h5")
    folder = os.path.join(TMP, "cfg")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.txt"), "w") as f:
        f.write("positional_features 4\npositional_encoding rwpe\n"
                "batch_size 8\n")
    by_key = run("--json", "-", "-q", path, cwd=folder).stdout
    by_option = run("--json", "-", "-q", "--positional-features", 4,
                    path).stdout
    assert by_key == by_option
    csv = run("--per-sample", "-", "-q", "--positional-features", 4,
              path).stdout
    assert "node_rwpe_4_mean" in csv.splitlines()[0] or "rwpe_4" in \
        csv.splitlines()[0], csv.splitlines()[0]
    copy = os.path.join(TMP, "wb.h5")
    shutil.copy(path, copy)
    run("--write-back", "-q", "--positional-features", 4, copy)
    with h5py.File(copy) as f:
        g = f["metadata/normalization_params"] if \
            "metadata/normalization_params" in f else f["metadata"]
        means = [k for k in g.keys() if k.startswith("node_mean")] or \
            [k for k in g.attrs if k.startswith("node_mean")]
        node_mean = g["node_mean"][...] if "node_mean" in g else \
            g.attrs["node_mean"]
        assert len(node_mean) == 8, (means, node_mean)
        assert int(g.attrs["positional_features"]) == 4
        assert b"rwpe_4" in bytes(g.attrs["node_features"]) if isinstance(
            g.attrs["node_features"], bytes) else \
            "rwpe_4" in g.attrs["node_features"]


if __name__ == "__main__":
    sys.exit(main("positional"))
