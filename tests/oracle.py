"""An independent reference for meshstats, written from docs/spec.md alone.

It loads every used row of every sample into float64 numpy arrays and
computes the statistics with exactly rounded sums (math.fsum), so it is slow
and memory-hungry by design: it is the yardstick, not a rival.  It shares no
code with meshstats.  Run with Debian's python3 (python3-numpy,
python3-h5py).
"""

import math

import h5py
import numpy as np


def linspace_int(last, count):
    """numpy.linspace(0, last, count, dtype=int), as the seed uses it."""
    if count <= 0:
        return []
    return [int(t) for t in np.linspace(0, last, count, dtype=int)]


def node_timesteps(T, M):
    m = T if M == 0 else min(M, T)
    return linspace_int(T - 1, m)


def delta_timesteps(T, M):
    if T == 1:
        return [0]
    m = T - 1 if M == 0 else min(M, T - 1)
    return linspace_int(T - 2, m)


def positional(nodal, edges, P):
    """The P positional node columns (N x P) from their definition in
    docs/spec.md section 2.1: dense float64 matrices, the random walk's
    powers by numpy's matrix_power (small meshes only)."""
    d = np.asarray(nodal, dtype=np.float64)
    e = np.asarray(edges, dtype=np.int64)
    pos = d[0:3, 0, :].T
    N = pos.shape[0]
    if P == 0:
        return np.zeros((N, 0))
    src = np.concatenate([e[0], e[1]])
    dst = np.concatenate([e[1], e[0]])
    cols = [np.linalg.norm(pos - pos.mean(axis=0), axis=1)]
    length = np.linalg.norm(pos[dst] - pos[src], axis=1)
    total, count = np.zeros(N), np.zeros(N)
    np.add.at(total, dst, length)
    np.add.at(count, dst, 1.0)
    cols.append(np.where(count > 0, total / np.maximum(count, 1.0), 0.0))
    if P <= 2:
        return np.stack(cols[:P], axis=1)
    A = np.zeros((N, N))
    np.add.at(A, (src, dst), 1.0)
    rw = A / np.maximum(A.sum(axis=1), 1.0)[:, None]
    for k in (2, 4, 8, 16, 32)[:P - 2]:
        cols.append(np.diag(np.linalg.matrix_power(rw, k)).copy())
    return np.stack(cols[:P], axis=1) if P else np.zeros((N, 0))


def sample_rows(nodal, edges, iv, ov, M, ev=4, P=0):
    """The node, edge and delta feature rows of one sample (float64); with
    ev 8 the edge rows carry the reference mesh's r and |r| too; P
    positional columns follow the node inputs.  A sample of one timestep
    has zeros for node inputs and its reference mesh as the deformed one
    (the training code's rule)."""
    d = np.asarray(nodal, dtype=np.float64)
    e = np.asarray(edges, dtype=np.int64)
    F, T, N = d.shape
    node, edge, delta = [], [], []
    both = np.concatenate([e, e[::-1]], axis=1)  # i->j and j->i
    extra = positional(d, e, P)
    for t in node_timesteps(T, M):
        inputs = d[3:3 + iv, t, :].T if T > 1 else np.zeros((N, iv))
        node.append(np.hstack([inputs, extra]))
        pos = d[0:3, t, :] + (d[3:6, t, :] if T > 1 else 0.0)
        r = pos[:, both[1]] - pos[:, both[0]]
        length = np.sqrt((r * r).sum(axis=0))
        rows = [r, length]
        if ev == 8:
            ref = d[0:3, t, :]
            r0 = ref[:, both[1]] - ref[:, both[0]]
            rows += [r0, np.sqrt((r0 * r0).sum(axis=0))]
        edge.append(np.vstack(rows).T)
    for t in delta_timesteps(T, M):
        if T == 1:
            delta.append(d[3:3 + ov, 0, :].T)
        else:
            delta.append((d[3:3 + ov, t + 1, :] - d[3:3 + ov, t, :]).T)
    return node, edge, delta


def group_stats(blocks, nfeat):
    if blocks:
        x = np.vstack(blocks)
    else:
        x = np.zeros((0, nfeat))
    n = x.shape[0]
    out = {"count": n, "mean": [], "std": [], "min": [], "max": []}
    for k in range(nfeat):
        col = x[:, k]
        if n == 0:
            for key in ("mean", "std", "min", "max"):
                out[key].append(None)
            continue
        mean = math.fsum(col) / n
        dev = col - mean
        var = math.fsum(dev * dev) / n
        out["mean"].append(mean)
        out["std"].append(math.sqrt(var))
        out["min"].append(float(col.min()))
        out["max"].append(float(col.max()))
    return out


def dataset_rows(path, iv=4, ov=4, M=0, ev=4, P=0, keep=lambda sid: True):
    """The node, edge and delta row blocks of the samples of the dataset
    at path that keep(id) accepts, in id order, and how many there were."""
    node, edge, delta, used = [], [], [], 0
    with h5py.File(path, "r") as f:
        ids = sorted((int(k), k) for k in f["data"].keys() if k.isdigit())
        for sid, name in ids:
            if not keep(sid):
                continue
            g = f["data"][name]
            a, b, c = sample_rows(g["nodal_data"][...], g["mesh_edge"][...],
                                  iv, ov, M, ev, P)
            node += a
            edge += b
            delta += c
            used += 1
    return node, edge, delta, used


