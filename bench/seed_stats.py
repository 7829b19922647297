"""The seed's statistics pass, re-implemented faithfully for benchmarks.

This is what _compute_zscore_stats() did in the Python training pipeline
that meshstats replaces (its serial mode; docs/spec.md): load each
sample whole with h5py, take numpy.linspace-sampled timesteps (at most 50),
append every feature row to Python lists, np.vstack them and call
np.mean/np.std in the stored precision (float32).  It exists only so that
bench/ can time meshstats against it on the same file; it is never part of
meshstats.

Usage: python3 seed_stats.py DATASET.h5 [--max-timesteps 50] [--json OUT]
"""
import argparse
import json
import sys

import h5py
import numpy as np


def compute_zscore_stats(path, input_var=4, output_var=4, max_timesteps=50):
    node_feats, edge_feats, delta_feats = [], [], []
    with h5py.File(path, "r") as f:
        for sid in sorted(f["data"].keys(), key=int):
            data = f["data"][sid]["nodal_data"][:]  # the whole sample
            mesh_edge = f["data"][sid]["mesh_edge"][:]
            T = data.shape[1]
            edge_index = np.concatenate([mesh_edge, mesh_edge[::-1]], axis=1)
            for t in np.linspace(0, T - 1, min(max_timesteps, T), dtype=int):
                node_feats.append(data[3:3 + input_var, t, :].T)
                pos = data[0:3, t, :] + data[3:6, t, :]
                r = pos[:, edge_index[1]] - pos[:, edge_index[0]]
                length = np.linalg.norm(r, axis=0, keepdims=True)
                edge_feats.append(np.concatenate([r, length], axis=0).T)
            if T > 1:
                for t in np.linspace(0, T - 2, min(max_timesteps, T - 1),
                                     dtype=int):
                    delta_feats.append((data[3:3 + output_var, t + 1, :] -
                                        data[3:3 + output_var, t, :]).T)
            else:
                delta_feats.append(data[3:3 + output_var, 0, :].T)
    out = {}
    for name, feats in (("node", node_feats), ("edge", edge_feats),
                        ("delta", delta_feats)):
        x = np.vstack(feats)
        out[name] = {"count": int(x.shape[0]),
                     "mean": [float(v) for v in np.mean(x, axis=0)],
                     "std": [float(v) for v in np.std(x, axis=0)]}
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dataset")
    p.add_argument("--max-timesteps", type=int, default=50)
    p.add_argument("--json")
    a = p.parse_args()
    stats = compute_zscore_stats(a.dataset, max_timesteps=a.max_timesteps)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(stats, f)
    else:
        json.dump(stats, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
