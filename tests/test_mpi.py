"""meshstats under mpirun gives the bytes of one process.

Usage: python3 test_mpi.py MESHSTATS MPIRUN MPI_SWEEP   (TAP)
"""

import atexit
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402
from tap import case, main  # noqa: E402

MESHSTATS, MPIRUN, MPI_SWEEP = sys.argv[1], sys.argv[2], sys.argv[3]
TMP = tempfile.mkdtemp(prefix="meshstats-mpi-")
atexit.register(shutil.rmtree, TMP, True)


def single(*args):
    return subprocess.run([MESHSTATS, *map(str, args)], capture_output=True,
                          text=True, cwd=TMP, timeout=120)


def ranks(n, *args, program=MESHSTATS, timeout=180):
    return subprocess.run([MPIRUN, "--allow-run-as-root", "--oversubscribe",
                           "-n", str(n), program, *map(str, args)],
                          capture_output=True, text=True, cwd=TMP,
                          timeout=timeout)


def generated(name, samples, T=20, N=200):
    path = os.path.join(TMP, name)
    if not os.path.exists(path):
        single("generate", path, "-q", "--samples", samples, "--timesteps",
               T, "--nodes", N)
    return path


@case
def two_and_three_ranks_give_the_bytes_of_one_process():
    path = generated("seven.h5", 7)
    for args in ((), ("-s", 5), ("--split", "train"), ("--memory-limit", "1M"),
                 ("--quantiles",), ("--quantiles", "--quantile-accuracy",
                                    "0.001", "-s", 5)):
        want = single("-q", "--json", "-", *args, path)
        assert want.returncode == 0, want.stderr
        for n in (2, 3):
            got = ranks(n, "-q", "--json", "-", *args, path)
            assert got.returncode == 0, (n, args, got.stderr[-500:])
            assert got.stdout == want.stdout, (n, args)


@case
def a_master_of_linked_files_gives_the_bytes_of_the_data_in_one_file():
    # Each rank reads the linked files' bytes, never the master's.
    import h5py
    one = generated("linked_one.h5", 4)
    master = os.path.join(TMP, "linked_master.h5")
    with h5py.File(one, "r") as src, h5py.File(master, "w") as m:
        m.create_dataset("padding", data=np.arange(50000, dtype="<f4"))
        for name in src["data"]:
            part = os.path.join(TMP, f"linked_part{name}.h5")
            with h5py.File(part, "w") as p:
                p.create_dataset("junk", data=np.ones(999, "<f4"))
                src.copy(src[f"data/{name}"], p, name=f"data/{name}")
            m[f"data/{name}"] = h5py.ExternalLink(part, f"/data/{name}")
    want = single("-q", "--json", "-", one)
    assert want.returncode == 0, want.stderr
    got = ranks(2, "-q", "--json", "-", master)
    assert got.returncode == 0, got.stderr[-500:]
    assert got.stdout.replace(master, one) == want.stdout


@case
def large_meshes_among_many_small_ones_give_the_bytes_of_one_process():
    # One process checks and runs its samples in segments (src/pass/
    # stream.c); under MPI each rank checks its block first.  Whether a
    # large mesh stored in no order can have its edge list held depends on
    # the memory limit shared out over every sample, so the two must agree
    # at every limit: used, skipped or failed, the same bytes and status
    # (the two meshes in different segments: samples 64-181 and 182-299).
    path = os.path.join(TMP, "mixed.h5")
    rng = np.random.default_rng(41)
    samples = [(k, *oracle.random_sample(rng, 8, 2, 3, 2)) for k in range(300)]
    for k, n, e in ((100, 20000, 40000), (250, 60000, 150000)):
        nodal = rng.normal(0.0, 1.0, size=(8, 2, n))
        samples[k] = (k, nodal, rng.integers(0, n, size=(2, e)))
    oracle.write_dataset(path, samples)
    statuses = set()
    for limit in ("2M", "3M", "4M", "5M", "8M", "64M"):
        want = single("-q", "--json", "-", "--memory-limit", limit, path)
        got = ranks(2, "-q", "--json", "-", "--memory-limit", limit, path)
        assert got.returncode == want.returncode, (limit, want.stderr,
                                                   got.stderr[-500:])
        assert got.stdout == want.stdout, limit
        statuses.add((want.returncode, want.stdout.count('"id"')))
    assert len(statuses) >= 3, statuses  # (fails, skips one, uses all)


@case
def each_rank_writes_its_timeline():
    import json
    path = generated("seven.h5", 7)
    trace = os.path.join(TMP, "ranks.json")
    want = single("-q", "--json", "-", path)
    got = ranks(2, "-q", "--json", "-", "--trace", trace, path)
    assert got.returncode == 0, got.stderr[-500:]
    assert got.stdout == want.stdout, "the trace changes nothing"
    for name in (trace, trace + ".rank1"):
        events = json.load(open(name))["traceEvents"]
        assert any(e["name"] == "read" for e in events), name


@case
def an_output_that_cannot_be_written_stops_every_rank_before_the_pass():
    # Rank 0 checks what it writes; the ranks agree, so none is left in
    # the pass waiting for one that stopped (it hung until killed).
    path = generated("seven.h5", 7)
    bad = os.path.join(TMP, "no", "such.json")
    got = ranks(3, "-q", "--json", bad, path, timeout=60)
    assert got.returncode == 1, (got.returncode, got.stderr[-500:])
    assert got.stderr.count(bad + ": cannot write the JSON") == 1, \
        got.stderr[-500:]


