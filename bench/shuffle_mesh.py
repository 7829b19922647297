"""Write a copy of a one-sample dataset with another numbering, for
bench/large_bench.sh: "edges" shuffles the edge list; "nodes" numbers the
nodes at random (nodal_data's node axis permuted, edges relabelled) and
sorts the edges by their new first node; "relabel" numbers them at random
and leaves the edges where they were (so neither end comes in order).
Same mesh, same statistics.

Usage: python3 bench/shuffle_mesh.py IN.h5 OUT.h5 edges|nodes|relabel
"""
import sys

import h5py
import numpy as np

src, dst, mode = sys.argv[1], sys.argv[2], sys.argv[3]
rng = np.random.default_rng(21)
with h5py.File(src, "r") as a, h5py.File(dst, "w") as b:
    for sid in a["data"]:
        nodal = a[f"data/{sid}/nodal_data"][...]
        edges = a[f"data/{sid}/mesh_edge"][...]
        if mode == "edges":
            edges = edges[:, rng.permutation(edges.shape[1])]
        else:
            N = nodal.shape[2]
            perm = rng.permutation(N)  # old id -> new id
            moved = np.empty_like(nodal)
            moved[:, :, perm] = nodal
            nodal = moved
            edges = perm[edges]
            if mode == "nodes":
                edges = edges[:, np.argsort(edges[0], kind="stable")]
        g = b.create_group(f"data/{sid}")
        g.create_dataset("nodal_data", data=nodal)
        g.create_dataset("mesh_edge", data=edges)
