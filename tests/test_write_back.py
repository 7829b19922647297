"""Write-back that never breaks a dataset: for every write k a write-back
makes to the file, fail the k-th with ENOSPC and, separately, end the
process there (tests/write_fault.c, an LD_PRELOAD shim), on (a) a file
without metadata/, (b) a file whose dataset builder stored some arrays in
metadata/normalization_params, (c) a file with a previous write-back of
another edge_var.  After each, with h5py:

1. every object readable before reads back the same bytes, except the
   arrays being replaced;
2. metadata/normalization_params is as it was (or absent, if it was), or
   complete with the new arrays and attributes, every link opening; or
   absent with a complete old or new group under another name in
   metadata/;
3. a second write-back succeeds and leaves the complete new set;
4. ENOSPC ends with exit 1 and one line naming the file and the error.

The same for --json: killed half-way, the previous file is intact.

Usage: python3 test_write_back.py MESHSTATS libwrite_fault.so   (TAP)
"""

import atexit
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import case, main  # noqa: E402

MESHSTATS, SHIM = sys.argv[1], sys.argv[2]
TMP = tempfile.mkdtemp(prefix="meshstats-writeback-")
atexit.register(shutil.rmtree, TMP, True)
PARAMS = "metadata/normalization_params"
ARGS = ("-q", "--write-back", "--edge-var", "8")


def run(path, *args, fault=None, env=None):
    e = dict(os.environ, **(env or {}))
    # (an ASan build would refuse a preloaded library before its runtime)
    e["ASAN_OPTIONS"] = e.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"
    if fault is not None:
        e.update(LD_PRELOAD=SHIM, MESHSTATS_FAULT_FILE=path,
                 MESHSTATS_FAULT_AT=str(fault[1]),
                 MESHSTATS_FAULT_MODE=fault[0])
    return subprocess.run([MESHSTATS, *args, path], capture_output=True,
                          text=True, env=e, timeout=120, cwd=TMP)


