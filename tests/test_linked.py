"""Datasets assembled from other files: sample groups or single datasets
as external links, nodal_data as a virtual dataset, trajectories linked
from per-simulation files.  Each master file's statistics must equal those
of the same data stored in one file, and the numpy reference (which reads
through h5py, following the links), at -j 1 and -j 2, with direct reads
and without (MESHSTATS_NO_PREAD=1), every direct read cross-checked
against H5Dread (MESHSTATS_VERIFY_READS=1), and through HDF5's own file
driver (MESHSTATS_HDF5_DRIVER=sec2) as through meshstats'.  A link or a source that
leads nowhere skips its sample with a message naming the link and the
file (--strict: exit 1).

Usage: python3 test_linked.py /path/to/meshstats   (prints TAP)
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
import model_oracle  # noqa: E402
import oracle  # noqa: E402
from tap import also_wrap, case, main, settings, wrapper  # noqa: E402

MESHSTATS = sys.argv[1] if len(sys.argv) > 1 else "meshstats"
TMP = tempfile.mkdtemp(prefix="meshstats-linked-")
atexit.register(shutil.rmtree, TMP, True)
RNG = np.random.default_rng(26)


def run(path, *args, cwd=TMP, env=None, wrapped=True):
    e = dict(os.environ, MESHSTATS_VERIFY_READS="1", **(env or {}))
    command = [*(wrapper() if wrapped else []), MESHSTATS]
    return subprocess.run([*command, *map(str, args), path],
                          capture_output=True, text=True, cwd=cwd, env=e,
                          timeout=120)


def stats(path, *args, cwd=TMP, env=None, wrapped=True):
    p = run(path, "--json", "-", "-q", *args, cwd=cwd, env=env,
            wrapped=wrapped)
    assert p.returncode == 0, f"exit {p.returncode}: {p.stderr.strip()}"
    assert p.stderr == "", p.stderr
    out = json.loads(p.stdout)
    del out["dataset"]
    return out


def same_everywhere(master, single, *args, cwd=TMP):
    """master's JSON equals single's at -j 1 and 2, both read paths, and
    with the files read through HDF5's own driver (sec2).  The single
    file, an ordinary one, is read without the wrapper (valgrind: the
    oracle suite reads such files under it)."""
    want = stats(single, *args, wrapped=False)
    runs = [{"MESHSTATS_NO_PREAD": pread, "-j": j}
            for j, pread in settings(("1", "2"), ("0", "1"))]
    runs.append({"MESHSTATS_HDF5_DRIVER": "sec2", "-j": "2"})
    for env in runs:
        j = env.pop("-j")
        got = stats(master, "-j", j, *args, cwd=cwd, env=env)
        assert got == want, f"-j {j}, {env}"
    return want


def nodal_samples(n=3, T=6, nx=9, ny=7, scale=700.0):
    """Samples whose values are far from those of the master's padding."""
    out = []
    for sid in range(n):
        nodal, edges = oracle.random_sample(RNG, 8, T, nx + sid, ny)
        nodal[3:] *= scale
        out.append((sid, nodal.astype("<f4"), edges))
    return out


def single_file(name, samples, edge_dtype="<i8"):
    path = os.path.join(TMP, name)
    oracle.write_dataset(path, samples, edge_dtype=edge_dtype)
    return path


def padded(f):
    """Bytes in the master where a linked dataset's offset would land."""
    f.create_dataset("padding", data=RNG.normal(size=100000).astype("<f4"))


