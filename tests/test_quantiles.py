"""End-to-end checks of the quantiles (--quantiles, docs/spec.md) against
numpy's order statistics: within their accuracy, the same bytes whatever
ran them, counted in the memory limit, the data's warnings, the models
that refuse them.

Usage: python3 test_quantiles.py /path/to/meshstats
Prints TAP (one line per case).
"""

import json
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402
from oracle_runs import (  # noqa: E402
    TMP, blocked_dataset, generated, run, stats)
from tap import case, main, settings  # noqa: E402


def quantile_dataset(name):
    """Samples of other shapes than the generator's: heavy tails, zeros,
    a node feature constant at 0, values of both signs across 30 binades,
    float64 storage, an edge list shuffled with a repeated edge."""
    path = os.path.join(TMP, name)
    if not os.path.exists(path):
        rng = np.random.default_rng(23)
        samples = []
        for sid in (3, 8, 11):
            nodal, edges = oracle.random_sample(rng, 8, 4, 9 + sid, 7)
            nodal[3] = rng.standard_cauchy(size=nodal[3].shape)
            nodal[4] = 0.0
            nodal[5] *= np.exp(rng.uniform(-35, 35, size=nodal[5].shape))
            nodal[6, :, ::3] = 0.0
            edges = np.concatenate([edges, edges[:, :1]], axis=1)
            edges = edges[:, rng.permutation(edges.shape[1])]
            samples.append((sid, nodal, edges))
        oracle.write_dataset(path, samples, dtype="<f8")
    return path


@case
def quantiles_are_within_their_accuracy_of_numpys_order_statistics():
    # At 0.01 and 0.001, on datasets of three kinds (generated; heavy
    # tails and zeros in float64; a blocked mesh), with edge_var 8, the
    # seed's sampling and positional features: every quantile of every
    # feature within alpha of the exact order statistic, and the moments
    # the same bytes as without quantiles.
    plate = generated("q-plate.h5", "--samples", "3", "--timesteps", "6",
                      "--nodes", "400")
    runs = [(plate, (), {}), (quantile_dataset("q-tails.h5"), (), {}),
            (plate, ("--edge-var", "8", "-s", "3"), {"ev": 8, "M": 3}),
            (plate, ("--positional-features", "2"), {"P": 2}),
            (blocked_dataset("blocked.h5"), ("--memory-limit", "24M"), {})]
    for path, args, kw in runs:
        plain = stats(path, *args)
        rows = oracle.rows(path, **kw)
        for alpha in ("0.01", "0.001"):
            got = stats(path, "--quantiles", "--quantile-accuracy", alpha,
                        *args)
            problems = oracle.quantile_problems(got, rows, float(alpha))
            assert not problems, (path, args, alpha, problems[:5])
            assert got["quantile_accuracy"] == float(alpha)
            for g in ("node", "edge", "delta"):
                for key in ("count", "mean", "std", "min", "max"):
                    assert got[g][key] == plain[g][key], (path, g, key)


@case
def quantiles_leave_out_the_rows_skip_nonfinite_leaves_out():
    path = os.path.join(TMP, "q-nan.h5")
    rng = np.random.default_rng(29)
    nodal, edges = oracle.random_sample(rng, 8, 3, 12, 9)
    nodal[4, 1, 5:40] = np.nan        # node and delta rows
    nodal[3, 2, 7] = np.inf           # a deformed position: its edges
    oracle.write_dataset(path, [(0, nodal, edges)])
    got = stats(path, "--skip-nonfinite", "--quantiles")
    assert got["node"]["nonfinite_skipped"] > 0 < got["edge"]["nonfinite_skipped"]
    problems = oracle.quantile_problems(got, oracle.rows(path), 0.01)
    assert not problems, problems[:5]


@case
def quantiles_are_the_same_bytes_whatever_ran_them():
    for path, limits in ((quantile_dataset("q-tails.h5"), ("1G", "16M")),
                         (blocked_dataset("blocked.h5"), ("2G", "48M"))):
        outs = set()
        for limit, j, prefetch in settings(limits, ("1", "2"), ("1", "7")):
            outs.add(run("-q", "--json", "-", "--quantiles", "--memory-limit",
                         limit, "-j", j, "--prefetch", prefetch, path).stdout)
        assert len(outs) == 1, (path, len(outs))
        assert '"quantiles"' in next(iter(outs))


@case
def positional_quantiles_count_every_node_timestep_under_skip():
    # --skip-nonfinite leaves rows out of the node inputs, not of the
    # positional columns (spec 2.1): their quantiles rank their own count.
    N = 100
    d = np.zeros((8, 2, N))
    d[0] = np.arange(N)
    d[3:7] = 1.0
    d[3, :, :50] = np.nan
    e = np.array([np.arange(N - 1), np.arange(1, N)])
    path = os.path.join(TMP, "pos-skip.h5")
    oracle.write_dataset(path, [(0, d, e)], dtype="<f8")
    got = stats(path, "--quantiles", "--skip-nonfinite",
                "--positional-features", "1")
    col = np.sort(np.tile(oracle.positional(d, e, 1)[:, 0], 2))
    for i, p in enumerate(got["node"]["quantiles"]["p"]):
        want = col[int(np.floor(p * (col.size - 1)))]
        q = got["node"]["quantiles"]["values"][i][4]
        assert abs(q - want) <= 0.01 * abs(want), (p, q, want)