def base(name):
    path = os.path.join(TMP, name)
    p = subprocess.run([MESHSTATS, "generate", path, "-q", "--samples", "3",
                        "--timesteps", "4", "--nodes", "40"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return path


def kind_a():
    path = base("a.h5")
    with h5py.File(path, "a") as f:
        if "metadata" in f:
            del f["metadata"]
    return path


def kind_b():
    path = base("b.h5")
    with h5py.File(path, "a") as f:
        g = f.require_group(PARAMS)
        for k in list(g):
            del g[k]
        g["delta_mean"] = np.arange(4, dtype="<f4")
        g["delta_std"] = np.ones(4, dtype="<f4")
        g["node_type_count"] = np.array([7, 0, 3], dtype="<i8")
        g.attrs["written_by"] = "dataset builder"
    return path


def kind_d():
    """As meshstats generate writes it: metadata/splits, no parameters."""
    return base("d.h5")


def kind_e():
    """metadata/ with eight long-named links: the name heap must grow."""
    path = base("e.h5")
    with h5py.File(path, "a") as f:
        for i in range(8):
            f[f"metadata/a_rather_long_name_for_a_link_{i:02d}"] = \
                np.arange(3)
    return path


def kind_f():
    """No metadata/, a root of long names: the root's heap must grow."""
    path = base("f.h5")
    with h5py.File(path, "a") as f:
        del f["metadata"]
        for i in range(6):
            f.create_group(f"{'x' * 50}_{i}")
    return path


def kind_g():
    """A DeepMind trajectory file of 40 trajectories and no metadata/:
    linking metadata/ at the root splits its symbol table node."""
    path = os.path.join(TMP, "g.h5")
    p = subprocess.run([MESHSTATS, "generate", path, "-q", "--model",
                        "cloth", "--samples", "40", "--timesteps", "4",
                        "--nodes", "20"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    with h5py.File(path, "a") as f:
        if "metadata" in f:
            del f["metadata"]
    return path


def kind_h():
    """kind_b's group with a builder's hard link to a sample's values."""
    path = os.path.join(TMP, "h.h5")
    shutil.move(kind_b(), path)
    with h5py.File(path, "a") as f:
        f[PARAMS + "/nodal_link"] = f["data/0/nodal_data"]
    return path


def kind_c():
    path = base("c.h5")
    p = run(path, "-q", "--write-back")  # edge_var 4: other shapes
    assert p.returncode == 0, p.stderr
    return path


def snapshot(path):
    """{object path: bytes} of every dataset and {path@attr: value}."""
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                out[name] = obj[()].tobytes() if obj.shape != () else \
                    bytes(str(obj[()]), "utf8")
            for k, v in obj.attrs.items():
                out[f"{name}@{k}"] = repr(v)
        f.visititems(visit)
    return out


def params_of(g):
    """The group's arrays and attributes, every link opened."""
    return ({k: g[k][()].tobytes() for k in g},
            {k: repr(v) for k, v in g.attrs.items()})


def check_state(path, before, old, new, what):
    """Conditions 1 and 2 on path; old/new: params_of the group before
    (None: absent) and after a clean write-back."""
    with h5py.File(path, "r") as f:
        # Every group lists each name once (a half-split node would list
        # some twice: meshstats would count those samples twice).
        for g in (f, f.get("metadata")):
            if isinstance(g, h5py.Group):
                names = list(g)
                assert len(names) == len(set(names)), f"{what}: {names}"
        now = {}
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                now[name] = obj[()].tobytes() if obj.shape != () else \
                    bytes(str(obj[()]), "utf8")
        f.visititems(visit)
        for name, value in before.items():
            if "@" in name or name.startswith(PARAMS):
                continue
            assert now.get(name) == value, f"{what}: {name} changed"
        if PARAMS in f:
            got = params_of(f[PARAMS])
            assert got == old or got == new, \
                f"{what}: {PARAMS} is neither the old nor the new set"
        else:
            waiting = [params_of(f["metadata"][k]) for k in
                       (f["metadata"] if "metadata" in f else [])
                       if k != "normalization_params" and
                       isinstance(f["metadata"][k], h5py.Group)]
            assert old is None or any(w in (old, new) for w in waiting), \
                f"{what}: {PARAMS} is gone and no complete set waits"


def exhaustive(make, args=ARGS):
    path = make()
    pristine = path + ".pristine"
    shutil.copy(path, pristine)
    before = snapshot(path)
    with h5py.File(path, "r") as f:
        old = params_of(f[PARAMS]) if PARAMS in f else None
    clean = path + ".clean"
    shutil.copy(pristine, clean)
    count = path + ".count"
    e = dict(os.environ, LD_PRELOAD=SHIM, MESHSTATS_FAULT_FILE=clean,
             MESHSTATS_FAULT_COUNT=count)
    e["ASAN_OPTIONS"] = e.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"
    p = subprocess.run([MESHSTATS, *args, clean], capture_output=True,
                       text=True, env=e, timeout=120)
    assert p.returncode == 0, p.stderr
    writes = int(open(count).read().split()[0])
    assert writes > 3, writes
    with h5py.File(clean, "r") as f:
        new = params_of(f[PARAMS])
    # The builder's own arrays and attributes come along, the same bytes.
    for name, value in (old or ({}, {}))[0].items():
        if name not in ("delta_mean", "delta_std", "edge_mean", "edge_std",
                        "node_mean", "node_std", "delta_min", "delta_max"):
            assert new[0].get(name) == value, name
    for name, value in (old or ({}, {}))[1].items():
        if name == "written_by":
            assert new[1].get(name) == value, name
    for mode in ("kill", "enospc"):
        for k in range(1, writes + 1):
            what = f"{os.path.basename(path)} {mode} at write {k}/{writes}"
            shutil.copy(pristine, path)
            p = run(path, *args, fault=(mode, k))
            if mode == "kill":
                assert p.returncode == 77, (what, p.returncode, p.stderr)
            else:
                assert p.returncode == 1, (what, p.returncode, p.stderr)
                lines = p.stderr.strip().splitlines()
                assert len(lines) == 1, (what, p.stderr)
                assert "No space left on device" in lines[0] and \
                    path in lines[0], (what, lines)
            check_state(path, before, old, new, what)
            # What is linked can be deleted (its count is not 0).
            scratch = path + ".del"
            shutil.copy(path, scratch)
            with h5py.File(scratch, "a") as f:
                if PARAMS in f:
                    del f[PARAMS]
            again = run(path, *args)
            assert again.returncode == 0, (what, again.stderr)
            with h5py.File(path, "r") as f:
                assert params_of(f[PARAMS]) == new, f"{what}: then not new"
            check_state(path, before, old, new, what + ", then again")


@case
def a_file_without_metadata_survives_every_write():
    exhaustive(kind_a)


@case
def a_dataset_builders_arrays_survive_every_write():
    exhaustive(kind_b)


@case
def a_previous_write_back_survives_every_write():
    exhaustive(kind_c)


@case
def a_builders_hard_link_survives_every_write_and_is_never_copied():
    # Linked again in the new group, the same object (before: a copy of
    # everything it holds, a sample's values or the whole of /data).
    exhaustive(kind_h)
    path = kind_h()
    assert run(path, "-q", "--write-back").returncode == 0
    with h5py.File(path, "r") as f:
        assert f[PARAMS + "/nodal_link"] == f["data/0/nodal_data"]


@case
def a_metadata_group_without_parameters_survives_every_write():
    exhaustive(kind_d)


@case
def a_root_whose_symbol_table_node_splits_survives_every_write():
    exhaustive(kind_g, args=("-q", "--write-back"))


@case
def a_name_heap_that_must_grow_survives_every_write():
    exhaustive(kind_e)
    exhaustive(kind_f)


@case
def a_parameters_link_that_leads_nowhere_is_named_and_nothing_written():
    # A soft link left at the parameters' name, its group deleted: HDF5
    # said "component not found"; the message now says what to do.
    path = base("dangling.h5")
    with h5py.File(path, "a") as f:
        if PARAMS in f:
            del f[PARAMS]
        f[PARAMS] = h5py.SoftLink("/nowhere/params")
    before = open(path, "rb").read()
    p = run(path, *ARGS)
    assert p.returncode == 1, p.stderr
    assert f"{PARAMS} is a soft link that leads nowhere" in p.stderr and \
        "nothing was written" in p.stderr, p.stderr
    assert open(path, "rb").read() == before
    with h5py.File(path, "a") as f:
        del f[PARAMS]
    p = run(path, *ARGS)
    assert p.returncode == 0, p.stderr
    with h5py.File(path) as f:
        assert "node_mean" in f[PARAMS]


@case
def quantiles_are_written_back_beside_the_moments_and_go_with_them():
    path = base("q.h5")
    with h5py.File(path, "a") as f:
        f.create_dataset(f"{PARAMS}/my_own", data=[1.0, 2.0])
    p = run(path, "-q", "--write-back", "--quantiles", "--json",
            os.path.join(TMP, "q.json"))
    assert p.returncode == 0, p.stderr
    got = json.load(open(os.path.join(TMP, "q.json")))
    with h5py.File(path, "r") as f:
        g = f[PARAMS]
        assert g.attrs["quantile_accuracy"] == 0.01
        for group in ("node", "edge", "delta"):
            for name, i in (("q01", 1), ("q50", 4), ("q99", 7)):
                want = np.float32(got[group]["quantiles"]["values"][i])
                assert g[f"{group}_{name}"].dtype == np.float32
                assert np.array_equal(g[f"{group}_{name}"][...], want)
        assert list(g["my_own"][...]) == [1.0, 2.0]
    # q99 keeps at least 1e-8 from q01 in float32, as std is clamped: a
    # loader divides by their difference (disp_z of a constant 7.25).
    const = os.path.join(TMP, "q-const.h5")
    with h5py.File(path, "r") as f, h5py.File(const, "w") as g:
        f.copy("data", g)
        for sample in g["data"].values():
            values = sample["nodal_data"][...]
            values[5] = 7.25
            sample["nodal_data"][...] = values
    p = run(const, "-q", "--write-back", "--quantiles")
    assert p.returncode == 0, p.stderr
    with h5py.File(const, "r") as f:
        lo, hi = f[f"{PARAMS}/node_q01"][...], f[f"{PARAMS}/node_q99"][...]
        assert lo[2] == np.float32(7.25) and hi[2] > lo[2]
        assert np.all(hi - lo >= np.float32(1e-8)), (lo, hi)
    # A later write-back without quantiles leaves none of the old ones.
    p = run(path, "-q", "--write-back")
    assert p.returncode == 0, p.stderr
    with h5py.File(path, "r") as f:
        g = f[PARAMS]
        assert not [k for k in g if "_q" in k], list(g)
        assert "quantile_accuracy" not in g.attrs
        assert "my_own" in g


@case
def a_json_output_killed_half_way_leaves_the_previous_file():
    path = base("j.h5")
    out = os.path.join(TMP, "out", "stats.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        f.write('{"previous": true}\n')
    for mode in ("kill", "enospc"):
        for k in (1,):
            e = dict(os.environ, LD_PRELOAD=SHIM,
                     MESHSTATS_FAULT_PREFIX=os.path.dirname(out) + "/",
                     MESHSTATS_FAULT_AT=str(k), MESHSTATS_FAULT_MODE=mode)
            e["ASAN_OPTIONS"] = (e.get("ASAN_OPTIONS", "") +
                                 ":verify_asan_link_order=0")
            p = subprocess.run([MESHSTATS, "-q", "--json", out, path],
                               capture_output=True, text=True, env=e)
            assert p.returncode == (77 if mode == "kill" else 1), \
                (mode, k, p.returncode, p.stderr)
            assert json.load(open(out)) == {"previous": True}, (mode, k)
            # A kill may leave the temporary file, named by the run's pid
            # (two runs at once never share one); a failure removes it.
            left = sorted(os.listdir(os.path.dirname(out)))
            assert left == ["stats.json"] or (
                mode == "kill" and len(left) == 2 and re.fullmatch(
                    r"\.stats\.json\.meshstats\.[0-9]+\.tmp", left[0])), left
            if len(left) == 2:
                os.unlink(os.path.join(os.path.dirname(out), left[0]))
            if mode == "enospc":
                assert "No space left on device" in p.stderr and \
                    p.stderr.count("\n") == 1, p.stderr
    p = subprocess.run([MESHSTATS, "-q", "--json", out, path],
                       capture_output=True, text=True)
    assert p.returncode == 0 and "node" in json.load(open(out))
    assert os.listdir(os.path.dirname(out)) == ["stats.json"]


if __name__ == "__main__":
    sys.exit(main("write_back"))