def part_file(rel, sid, nodal, edges, edge_chunks=None, edge_dtype="<i8",
              prefix="data/"):
    """A per-simulation file: data/<sid>/ after some padding of its own."""
    path = os.path.join(TMP, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with h5py.File(path, "w") as p:
        p.create_dataset("junk", data=np.ones(1000 + 97 * sid, "<f4"))
        g = p.create_group(f"{prefix}{sid}")
        g.create_dataset("nodal_data", data=nodal)
        g.create_dataset("mesh_edge", data=edges.astype(edge_dtype),
                         chunks=edge_chunks)
    return path


def check_oracle(master, samples_used):
    ref = oracle.reference(master)
    got = stats(master)
    problems = oracle.compare(got, ref, tol=1e-12)
    assert not problems, "; ".join(problems[:6])
    assert got["samples"]["used"] == samples_used


@case
def sample_groups_linked_with_chunked_edges_read_the_linked_files():
    # The reported case: nodal_data contiguous in the linked file (read by
    # pread), mesh_edge chunked (read by HDF5).
    samples = nodal_samples()
    single = single_file("one_a.h5", samples)
    master = os.path.join(TMP, "master_a.h5")
    with h5py.File(master, "w") as m:
        padded(m)
        for sid, nodal, edges in samples:
            part_file(f"parts_a/sim{sid}.h5", sid, nodal, edges,
                      edge_chunks=(2, 16))
            m[f"data/{sid}"] = h5py.ExternalLink(f"parts_a/sim{sid}.h5",
                                                 f"/data/{sid}")
    want = same_everywhere(master, single)
    assert want["node"]["std"][0] > 100, want["node"]  # the data's, not 1
    check_oracle(master, 3)


@case
def sample_groups_linked_all_contiguous_int32_edges():
    samples = nodal_samples(n=4)
    single = single_file("one_b.h5", samples, edge_dtype="<i4")
    master = os.path.join(TMP, "master_b.h5")
    with h5py.File(master, "w") as m:
        padded(m)
        for sid, nodal, edges in samples:
            part_file(f"parts_b/sim{sid}.h5", sid, nodal, edges,
                      edge_dtype="<i4")
            m[f"data/{sid}"] = h5py.ExternalLink(f"parts_b/sim{sid}.h5",
                                                 f"/data/{sid}")
    same_everywhere(master, single)
    same_everywhere(master, single, "-s", "3", "--samples", "1-3")
    check_oracle(master, 4)


@case
def single_datasets_linked_and_soft_linked():
    samples = nodal_samples()
    single = single_file("one_c.h5", samples)
    master = os.path.join(TMP, "master_c.h5")
    with h5py.File(master, "w") as m:
        padded(m)
        for sid, nodal, edges in samples:
            rel = f"parts_c/d{sid}.h5"
            part_file(rel, sid, nodal, edges, prefix="x/")
            m[f"data/{sid}/nodal_data"] = h5py.ExternalLink(
                rel, f"/x/{sid}/nodal_data")
            # Edges stored in the master under another name, soft-linked.
            m.create_dataset(f"store/{sid}", data=edges)
            m[f"data/{sid}/mesh_edge"] = h5py.SoftLink(f"/store/{sid}")
    same_everywhere(master, single)
    check_oracle(master, 3)


@case
def links_resolve_beside_the_master_from_any_directory():
    # HDF5 looks for a relative link's file beside the linking file.
    master = os.path.join(TMP, "master_a.h5")
    if not os.path.exists(master):
        sample_groups_linked_with_chunked_edges_read_the_linked_files()
    same_everywhere(master, os.path.join(TMP, "one_a.h5"), cwd="/")


@case
def virtual_nodal_data_is_read_through_hdf5():
    samples = nodal_samples()
    single = single_file("one_d.h5", samples)
    master = os.path.join(TMP, "master_d.h5")
    with h5py.File(master, "w") as m:
        padded(m)
        for sid, nodal, edges in samples:
            rel = f"parts_d/sim{sid}.h5"
            part_file(rel, sid, nodal, edges)
            lay = h5py.VirtualLayout(shape=nodal.shape, dtype="<f4")
            src = h5py.VirtualSource(rel, f"data/{sid}/nodal_data",
                                     shape=nodal.shape)
            if sid == 1:  # two mappings, split along time
                half = nodal.shape[1] // 2
                lay[:, :half, :] = src[:, :half, :]
                lay[:, half:, :] = src[:, half:, :]
            else:
                lay[...] = src
            m.create_virtual_dataset(f"data/{sid}/nodal_data", lay)
            m[f"data/{sid}/mesh_edge"] = h5py.ExternalLink(
                rel, f"/data/{sid}/mesh_edge")
    same_everywhere(master, single)
    check_oracle(master, 3)


@case
def virtual_dataset_over_this_file():
    samples = nodal_samples(n=2)
    single = single_file("one_e.h5", samples)
    master = os.path.join(TMP, "master_e.h5")
    with h5py.File(master, "w") as m:
        for sid, nodal, edges in samples:
            m.create_dataset(f"raw/{sid}", data=nodal)
            lay = h5py.VirtualLayout(shape=nodal.shape, dtype="<f4")
            lay[...] = h5py.VirtualSource(".", f"raw/{sid}",
                                          shape=nodal.shape)
            m.create_virtual_dataset(f"data/{sid}/nodal_data", lay)
            m[f"data/{sid}/mesh_edge"] = edges
    same_everywhere(master, single)


@case
def trajectories_linked_from_per_simulation_files():
    trajs = [(i, model_oracle.cloth_trajectory(RNG, 7 + i, 5 + i, 4))
             for i in range(3)]
    single = os.path.join(TMP, "cloth_one.h5")
    model_oracle.write(single, trajs)
    master = os.path.join(TMP, "cloth_master.h5")
    with h5py.File(master, "w") as m:
        padded(m.create_group("metadata"))
        for tid, fields in trajs:
            rel = f"parts_t/traj{tid}.h5"
            path = os.path.join(TMP, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with h5py.File(path, "w") as p:
                p.create_dataset("junk", data=np.ones(500 + tid, "<f4"))
                g = p.create_group("sim")
                for name, a in fields.items():
                    g.create_dataset(name, data=a)
            m[str(tid)] = h5py.ExternalLink(rel, "/sim")
    also_wrap(1)  # its first two runs: one worker, then two
    same_everywhere(master, single)
    same_everywhere(master, single, "-s", "3")
    got = stats(master)
    problems = oracle.compare(got, model_oracle.reference(single, "cloth"),
                              tol=1e-12)
    assert not problems, "; ".join(problems[:6])


def broken_master(name, build):
    """Good samples 0 and 1 linked, and sample 7 as build makes it."""
    samples = nodal_samples(n=2)
    master = os.path.join(TMP, name)
    with h5py.File(master, "w") as m:
        for sid, nodal, edges in samples:
            rel = f"parts_{name}/sim{sid}.h5"
            part_file(rel, sid, nodal, edges)
            m[f"data/{sid}"] = h5py.ExternalLink(rel, f"/data/{sid}")
        build(m, f"parts_{name}/sim0.h5")
    return master


def skipped_naming(master, *words):
    also_wrap(1)  # each broken link's path under valgrind
    p = run(master, "--json", "-")
    assert p.returncode == 0, p.stderr
    got = json.loads(p.stdout)
    assert got["samples"]["used"] == 2, got["samples"]
    assert [s["id"] for s in got["samples"]["skipped"]] == [7], got
    lines = [x for x in p.stderr.splitlines() if "sample 7" in x]
    assert len(lines) == 1, p.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])
    strict = run(master, "--strict")
    assert strict.returncode == 1, strict.returncode
    assert all(w in strict.stderr for w in words), strict.stderr


