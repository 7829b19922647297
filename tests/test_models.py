"""The DeepMind trajectory layout and the cloth, cfd and plate models
against an independent numpy reference (tests/model_oracle.py), through
the meshstats command.

Usage: python3 test_models.py /path/to/meshstats      (TAP)
Every file is written to a temporary folder by h5py or `meshstats
generate --model`.
"""

import json
import os
import shutil
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model_oracle  # noqa: E402
from oracle_runs import TMP, check, run  # noqa: E402
from tap import also_wrap, case, main, settings  # noqa: E402


def stats(path, *args):
    return json.loads(run("--json", "-", "-q", *args, path).stdout)


def dataset(name, make, ids=(0, 1, 2), chunks=None):
    """A file of trajectories made by make(rng, i), written once."""
    path = os.path.join(TMP, name)
    if not os.path.exists(path):
        rng = np.random.default_rng(len(name))
        model_oracle.write(path, [(i, make(rng, i)) for i in ids],
                           chunks=chunks)
    return path


def cloth():
    # N and C differ between trajectories; T too.
    return dataset("cloth.h5", lambda rng, i: model_oracle.cloth_trajectory(
        rng, 9 + 3 * i, 6 + i, 5))


def cfd():
    return dataset("cfd.h5", lambda rng, i: model_oracle.cfd_trajectory(
        rng, 8 + i, 7, 4 + i))


def plate():
    return dataset("plate.h5", lambda rng, i: model_oracle.plate_trajectory(
        rng, 10, 4 + i, 3, 3))


@case
def cloth_with_deepmind_names_and_tiled_statics_matches_numpy():
    got = stats(cloth(), "--model", "cloth")
    assert got["model"] == "cloth"
    check(got, model_oracle.reference(cloth(), "cloth"))
    check(stats(cloth(), "-s", 5), model_oracle.reference(cloth(), "cloth",
                                                          M=5))
    # Trajectories are chosen by id as samples are.
    got = stats(cloth(), "--samples", "0,2")
    assert got["selection"]["ids"] == [0, 2]
    check(got, model_oracle.reference(cloth(), "cloth", only_ids={0, 2}))


@case
def cfd_with_pos_and_statics_stored_once_matches_numpy():
    got = stats(cfd())  # auto: velocity means cfd
    assert got["model"] == "cfd"
    check(got, model_oracle.reference(cfd(), "cfd"))
    check(stats(cfd(), "-s", 5), model_oracle.reference(cfd(), "cfd", M=5))


@case
def a_plate_without_stress_reads_its_displacement_alone():
    # A converter's file: no stress, an extra world_pos_diff.
    src = plate()
    path = os.path.join(TMP, "plate_nostress.h5")
    with h5py.File(src) as a, h5py.File(path, "w") as b:
        for tid in a:
            g = b.create_group(tid)
            for name in a[tid]:
                if name != "stress":
                    g.create_dataset(name, data=a[tid][name][...])
            w = a[tid]["world_pos"][...]
            g.create_dataset("world_pos_diff", data=np.diff(w, axis=0))
    for args in ((), ("--model", "plate"), ("-s", 4)):
        got = stats(path, *args)
        assert got["model"] == "plate", got["model"]
        assert got["delta"]["features"] == ["dpos_x", "dpos_y", "dpos_z"]
        M = 4 if args == ("-s", 4) else 0
        check(got, model_oracle.reference(path, "plate", M=M))
    # The node and edge groups are the full plate's.
    full = stats(src)
    assert got["node"]["count"] == stats(src, "-s", 4)["node"]["count"]
    assert full["edge"]["features"] == got["edge"]["features"]


@case
def a_model_that_does_not_fit_names_what_is_missing_and_what_fits():
    path = os.path.join(TMP, "plate_nostress.h5")
    if not os.path.exists(path):
        a_plate_without_stress_reads_its_displacement_alone()
    p = run("--model", "cloth", path, expect=2)
    assert "mesh_pos of 2 components (it has 3)" in p.stderr, p.stderr
    assert "--model plate reads it" in p.stderr, p.stderr
    p = run("--model", "cfd", path, expect=2)
    assert "without velocity" in p.stderr, p.stderr
    assert "--model cfd reads" not in p.stderr, p.stderr


