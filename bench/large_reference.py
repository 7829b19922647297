"""A float64 reference for one large sample, streamed a timestep at a time,
for bench/large_bench.sh (tests/oracle.py stacks every row of a dataset,
which for 2 million nodes would take gigabytes).

For each group and feature it computes the count, the mean (numpy's
pairwise float64 sums per timestep, added up with math.fsum), the
population std (a second pass around that mean), min and max, from the
definitions of docs/spec.md, and compares meshstats' JSON with them: the
mean within TOL of the std, the std within TOL relative, min and max
exactly.  Prints one line per group and exits 1 on any mismatch.

Usage: python3 large_reference.py DATASET.h5 RESULT.json [--tol 1e-10]
"""

import json
import math
import sys

import h5py
import numpy as np


def timestep_rows(d, e, t, T):
    """The node, edge (one direction; the other is its negation) and
    delta rows of timestep t, float64, as (rows, features) arrays."""
    node = d[3:7, t, :].astype(np.float64).T
    pos = (d[0:3, t, :].astype(np.float64) + d[3:6, t, :].astype(np.float64))
    r = pos[:, e[1]] - pos[:, e[0]]
    edge = np.vstack([r, np.sqrt((r * r).sum(axis=0))]).T
    delta = None
    if t < T - 1:
        delta = (d[3:7, t + 1, :].astype(np.float64) -
                 d[3:7, t, :].astype(np.float64)).T
    return node, edge, delta


def column_sums(x):
    """Per-column sums with numpy's pairwise summation (which it uses
    along a contiguous axis only: summing a C-order array over axis 0 adds
    row after row, with errors near 1e-12 for millions of rows)."""
    return np.ascontiguousarray(x.T).sum(axis=1)


def both_directions(edge):
    """The edge rows of both directions: r negated, |r| the same."""
    return np.vstack([edge, np.hstack([-edge[:, :3], edge[:, 3:]])])


def reference(path):
    with h5py.File(path, "r") as f:
        g = f["data/0"]
        d = g["nodal_data"]
        e = g["mesh_edge"][...]
        T = d.shape[1]
        groups = {"node": [], "edge": [], "delta": []}

        def each(fn):
            for t in range(T):
                node, edge, delta = timestep_rows(d, e, t, T)
                fn("node", node)
                fn("edge", both_directions(edge))
                if delta is not None:
                    fn("delta", delta)

        sums = {k: [] for k in groups}
        counts = dict.fromkeys(groups, 0)
        lo, hi = {}, {}

        def first(name, x):
            sums[name].append(column_sums(x))
            counts[name] += x.shape[0]
            lo[name] = np.minimum(lo.get(name, x.min(axis=0)), x.min(axis=0))
            hi[name] = np.maximum(hi.get(name, x.max(axis=0)), x.max(axis=0))

        each(first)
        mean = {k: np.array([math.fsum(s[i] for s in sums[k]) / counts[k]
                             for i in range(4)]) for k in groups}
        m2 = {k: [] for k in groups}
        each(lambda name, x: m2[name].append(
            column_sums((x - mean[name]) ** 2)))
        return {k: {"count": counts[k], "mean": mean[k],
                    "std": np.sqrt([math.fsum(s[i] for s in m2[k]) /
                                    counts[k] for i in range(4)]),
                    "min": lo[k], "max": hi[k]} for k in groups}


def main(argv):
    tol = float(argv[argv.index("--tol") + 1]) if "--tol" in argv else 1e-10
    with open(argv[2]) as f:
        got = json.load(f)
    ref = reference(argv[1])
    bad = 0
    for k, want in ref.items():
        g = got[k]
        worst = 0.0
        for i in range(4):
            s = want["std"][i]
            scale = s if s > 0 else 1.0
            worst = max(worst, abs(g["mean"][i] - want["mean"][i]) / scale,
                        abs(g["std"][i] - s) / scale)
            if g["min"][i] != want["min"][i] or g["max"][i] != want["max"][i]:
                worst = math.inf
        ok = g["count"] == want["count"] and worst <= tol
        bad += not ok
        print(f"{k:6} count {g['count']} worst relative error {worst:.2e} "
              f"{'ok' if ok else 'MISMATCH'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
