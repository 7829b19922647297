"""An independent reference for the trajectory models, written from
docs/models.md alone: numpy in float64, exactly rounded sums (oracle.py's
group_stats), and DeepMind's own recipe for edges (every vertex pair of
every cell, sorted, np.unique, then both directions).  Shares no code with
meshstats.  Slow by design.  Also writes trajectory files with h5py."""

import itertools

import h5py
import numpy as np

import oracle

NODE_TYPES = 9


def mesh_edges(cells):
    """DeepMind's triangles_to_edges for any cell size: the distinct
    undirected vertex pairs, then (senders, receivers) both ways."""
    k = cells.shape[1]
    pairs = np.concatenate([cells[:, [i, j]]
                            for i, j in itertools.combinations(range(k), 2)])
    pairs = np.unique(np.sort(pairs, axis=1), axis=0)
    a, b = pairs[:, 0], pairs[:, 1]
    return np.concatenate([a, b]), np.concatenate([b, a])


def frames(T, M):
    count = T - 2 if M == 0 else min(M, T - 2)
    return [1 + int(x) for x in np.linspace(0, T - 3, count, dtype=int)]


def field(g, *names):
    for name in names:
        if name in g:
            return np.asarray(g[name][...], dtype=np.float64)
    raise KeyError(names)


def rel(x, s, r):
    d = x[s] - x[r]
    return np.hstack([d, np.linalg.norm(d, axis=1, keepdims=True)])


def trajectory_rows(g, model, M):
    """The node, edge and output rows of one trajectory group."""
    mesh = field(g, "mesh_pos", "pos")[0]
    types = np.asarray(g["node_type"][0, :, 0], dtype=np.int64)
    one_hot = np.eye(NODE_TYPES)[types]
    s, r = mesh_edges(np.asarray(g["cells"][0], dtype=np.int64))
    node, edge, out = [], [], []
    if model == "cfd":
        v = field(g, "velocity")
        for t in frames(v.shape[0], M):
            node.append(np.hstack([v[t], one_hot]))
            edge.append(rel(mesh, s, r))
            out.append(v[t + 1] - v[t])
        return node, edge, out
    w = field(g, "world_pos")
    stress = (field(g, "stress") if model == "plate" and "stress" in g
              else None)
    for t in frames(w.shape[0], M):
        if model == "cloth":
            node.append(np.hstack([w[t] - w[t - 1], one_hot]))
            edge.append(np.hstack([rel(w[t], s, r), rel(mesh, s, r)]))
            out.append(w[t + 1] - 2 * w[t] + w[t - 1])
        else:
            moving = np.where((types == 1)[:, None], w[t + 1] - w[t], 0.0)
            node.append(np.hstack([moving, one_hot]))
            edge.append(np.hstack([rel(mesh, s, r), rel(w[t], s, r)]))
            out.append(w[t + 1] - w[t] if stress is None else
                       np.hstack([w[t + 1] - w[t], stress[t + 1]]))
    return node, edge, out


NFEAT = {"cloth": (12, 7, 3), "cfd": (11, 3, 2), "plate": (12, 8, 4)}


def reference(path, model, M=0, skip_ids=(), only_ids=None):
    node, edge, out = [], [], []
    used = 0
    with h5py.File(path, "r") as f:
        ids = sorted(int(k) for k in f.keys() if k.isdigit())
        for sid in ids:
            if sid in skip_ids or (only_ids is not None and
                                   sid not in only_ids):
                continue
            a, b, c = trajectory_rows(f[str(sid)], model, M)
            node += a
            edge += b
            out += c
            used += 1
    n, e, o = NFEAT[model]
    o = out[0].shape[1] if out else o  # a plate without stress: 3
    return {"used": used, "node": oracle.group_stats(node, n),
            "edge": oracle.group_stats(edge, e),
            "delta": oracle.group_stats(out, o)}


# -- files ---------------------------------------------------------------


def triangles(nx, ny, rng, extra=0):
    """A triangulated nx x ny grid (shuffled cells, some repeated), its
    rest positions in 2D."""
    cells = []
    for j in range(ny - 1):
        for i in range(nx - 1):
            a = j * nx + i
            cells += [(a, a + 1, a + nx + 1), (a, a + nx + 1, a + nx)]
    cells = np.array(cells)
    cells = np.vstack([cells, cells[rng.integers(0, len(cells), extra)]])
    rng.shuffle(cells)
    xs, ys = np.meshgrid(np.arange(nx), np.arange(ny))
    pos = np.stack([xs.ravel(), ys.ravel()], axis=1) * 0.1
    return cells, pos