@case
def a_broken_first_trajectory_does_not_choose_the_model():
    # Trajectory 0's mesh_pos has 4 components, which no model reads:
    # auto (or --model cloth) is told by trajectory 1 and skips 0 with its
    # reason (before: exit 2, "--model cloth does not fit", a model never
    # given).  With every trajectory so, auto names the model it chose.
    broken = os.path.join(TMP, "cloth_broken_first.h5")
    shutil.copyfile(cloth(), broken)
    with h5py.File(broken, "a") as f:
        pos = f["0/mesh_pos"][...]
        del f["0/mesh_pos"]
        f["0/mesh_pos"] = np.concatenate([pos, pos], axis=2)
    want = model_oracle.reference(cloth(), "cloth", only_ids={1, 2})
    for args in ((), ("--model", "cloth")):
        p = run("--json", "-", "-q", *args, broken)
        assert "sample 0: 0/mesh_pos" in p.stderr, p.stderr
        got = json.loads(p.stdout)
        assert got["model"] == "cloth" and got["samples"]["used"] == 2
        check(got, want)
    p = run("-q", "--samples", "0", broken, expect=2)
    assert "the model cloth its fields suggest does not fit" in p.stderr, \
        p.stderr
    assert "mesh_pos (4 components)" in p.stderr, p.stderr


@case
def plate_with_tetrahedra_matches_numpy():
    got = stats(plate())  # auto: stress means plate
    assert got["model"] == "plate"
    check(got, model_oracle.reference(plate(), "plate"))
    check(stats(plate(), "-s", 5), model_oracle.reference(plate(), "plate",
                                                          M=5))


@case
def the_json_names_every_feature_of_every_model():
    names = {
        "cloth": (["vel_x", "vel_y", "vel_z"],
                  ["r_x", "r_y", "r_z", "|r|", "r0_x", "r0_y", "|r0|"],
                  ["acc_x", "acc_y", "acc_z"]),
        "cfd": (["vel_x", "vel_y"], ["r0_x", "r0_y", "|r0|"],
                ["dvel_x", "dvel_y"]),
        "plate": (["obst_dx", "obst_dy", "obst_dz"],
                  ["r0_x", "r0_y", "r0_z", "|r0|", "r_x", "r_y", "r_z",
                   "|r|"], ["dpos_x", "dpos_y", "dpos_z", "stress"]),
    }
    for model, path in (("cloth", cloth()), ("cfd", cfd()),
                        ("plate", plate())):
        got = stats(path)
        node, edge, out = names[model]
        types = [f"type_{k}" for k in range(9)]
        assert got["node"]["features"] == node + types, got["node"]
        assert got["edge"]["features"] == edge
        assert got["delta"]["features"] == out
        assert len(got["node"]["mean"]) == len(node) + 9
    nodal = os.path.join(TMP, "nodal.h5")
    run("generate", nodal, "-q", "--samples", 2, "--timesteps", 4)
    got = stats(nodal)
    assert got["model"] == "nodal"
    assert got["node"]["features"] == ["disp_x", "disp_y", "disp_z",
                                       "stress"]


@case
def bytes_are_the_same_for_any_workers_prefetch_and_memory_limit():
    for path in (cloth(), plate()):
        outs = {run("--json", "-", "-q", "-j", j, "--prefetch", p,
                    "--memory-limit", m, path).stdout
                for j, p, m in settings((1, 2), (1, 3), ("128K", "1G"))}
        assert len(outs) == 1, f"{len(outs)} different results for {path}"
    # The same values chunked and gzip-compressed (read through H5Dread),
    # or as float64 (read as double): the same statistics.
    a = stats(cloth())
    for name, kw in (("cloth-gzip.h5", {"chunks": 2}),
                     ("cloth-f8.h5", {"dtype": "<f8"})):
        copy = os.path.join(TMP, name)
        with h5py.File(cloth(), "r") as f:
            model_oracle.write(copy, [
                (int(i), {k: (v[...].astype(kw["dtype"])
                              if "dtype" in kw and v.dtype.kind == "f"
                              else v[...]) for k, v in f[i].items()})
                for i in f], chunks=kw.get("chunks"))
        also_wrap(1)  # chunks through H5Dread; float64 frames transposed
        b = stats(copy)
        for g in ("node", "edge", "delta"):
            assert a[g] == b[g], (name, g)