@case
def the_progress_counts_every_ranks_work():
    # Each rank checks and cuts its own samples, but rank 0's bar counts
    # the whole pass: never 100% before every sample is done.
    import re
    path = generated("progress.h5", 40)
    p = ranks(2, "-q", "--json", os.devnull, "--progress", "always", "-j", 1,
              "--throttle", 1, path)
    assert p.returncode == 0, p.stderr[-500:]
    lines = [re.match(r"\s*(\d+)% .*? (\d+)/(\d+) samples", x)
             for x in re.split(r"[\r\n]", p.stderr)]
    lines = [m for m in lines if m]
    assert len(lines) >= 3, p.stderr  # some in the middle of the pass
    for m in lines:
        pct, done, total = (int(g) for g in m.groups())
        assert total == 40 and (pct < 100 or done == total), m.group(0)


@case
def a_trajectory_file_gives_the_bytes_of_one_process():
    path = os.path.join(TMP, "flag.h5")
    single("generate", path, "-q", "--model", "cloth", "--samples", 5,
           "--timesteps", 12, "--nodes", 80)
    for args in ((), ("-s", 5), ("--samples", "1-3")):
        want = single("-q", "--json", "-", *args, path)
        assert want.returncode == 0, want.stderr
        assert '"model": "cloth"' in want.stdout
        got = ranks(2, "-q", "--json", "-", *args, path)
        assert got.returncode == 0, (args, got.stderr[-500:])
        assert got.stdout == want.stdout, args


@case
def per_sample_report_is_the_same_under_mpi():
    path = generated("seven.h5", 7)
    one = os.path.join(TMP, "one.csv")
    many = os.path.join(TMP, "many.csv")
    single("-q", "--per-sample", one, path)
    p = ranks(3, "-q", "--per-sample", many, path)
    assert p.returncode == 0, p.stderr
    assert open(one).read() == open(many).read()


@case
def fewer_samples_than_ranks():
    # With one sample and three ranks, rank 1 is given none: it has no
    # result of its own, which is no error.
    for samples in (1, 2):
        path = generated(f"few{samples}.h5", samples)
        want = single("-q", "--json", "-", path).stdout
        p = ranks(3, "-q", "--json", "-", path)
        assert p.returncode == 0, (samples, p.stderr)
        assert p.stdout == want, samples


@case
def every_allocation_failure_on_any_rank_fails_every_rank_cleanly():
    # The library's allocation-failure sweep, with the fault on one rank at
    # a time: the combine's allocations included, no rank may crash, return
    # another code, or wait for ever in a collective (the timeout).
    rng = np.random.default_rng(5)
    samples = [(s, *oracle.random_sample(rng, 8, 7, 6, 5)) for s in range(5)]
    edges = samples[4][2].copy()
    edges[0, 1] = 10**6  # a skipped sample: its reason crosses ranks too
    samples[4] = (4, samples[4][1], edges)
    path = os.path.join(TMP, "sweep.h5")
    oracle.write_dataset(path, samples, dtype="<f4")
    p = ranks(2, path, program=MPI_SWEEP, timeout=500)
    assert p.returncode == 0, p.stdout + p.stderr[-2000:]
    lines = p.stdout.splitlines()
    assert len(lines) == 2, p.stdout
    for rank, line in enumerate(lines):
        assert line.startswith(f"rank {rank}: "), line
        assert line.endswith("every failure MS_ENOMEM"), line
        assert int(line.split()[2]) > 20, line  # it did sweep


@case
def a_bad_sample_on_a_rank_is_skipped_or_fails_all_ranks_named():
    rng = np.random.default_rng(3)
    samples = [(s, *oracle.random_sample(rng, 8, 6, 5, 4)) for s in range(6)]
    edges = samples[5][2].copy()
    edges[1, 2] = 999  # sample 5, in the last rank's block
    samples[5] = (5, samples[5][1], edges)
    path = os.path.join(TMP, "bad.h5")
    oracle.write_dataset(path, samples, dtype="<f8")
    for args in ((), ("--quantiles",)):  # (the skipped sample's values out)
        want = single("-q", "--json", "-", *args, path)
        got = ranks(3, "-q", "--json", "-", *args, path)
        assert got.returncode == 0, got.stderr
        assert got.stdout == want.stdout, args
    assert "sample 5" in got.stderr and "warning" in got.stderr
    assert got.stderr.count("warning") == 1, got.stderr  # rank 0 only
    p = ranks(3, "-q", "--strict", path)
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert "sample 5" in p.stderr and "edge 2" in p.stderr, p.stderr
    # A failure in the data (not the layout) names the rank.
    nodal = samples[4][1].copy()
    nodal[3, 2, 1] = np.nan
    samples[4] = (4, nodal, samples[4][2])
    samples[5] = (5, samples[5][1], samples[0][2])
    nan_path = os.path.join(TMP, "nan.h5")
    oracle.write_dataset(nan_path, samples, dtype="<f8")
    p = ranks(3, "-q", nan_path)
    assert p.returncode == 1, p.stderr
    assert "rank 2 of 3" in p.stderr and "sample 4" in p.stderr, p.stderr


@case
def only_rank_zero_writes_back():
    path = generated("wb.h5", 4)
    p = ranks(2, "--write-back", path)
    assert p.returncode == 0, p.stderr
    assert p.stderr.count("wrote metadata/normalization_params") == 1, \
        p.stderr
    want = single("-q", "--json", "-", path).stdout
    import h5py
    import json
    with h5py.File(path, "r") as f:
        mean = f["metadata/normalization_params/node_mean"][...]
    assert np.array_equal(mean, np.float32(json.loads(want)["node"]["mean"]))


if __name__ == "__main__":
    sys.exit(main("mpi"))