@case
def a_group_linked_to_a_missing_file_skips_its_sample():
    def build(m, _):
        m["data/7"] = h5py.ExternalLink("parts_gone/sim7.h5", "/data/7")
    skipped_naming(broken_master("miss_group.h5", build), "data/7",
                   "external link", "parts_gone/sim7.h5", "does not exist")


@case
def a_dataset_linked_to_a_missing_file_or_object_skips_its_sample():
    def build(m, good):
        m["data/7/nodal_data"] = h5py.ExternalLink("gone.h5", "/nd")
        m["data/7/mesh_edge"] = h5py.ExternalLink(good, "/data/0/mesh_edge")
    skipped_naming(broken_master("miss_dset.h5", build),
                   "data/7/nodal_data", "gone.h5", "does not exist")

    def build_obj(m, good):
        m["data/7/nodal_data"] = h5py.ExternalLink(good, "/no/such")
        m["data/7/mesh_edge"] = h5py.ExternalLink(good, "/data/0/mesh_edge")
    skipped_naming(broken_master("miss_obj.h5", build_obj), "/no/such",
                   "sim0.h5", "has no such object")


@case
def a_dangling_soft_link_skips_its_sample():
    def build(m, _):
        m["data/7"] = h5py.SoftLink("/nowhere/7")
    skipped_naming(broken_master("soft.h5", build), "data/7",
                   "soft link to /nowhere/7", "does not exist")

    def cycle(m, good):  # (before: "which does not exist")
        m["data/7/nodal_data"] = h5py.SoftLink("/data/7/x")
        m["data/7/x"] = h5py.SoftLink("/data/7/nodal_data")
        m["data/7/mesh_edge"] = h5py.ExternalLink(good, "/data/0/mesh_edge")
    skipped_naming(broken_master("soft_cycle.h5", cycle), "data/7/nodal_data",
                   "soft link to /data/7/x", "itself a link that leads "
                   "nowhere")