@case
def generated_files_of_each_model_match_numpy():
    for model in ("cloth", "cfd", "plate"):
        path = os.path.join(TMP, f"gen-{model}.h5")
        also_wrap(1)  # each model's generator under valgrind
        run("generate", path, "-q", "--model", model, "--samples", 3,
            "--timesteps", 12, "--nodes", 60)
        got = stats(path)
        assert got["model"] == model
        check(got, model_oracle.reference(path, model))
        with h5py.File(path, "r") as f:
            stored_once = f["0/node_type"].shape[0] == 1
        assert stored_once == (model == "cfd"), model


def broken(name, change):
    """A copy of cloth.h5 with trajectory 1 changed by change(group)."""
    path = os.path.join(TMP, name)
    shutil.copy(cloth(), path)
    with h5py.File(path, "r+") as f:
        change(f["1"])
    return path


def replace(g, name, array):
    del g[name]
    g.create_dataset(name, data=array)


@case
def a_node_type_of_12_skips_the_trajectory_naming_it():
    def bad_type(g):
        a = g["node_type"][...]
        a[:, 4, 0] = 12
        replace(g, "node_type", a)
    path = broken("type12.h5", bad_type)
    p = run("--json", "-", "-q", path)
    got = json.loads(p.stdout)
    assert [s["id"] for s in got["samples"]["skipped"]] == [1]
    assert "node 4 has type 12" in p.stderr and "1/node_type" in p.stderr
    check(got, model_oracle.reference(path, "cloth", skip_ids={1}))
    p = run("--strict", "-q", path, expect=1)
    assert "sample 1" in p.stderr and "type 12" in p.stderr, p.stderr


@case
def a_cell_index_of_a_million_skips_the_trajectory_naming_it():
    def bad_cell(g):
        a = g["cells"][...]
        a[:, 3, 1] = 10**6
        replace(g, "cells", a)
    path = broken("cell1e6.h5", bad_cell)
    p = run("--json", "-", "-q", path)
    got = json.loads(p.stdout)
    assert [s["id"] for s in got["samples"]["skipped"]] == [1]
    assert "cell 3 at frame 0 names node 1000000" in p.stderr, p.stderr
    check(got, model_oracle.reference(path, "cloth", skip_ids={1}))
    p = run("--strict", "-q", path, expect=1)
    assert "1/cells" in p.stderr and "1000000" in p.stderr


@case
def fewer_than_3_frames_and_a_missing_field_skip_with_a_name():
    def short(g):
        for name in list(g):
            replace(g, name, g[name][:2])
    p = run("-q", broken("short.h5", short))
    assert "has 2 frames" in p.stderr and "at least 3" in p.stderr, p.stderr

    def no_type(g):
        del g["node_type"]
    p = run("--json", "-", "-q", broken("notype.h5", no_type))
    assert "1/node_type: missing" in p.stderr, p.stderr
    assert json.loads(p.stdout)["samples"]["used"] == 2