def tetrahedra(nx, ny, nz):
    """Five tetrahedra a cube of an nx x ny x nz grid, rest positions."""
    idx = np.arange(nx * ny * nz).reshape(nz, ny, nx)
    cells = []
    for z, y, x in itertools.product(range(nz - 1), range(ny - 1),
                                     range(nx - 1)):
        c = [idx[z + (b >> 2 & 1), y + (b >> 1 & 1), x + (b & 1)]
             for b in range(8)]
        cells += [(c[0], c[1], c[2], c[4]), (c[1], c[3], c[2], c[7]),
                  (c[1], c[4], c[5], c[7]), (c[2], c[4], c[6], c[7]),
                  (c[1], c[2], c[4], c[7])]
    zs, ys, xs = np.meshgrid(np.arange(nz), np.arange(ny), np.arange(nx),
                             indexing="ij")
    pos = np.stack([xs.ravel(), ys.ravel(), zs.ravel()], axis=1) * 0.1
    return np.array(cells), pos


def write(path, trajectories, chunks=None):
    """trajectories: [(id, {name: array})]; arrays stored as given."""
    with h5py.File(path, "w") as f:
        for tid, fields in trajectories:
            g = f.create_group(str(tid))
            for name, a in fields.items():
                kw = {}
                if chunks and a.dtype.kind == "f" and a.shape[0] > 1:
                    kw = {"chunks": (min(chunks, a.shape[0]),) + a.shape[1:],
                          "compression": "gzip", "shuffle": True}
                g.create_dataset(name, data=a, **kw)


def tiled(a, T):
    return np.repeat(a[None], T, axis=0)


def cloth_trajectory(rng, T, nx, ny):
    """DeepMind's names, static fields tiled over T (float32, int32)."""
    cells, mesh = triangles(nx, ny, rng, extra=3)
    N = nx * ny
    types = np.where(np.arange(N) % nx == 0, 3, 0)
    types[rng.integers(0, N, 2)] = 1
    t = np.arange(T)[:, None]
    w = np.zeros((T, N, 3))
    w[:, :, 0] = mesh[:, 0] + 0.01 * np.sin(0.3 * t + mesh[:, 0])
    w[:, :, 1] = mesh[:, 1] + 1e3  # far from the origin: exactness counts
    w[:, :, 2] = 0.05 * np.sin(0.5 * t + 3 * mesh[:, 0]) * mesh[:, 0]
    w += rng.normal(0, 1e-4, w.shape)
    return {"world_pos": w.astype("<f4"),
            "mesh_pos": tiled(mesh, T).astype("<f4"),
            "node_type": tiled(types[:, None], T).astype("<i4"),
            "cells": tiled(cells, T).astype("<i4")}


def cfd_trajectory(rng, T, nx, ny):
    """mesh_pos as "pos"; static fields stored once as (1, N, F)."""
    cells, mesh = triangles(nx, ny, rng)
    N = nx * ny
    types = np.zeros(N, dtype=np.int64)
    types[np.arange(N) % nx == 0] = 4
    types[np.arange(N) % nx == nx - 1] = 5
    types[np.arange(N) < nx] = 6
    v = rng.normal(1.0, 0.3, (T, N, 2)).cumsum(axis=0) * 0.01
    return {"velocity": v.astype("<f4"),
            "pressure": rng.normal(0, 1, (T, N, 1)).astype("<f4"),
            "pos": mesh[None].astype("<f8"),
            "node_type": types[None, :, None].astype("<i8"),
            "cells": cells[None].astype("<i8")}


def plate_trajectory(rng, T, nx, ny, nz):
    """Tetrahedra; obstacle nodes (type 1) on top move, the rest bend."""
    cells, mesh = tetrahedra(nx, ny, nz)
    N = len(mesh)
    types = np.zeros(N, dtype=np.int64)
    top = mesh[:, 2] == mesh[:, 2].max()
    types[top & (mesh[:, 0] > 0.1)] = 1
    types[mesh[:, 0] == 0] = 3
    t = np.arange(T)[:, None]
    w = np.repeat(mesh[None], T, axis=0)
    w[:, :, 2] -= 0.01 * t * np.where(types == 1, 1.0, 0.3 * mesh[:, 0])
    w += rng.normal(0, 1e-5, w.shape)
    stress = np.abs(rng.normal(1e4, 3e3, (T, N, 1)))
    return {"world_pos": w.astype("<f4"),
            "mesh_pos": tiled(mesh, T).astype("<f4"),
            "node_type": tiled(types[:, None], T).astype("<i4"),
            "cells": tiled(cells, T).astype("<i4"),
            "stress": stress.astype("<f4")}