@case
def a_virtual_dataset_whose_source_is_missing_skips_its_sample():
    def build(m, good):
        with h5py.File(os.path.join(TMP, good), "r") as p:
            shape = p["data/0/nodal_data"].shape
        lay = h5py.VirtualLayout(shape=shape, dtype="<f4")
        lay[...] = h5py.VirtualSource("vgone.h5", "nd", shape=shape)
        m.create_virtual_dataset("data/7/nodal_data", lay)
        m["data/7/mesh_edge"] = h5py.ExternalLink(good, "/data/0/mesh_edge")
    skipped_naming(broken_master("vds_gone.h5", build), "virtual dataset",
                   "vgone.h5", "does not exist", "fill value")


@case
def a_link_or_virtual_source_that_is_a_named_pipe_skips_its_sample():
    # HDF5 would open the pipe and wait for a writer for ever (before: a
    # hang, through a link and through a virtual dataset's source).
    pipe = os.path.join(TMP, "pipe.h5")
    if not os.path.exists(pipe):
        os.mkfifo(pipe)

    def linked(m, _):
        m["data/7"] = h5py.ExternalLink("pipe.h5", "/data/7")
    skipped_naming(broken_master("pipe_link.h5", linked), "data/7",
                   "pipe.h5", "not a regular file")

    def virtual(m, good):
        lay = h5py.VirtualLayout(shape=(8, 6, 63), dtype="<f4")
        lay[...] = h5py.VirtualSource("pipe.h5", "nd", shape=(8, 6, 63))
        m.create_virtual_dataset("data/7/nodal_data", lay)
        m["data/7/mesh_edge"] = h5py.ExternalLink(good, "/data/0/mesh_edge")
    skipped_naming(broken_master("pipe_vds.h5", virtual), "virtual dataset",
                   "pipe.h5", "not a regular file")