@case
def a_broken_first_trajectory_is_skipped_not_fatal():
    # Trajectory 0 without mesh_pos, or a dataset where a group should be:
    # the model is told from the next one, trajectory 0 is skipped.
    def first(name, change):
        path = os.path.join(TMP, name)
        shutil.copy(cloth(), path)
        with h5py.File(path, "r+") as f:
            change(f)
        return path
    for name, change, why in (
            ("nomesh0.h5", lambda f: f["0"].__delitem__("mesh_pos"),
             "0/mesh_pos: missing"),
            ("dataset0.h5", lambda f: (f.__delitem__("0"),
                                       f.create_dataset("0", data=[1])),
             "0: is not a group")):
        for args in ((), ("--model", "cloth")):
            p = run("--json", "-", "-q", *args, first(name, change))
            got = json.loads(p.stdout)
            assert got["model"] == "cloth" and why in p.stderr, p.stderr
            assert [s["id"] for s in got["samples"]["skipped"]] == [0]
            check(got, model_oracle.reference(cloth(), "cloth",
                                              skip_ids={0}))
    # A cfd file whose trajectory 0 lost its velocity: still cfd, told
    # from trajectory 1; trajectory 0 is skipped.
    path = os.path.join(TMP, "novel0.h5")
    shutil.copy(cfd(), path)
    with h5py.File(path, "r+") as f:
        del f["0/velocity"]
    p = run("--json", "-", "-q", path)
    got = json.loads(p.stdout)
    assert got["model"] == "cfd" and "0/velocity: missing" in p.stderr
    check(got, model_oracle.reference(cfd(), "cfd", skip_ids={0}))
    # An empty data/ group beside the trajectories does not hide them.
    path = first("emptydata.h5", lambda f: f.create_group("data"))
    assert stats(path)["samples"]["used"] == 3


@case
def a_trajectory_too_large_for_the_memory_limit_is_refused_first():
    # 100,000 nodes: reading its statics alone takes more than 1M.
    path = os.path.join(TMP, "wide.h5")
    N = 100_000
    with h5py.File(path, "w") as f:
        g = f.create_group("0")
        g.create_dataset("world_pos", shape=(3, N, 3), dtype="<f4",
                         chunks=(1, 65536, 3), compression="gzip")
        g.create_dataset("mesh_pos", shape=(1, N, 2), dtype="<f4",
                         chunks=(1, 65536, 2), compression="gzip")
        g.create_dataset("node_type", shape=(1, N, 1), dtype="<i4",
                         chunks=(1, 65536, 1), compression="gzip")
        g["cells"] = np.array([[[0, 1, 2]]], dtype="<i4")
        for name in ("world_pos", "mesh_pos", "node_type"):
            g[name][...] = 0
    p = run("-q", "--memory-limit", "1M", path, expect=1)
    assert "0/cells" in p.stderr and "raise --memory-limit" in p.stderr, \
        p.stderr
    assert "100000 nodes" in p.stderr, p.stderr


@case
def a_model_that_does_not_fit_is_a_usage_error_naming_what_is_there():
    p = run("--model", "cfd", "-q", cloth(), expect=2)
    assert "world_pos" in p.stderr and "--model cfd" in p.stderr, p.stderr
    assert "without velocity; --model cloth reads it" in p.stderr, p.stderr
    # cloth reads world_pos too, but a 2D mesh_pos: a plate's 3D one does
    # not fit it either.
    p = run("--model", "cloth", "-q", plate(), expect=2)
    assert "mesh_pos (3 components)" in p.stderr, p.stderr
    assert "--model plate reads it" in p.stderr, p.stderr
    # cfd's mesh_pos stored as pos is named as stored.
    p = run("--model", "plate", "-q", cfd(), expect=2)
    assert "pos (2 components), velocity" in p.stderr, p.stderr
    p = run("--model", "nodal", "-q", cloth(), expect=2)
    assert "trajectories" in p.stderr, p.stderr
    nodal = os.path.join(TMP, "nodal.h5")
    run("generate", nodal, "-q", "--samples", 2, "--timesteps", 4)
    p = run("--model", "plate", "-q", nodal, expect=2)
    assert "nodal_data" in p.stderr and "--model plate" in p.stderr, p.stderr
    p = run("--model", "flag", "-q", cloth(), expect=2)
    assert "auto, nodal, cloth, cfd or plate" in p.stderr, p.stderr
    # The nodal model's group sizes do not apply: said, not ignored.
    p = run("--edge-var", 8, "-q", cloth())
    assert "edge_var apply to the nodal model" in p.stderr, p.stderr
    p = run("generate", os.path.join(TMP, "t2.h5"), "--model", "cloth",
            "--timesteps", 2, expect=2)
    assert "at least 3 frames" in p.stderr, p.stderr