@case
def the_quantiles_sketches_are_counted_in_the_memory_limit():
    # At 0.0001 a sketch a feature holds 64 KB a binade: a limit too small
    # for them is named, with the sketches, and that limit works.
    path = quantile_dataset("q-tails.h5")
    p = run("-q", "--quantiles", "--quantile-accuracy", "0.0001",
            "--memory-limit", "64M", path, expect=1)
    assert "bytes of quantile sketches at --quantile-accuracy 0.0001" in \
        p.stderr, p.stderr
    need = re.search(r"to at least (\d+)K", p.stderr)
    got = stats(path, "--quantiles", "--quantile-accuracy", "0.0001",
                "--memory-limit", f"{need.group(1)}K", "--prefetch", "1")
    problems = oracle.quantile_problems(got, oracle.rows(path), 0.0001)
    assert not problems, problems[:5]


@case
def the_data_s_warnings_name_the_feature_and_what_was_found():
    # disp_y (row 4) all 0; disp_x (row 3) with one value 1e9 among 3,456
    # (58 std out: beyond 50 needs more than 2,501 values); disp_z (row 5)
    # Cauchy: heavy-tailed; one sample (4) with a stress 20 times the
    # others' holds most of its sum.
    path = os.path.join(TMP, "q-warn.h5")
    rng = np.random.default_rng(31)
    samples = []
    for sid in range(6):
        nodal, edges = oracle.random_sample(rng, 8, 3, 16, 12)
        nodal[4] = 0.0
        nodal[5] = rng.standard_cauchy(size=nodal[5].shape)
        nodal[6] = rng.uniform(1.0, 2.0, size=nodal[6].shape)
        if sid == 0:
            nodal[3, 1, 5] = 1e9
        if sid == 4:
            nodal[6] *= 20.0  # (80% of the sum)
        samples.append((sid, nodal, edges))
    oracle.write_dataset(path, samples)
    p = run("--json", "-", "--quantiles", "--per-sample", os.devnull, path)
    got = json.loads(p.stdout)["warnings"]
    said = [line[len("meshstats: warning: "):]
            for line in p.stderr.splitlines()]
    # stderr: the JSON's, then what the per-sample reports show (not in
    # the JSON, which is the same whatever outputs are asked for)
    assert said[:len(got)] == got, (got, p.stderr)
    assert json.loads(run("--json", "-", "--quantiles", path).stdout)[
        "warnings"] == got
    text = "\n".join(said)
    assert "node disp_y is constant (0)" in text, text
    assert re.search(r"node disp_x reaches \d+ std from its mean", text)
    assert "node disp_z has a heavy tail" in text, text
    assert "node stress: sample 4 holds" in text, text
    # Without quantiles or per-sample reports, only what moments show.
    plain = json.loads(run("--json", "-", path).stdout)["warnings"]
    assert not [w for w in plain if "heavy tail" in w or "holds" in w]
    assert [w for w in plain if "is constant" in w]
    # -q leaves the advice to the JSON, the per-sample ones too.
    quiet = run("-q", "--quantiles", "--per-sample", os.devnull, path)
    assert "warning" not in quiet.stderr, quiet.stderr
    # A std of 0 with min < max (squares below double's range) is not
    # "inf std" from the mean.
    tiny = os.path.join(TMP, "q-tiny.h5")
    nodal, edges = oracle.random_sample(rng, 8, 3, 5, 4)
    nodal[3] = 0.0
    nodal[3, 1, 2] = 1e-170
    oracle.write_dataset(tiny, [(0, nodal, edges)], dtype="<f8")
    said = json.loads(run("--json", "-", tiny).stdout).get("warnings", [])
    assert not [w for w in said if "inf std" in w], said
    calm = json.loads(run("--json", "-", generated(
        "q-plate.h5", "--samples", "3", "--timesteps", "6", "--nodes",
        "400")).stdout)
    assert "warnings" not in calm, calm.get("warnings")


@case
def a_feature_of_negative_zeros_reads_as_zero_in_warnings_and_histograms():
    path = os.path.join(TMP, "q-negzero.h5")
    rng = np.random.default_rng(5)
    nodal, edges = oracle.random_sample(rng, 8, 3, 5, 4)
    nodal[3] = -0.0
    oracle.write_dataset(path, [(0, nodal, edges)])
    p = run("--quantiles", "--histograms", path)
    assert "node disp_x is constant (0)" in p.stderr, p.stderr
    line = [ln for ln in p.stdout.splitlines()
            if ln.startswith("node") and "disp_x" in ln and "[" in ln]
    assert line and line[-1].endswith("[0, 0]"), line


@case
def quantiles_are_refused_for_the_trajectory_models_by_name():
    path = generated("q-cloth.h5", "--samples", "1", "--timesteps", "4",
                     "--nodes", "50", "--model", "cloth")
    for flag in ("--quantiles", "--histograms"):
        p = run(flag, path, expect=2)
        assert "quantiles (--quantiles, --histograms, stats_quantiles): the " \
            "distributions of the cloth model are not computed" in p.stderr, \
            p.stderr


if __name__ == "__main__":
    sys.exit(main("quantiles"))