@case
def a_virtual_dataset_partly_mapped_or_past_its_source_skips():
    def build(m, good):
        with h5py.File(os.path.join(TMP, good), "r") as p:
            shape = p["data/0/nodal_data"].shape
        lay = h5py.VirtualLayout(shape=shape, dtype="<f4")
        src = h5py.VirtualSource(good, "data/0/nodal_data", shape=shape)
        lay[:, :2, :] = src[:, :2, :]  # the other timesteps unmapped
        m.create_virtual_dataset("data/7/nodal_data", lay)
        m["data/7/mesh_edge"] = h5py.ExternalLink(good, "/data/0/mesh_edge")
    skipped_naming(broken_master("vds_part.h5", build), "virtual dataset",
                   "mapped to no source", "fill value")

    def build_twice(m, good):
        # The first half mapped twice, the second never: the mappings'
        # sizes add up, their union does not cover.
        with h5py.File(os.path.join(TMP, good), "r") as p:
            shape = p["data/0/nodal_data"].shape
        lay = h5py.VirtualLayout(shape=shape, dtype="<f4")
        src = h5py.VirtualSource(good, "data/0/nodal_data", shape=shape)
        half = shape[1] // 2
        lay[:, :half, :] = src[:, :half, :]
        lay[:, :half, :] = src[:, :half, :]
        m.create_virtual_dataset("data/7/nodal_data", lay)
        m["data/7/mesh_edge"] = h5py.ExternalLink(good, "/data/0/mesh_edge")
    skipped_naming(broken_master("vds_twice.h5", build_twice),
                   "virtual dataset", "mapped to no source")

    def build_past(m, good):
        with h5py.File(os.path.join(TMP, good), "r") as p:
            F, T, N = p["data/0/nodal_data"].shape
        lay = h5py.VirtualLayout(shape=(F, T + 2, N), dtype="<f4")
        src = h5py.VirtualSource(good, "data/0/nodal_data",
                                 shape=(F, T + 2, N))
        lay[...] = src  # two timesteps more than the source has
        m.create_virtual_dataset("data/7/nodal_data", lay)
        m["data/7/mesh_edge"] = h5py.ExternalLink(good, "/data/0/mesh_edge")
    skipped_naming(broken_master("vds_past.h5", build_past),
                   "virtual dataset", "does not fit its source")

    def build_reshaped(m, good):
        # The whole source, as many values but another shape.
        with h5py.File(os.path.join(TMP, good), "r") as p:
            F, T, N = p["data/0/nodal_data"].shape
        lay = h5py.VirtualLayout(shape=(F, T * N // 3, 3), dtype="<f4")
        lay[...] = h5py.VirtualSource(good, "data/0/nodal_data",
                                      shape=(F, T * N // 3, 3))
        m.create_virtual_dataset("data/7/nodal_data", lay)
        m["data/7/mesh_edge"] = h5py.ExternalLink(good, "/data/0/mesh_edge")
    skipped_naming(broken_master("vds_shape.h5", build_reshaped),
                   "virtual dataset", "does not fit its source")


def virtual_over(m, name, sid, source_file, source_dset, shape):
    lay = h5py.VirtualLayout(shape=shape, dtype="<f4")
    lay[...] = h5py.VirtualSource(source_file, source_dset, shape=shape)
    m.create_virtual_dataset(name, lay)


@case
def a_virtual_source_never_or_partly_written_or_virtual_and_missing():
    samples = nodal_samples(n=1)
    shape = samples[0][1].shape

    def never(m, good):
        with h5py.File(os.path.join(TMP, "never.h5"), "w") as p:
            p.create_dataset("nd", shape=shape, dtype="<f4")
        virtual_over(m, "data/7/nodal_data", 7, "never.h5", "nd", shape)
        m["data/7/mesh_edge"] = h5py.ExternalLink(good, "/data/0/mesh_edge")
    skipped_naming(broken_master("vds_never.h5", never),
                   "never.h5:nd", "never written")

    def partly(m, good):
        with h5py.File(os.path.join(TMP, "partly.h5"), "w") as p:
            d = p.create_dataset("nd", shape=shape, dtype="<f4",
                                 chunks=(8, 1, shape[2]))
            d[:, 0, :] = 1.0
        virtual_over(m, "data/7/nodal_data", 7, "partly.h5", "nd", shape)
        m["data/7/mesh_edge"] = h5py.ExternalLink(good, "/data/0/mesh_edge")
    skipped_naming(broken_master("vds_partly.h5", partly),
                   "partly.h5:nd", "partly written")

    def nested(m, good):
        with h5py.File(os.path.join(TMP, "inner.h5"), "w") as p:
            virtual_over(p, "v", 0, "gone_inner.h5", "nd", shape)
        virtual_over(m, "data/7/nodal_data", 7, "inner.h5", "v", shape)
        m["data/7/mesh_edge"] = h5py.ExternalLink(good, "/data/0/mesh_edge")
    skipped_naming(broken_master("vds_nested.h5", nested), "inner.h5:v",
                   "gone_inner.h5", "does not exist")


@case
def a_virtual_dataset_in_a_linked_file_resolves_from_that_file():
    # "." and relative source names mean the linked file and its folder,
    # as HDF5 reads them, not the master.
    samples = nodal_samples(n=2)
    single = single_file("one_f.h5", samples)
    os.makedirs(os.path.join(TMP, "sub_f"), exist_ok=True)
    master = os.path.join(TMP, "master_f.h5")
    with h5py.File(master, "w") as m:
        for sid, nodal, edges in samples:
            rel = f"sub_f/held{sid}.h5"
            with h5py.File(os.path.join(TMP, rel), "w") as p:
                if sid == 0:  # the source in the same linked file
                    p.create_dataset("raw", data=nodal)
                    virtual_over(p, "data/0/nodal_data", 0, ".", "raw",
                                 nodal.shape)
                else:  # beside the linked file, not beside the master
                    with h5py.File(os.path.join(TMP, "sub_f", "src1.h5"),
                                   "w") as q:
                        q.create_dataset("raw", data=nodal)
                    virtual_over(p, "data/1/nodal_data", 1, "src1.h5",
                                 "raw", nodal.shape)
                p.create_dataset(f"data/{sid}/mesh_edge", data=edges)
            m[f"data/{sid}"] = h5py.ExternalLink(rel, f"/data/{sid}")
        # The master holds a "raw" of other values: never read.
        m.create_dataset("raw", data=np.zeros(samples[0][1].shape, "<f4"))
    same_everywhere(master, single, cwd="/")


@case
def under_a_low_descriptor_limit_more_files_go_through_hdf5():
    import resource
    master = os.path.join(TMP, "master_many.h5")
    if not os.path.exists(master):
        more_linked_files_than_descriptors_kept()
    want = stats(os.path.join(TMP, "one_many.h5"), wrapped=False)

    def limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (100, 100))
    for j in ("1", "2"):
        p = subprocess.run([*wrapper(), MESHSTATS, "--json", "-", "-q",
                            "-j", j, master], capture_output=True, text=True,
                           cwd=TMP, preexec_fn=limit, timeout=120,
                           env=dict(os.environ, MESHSTATS_VERIFY_READS="1"))
        assert p.returncode == 0, p.stderr[-800:]
        got = json.loads(p.stdout)
        del got["dataset"]
        assert got == want, j


@case
def the_read_cross_check_catches_a_direct_read_of_other_bytes():
    # MESHSTATS_FAULT_OFFSET shifts every direct read by 4 bytes (debug
    # builds): unchecked, the numbers change; checked, every sample fails
    # naming the read.
    single = os.path.join(TMP, "one_a.h5")
    if not os.path.exists(single):
        sample_groups_linked_with_chunked_edges_read_the_linked_files()
    want = stats(single, wrapped=False)
    p = subprocess.run([*wrapper(), MESHSTATS, "--json", "-", "-q", single],
                       capture_output=True, text=True, cwd=TMP,
                       env=dict(os.environ, MESHSTATS_FAULT_OFFSET="4",
                                MESHSTATS_VERIFY_READS="0"))
    assert p.returncode == 0, p.stderr
    got = json.loads(p.stdout)
    del got["dataset"]
    assert got["node"] != want["node"], "the hook shifted nothing"
    also_wrap(1)  # the cross-check's error path
    checked = run(single, env={"MESHSTATS_FAULT_OFFSET": "4"})
    assert checked.returncode == 1, checked.stderr
    assert checked.stderr.count("differs from what H5Dread returns") == 3, \
        checked.stderr


@case
def more_linked_files_than_descriptors_kept():
    # Past MS_MAX_SOURCE_FILES (256) linked files, the rest go through
    # HDF5: the same statistics.
    samples = nodal_samples(n=300, T=3, nx=3, ny=3, scale=10.0)
    single = single_file("one_many.h5", samples)
    master = os.path.join(TMP, "master_many.h5")
    with h5py.File(master, "w") as m:
        for sid, nodal, edges in samples:
            rel = f"parts_many/sim{sid}.h5"
            part_file(rel, sid, nodal, edges)
            m[f"data/{sid}"] = h5py.ExternalLink(rel, f"/data/{sid}")
    same_everywhere(master, single)


if __name__ == "__main__":
    sys.exit(main("linked"))