@case
def a_nan_names_its_field_frame_and_node_or_is_left_out():
    def nan(g):
        a = g["world_pos"][...]
        a[5, 7, 2] = np.nan
        replace(g, "world_pos", a)
    path = broken("nan.h5", nan)
    p = run("-q", path, expect=1)
    assert "1/world_pos: non-finite value nan at frame 5, node 7, " \
           "component 2" in p.stderr, p.stderr
    # plate's node features read obstacles only: with a NaN at a plate
    # node and at a later obstacle node in frame 5, the node features of
    # frame 4 name the obstacle, the one they use.
    plate_nan = os.path.join(TMP, "nanplate.h5")
    shutil.copy(plate(), plate_nan)
    with h5py.File(plate_nan, "r+") as f:
        g = f["1"]
        types = g["node_type"][0, :, 0]
        plain = int(np.flatnonzero(types == 0)[0])
        obstacle = int(np.flatnonzero(types == 1)[0])
        assert plain < obstacle
        a = g["world_pos"][...]
        a[5, plain, 0] = a[5, obstacle, 0] = np.nan
        replace(g, "world_pos", a)
    also_wrap(1)  # a node feature's non-finite input, named
    p = run("-q", plate_nan, expect=1)
    assert f"frame 5, node {obstacle}, component 0 (used by the node " \
           "features" in p.stderr, p.stderr
    also_wrap(1)  # non-finite inputs left out of each model feature
    got = stats(path, "--skip-nonfinite")
    assert got["node"]["nonfinite_skipped"] > 0
    assert got["edge"]["nonfinite_skipped"] > 0
    assert got["delta"]["nonfinite_skipped"] > 0


@case
def write_back_stores_the_model_and_the_file_still_reads():
    path = os.path.join(TMP, "wb.h5")
    shutil.copy(cloth(), path)
    before = stats(path)
    also_wrap(1)  # a model's names and vectors written back
    run("--write-back", "-q", path)
    with h5py.File(path, "r") as f:
        p = f["metadata/normalization_params"]
        assert p.attrs["model"] in (b"cloth", "cloth")
        names = p.attrs["edge_features"]
        names = names.decode() if isinstance(names, bytes) else names
        assert names == "r_x,r_y,r_z,|r|,r0_x,r0_y,|r0|"
        assert p["node_mean"].shape == (12,) and p["edge_std"].shape == (7,)
        assert np.array_equal(p["delta_mean"][...],
                              np.float32(before["delta"]["mean"]))
    # metadata/ at the root is not a trajectory: same result, no warning.
    p = run("--json", "-", "-q", path)
    assert p.stderr == "", p.stderr
    after = json.loads(p.stdout)
    for g in ("node", "edge", "delta"):
        assert after[g] == before[g]


@case
def per_sample_csv_and_the_table_use_the_model_s_names():
    p = run("--per-sample", "-", "-q", cloth())
    header = p.stdout.splitlines()[0].split(",")
    assert "node_type_3_mean" in header and "edge_|r0|_std" in header
    assert "delta_acc_z_max" in header
    assert len(p.stdout.splitlines()) == 4
    table = run(plate()).stdout
    assert "model     plate (deforming_plate)" in table, table
    assert "delta  stress" in table
    # --top names the outlying feature with the model's names.
    top = run("--top", 2, "-q", cfd()).stderr
    names = {"vel_x", "vel_y", "r0_x", "r0_y", "|r0|", "dvel_x", "dvel_y"} | {
        f"type_{k}" for k in range(9)}
    named = [line.split("(")[1].rstrip(")").split()[1]
             for line in top.splitlines() if "std (" in line]
    assert len(named) == 2 and set(named) <= names, top


if __name__ == "__main__":
    sys.exit(main("models"))