def rows(path, iv=4, ov=4, M=0, ev=4, P=0):
    """Every row of every group of the dataset at path: {group: array of
    rows x features} (float64)."""
    node, edge, delta, _ = dataset_rows(path, iv, ov, M, ev, P)
    return {"node": np.vstack(node), "edge": np.vstack(edge),
            "delta": np.vstack(delta)}


def quantile_problems(result, rows_of, alpha):
    """Each reported quantile against the exact order statistic at rank
    floor(p (n - 1)) of numpy's sort: |q - x| <= alpha |x| (0 for 0)."""
    problems = []
    for group, x in rows_of.items():
        x = x[np.isfinite(x).all(axis=1)]  # (--skip-nonfinite's rows)
        got = result[group]["quantiles"]
        n = x.shape[0]
        ordered = np.sort(x, axis=0)
        for i, p in enumerate(got["p"]):
            k = int(math.floor(p * (n - 1)))
            for f in range(x.shape[1]):
                want, q = ordered[k, f], got["values"][i][f]
                if abs(q - want) > alpha * abs(want) or (want == 0 and q):
                    problems.append(f"{group}[{f}] p={p}: {q!r} for {want!r}")
    return problems


def reference(path, iv=4, ov=4, M=0, skip_ids=(), only_ids=None, ev=4, P=0):
    """The statistics of the dataset at path, as meshstats' JSON groups
    (over only_ids when given)."""
    node, edge, delta, used = dataset_rows(
        path, iv, ov, M, ev, P,
        keep=lambda sid: sid not in skip_ids and (only_ids is None or
                                                  sid in only_ids))
    return {
        "used": used,
        "node": group_stats(node, iv + P),
        "edge": group_stats(edge, ev),
        "delta": group_stats(delta, ov),
    }


def compare(result, ref, tol=1e-10):
    """A list of mismatches between meshstats' JSON and the reference:
    the mean relative to the std, the std relative to itself, min and max
    exactly (they are stored values or exact differences)."""
    problems = []
    for group in ("node", "edge", "delta"):
        got, want = result[group], ref[group]
        if got["count"] != want["count"]:
            problems.append(f"{group} count {got['count']} != {want['count']}")
            continue
        for k, (m, s, lo, hi) in enumerate(zip(want["mean"], want["std"],
                                               want["min"], want["max"])):
            gm, gs = got["mean"][k], got["std"][k]
            if m is None:
                if gm is not None:
                    problems.append(f"{group}[{k}] expected null")
                continue
            scale = s if s > 0 else max(abs(m), 1e-300)
            if abs(gm - m) > tol * scale:
                problems.append(f"{group}[{k}] mean {gm!r} vs {m!r}")
            if abs(gs - s) > tol * max(s, 1e-300):
                problems.append(f"{group}[{k}] std {gs!r} vs {s!r}")
            if got["min"][k] != lo or got["max"][k] != hi:
                problems.append(f"{group}[{k}] min/max {got['min'][k]!r},"
                                f"{got['max'][k]!r} vs {lo!r},{hi!r}")
    return problems


def plate_edges(nx, ny):
    """Edges of an nx x ny grid, triangulated (right, up, diagonal)."""
    edges = []
    for j in range(ny):
        for i in range(nx):
            n = j * nx + i
            if i + 1 < nx:
                edges.append((n, n + 1))
            if j + 1 < ny:
                edges.append((n, n + nx))
            if i + 1 < nx and j + 1 < ny:
                edges.append((n, n + nx + 1))
    return np.array(edges, dtype=np.int64).T.reshape(2, -1)


def write_dataset(path, samples, dtype="<f4", edge_dtype="<i8", chunks=None,
                  compression=None, extra=None):
    """Write samples [(id, nodal (F,T,N) array, edges (2,E) array)]."""
    with h5py.File(path, "w") as f:
        data = f.create_group("data")
        for sid, nodal, edges in samples:
            g = data.create_group(str(sid))
            kw = {}
            if chunks:
                kw["chunks"] = chunks if chunks is not True else True
            if compression:
                kw["compression"] = compression
                kw["shuffle"] = True
            g.create_dataset("nodal_data", data=np.asarray(nodal),
                             dtype=dtype, **kw)
            g.create_dataset("mesh_edge", data=np.asarray(edges),
                             dtype=edge_dtype)
        if extra:
            extra(f)


def random_sample(rng, F, T, nx, ny, offset=0.0, spread=1.0):
    N = nx * ny
    nodal = rng.normal(offset, spread, size=(F, T, N))
    xs, ys = np.meshgrid(np.arange(nx, dtype=float), np.arange(ny,
                                                               dtype=float))
    nodal[0, :, :] = xs.ravel() * 0.1
    nodal[1, :, :] = ys.ravel() * 0.1
    nodal[2, :, :] = 0.0
    return nodal, plate_edges(nx, ny)
