"""Running meshstats for the end-to-end suites that compare it with the
numpy oracle (test_oracle.py, test_large_mesh.py, test_quantiles.py,
test_models.py): the program (the suite's first argument), a temporary
folder for its files, runs that fail on an unexpected exit status, and
the files several suites read."""

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

import oracle
from tap import wrapper

MESHSTATS = sys.argv[1] if len(sys.argv) > 1 else "meshstats"
SUITE = os.path.splitext(os.path.basename(sys.argv[0]))[0]
TMP = tempfile.mkdtemp(prefix=f"meshstats-{SUITE}-")
atexit.register(shutil.rmtree, TMP, True)


def run(*args, expect=0, env=None, wrapped=True):
    p = subprocess.run([*(wrapper() if wrapped else []), MESHSTATS,
                        *map(str, args)],
                       capture_output=True, text=True, cwd=TMP, env=env)
    if p.returncode != expect:
        raise AssertionError(f"exit {p.returncode} (expected {expect}) for "
                             f"{args}: {p.stderr.strip()}")
    return p


def stats(path, *args):
    return json.loads(run("--json", "-", *args, path).stdout)


def check(result, ref):
    problems = oracle.compare(result, ref)
    if problems:
        raise AssertionError("; ".join(problems[:6]))
    if result["samples"]["used"] != ref["used"]:
        raise AssertionError(f"used {result['samples']['used']} vs "
                             f"{ref['used']}")


def generated(name, *args, wrapped=False):
    """A file meshstats generate writes: data for the cases, made without
    the wrapper unless wrapped (the corpus suite runs the generator's plain
    files under valgrind, test_oracle.py's compressed case its others)."""
    path = os.path.join(TMP, name)
    if not os.path.exists(path):
        run("generate", path, "-q", *args, wrapped=wrapped)
    return path


def plate():
    return generated("plate.h5", "--samples", 4, "--timesteps", 12,
                     "--nodes", 150)


def stats_hdf5_path(path, *args):
    """The same run with every read through H5Dread."""
    env = dict(os.environ, MESHSTATS_NO_PREAD="1")
    return json.loads(run("--json", "-", *args, path, env=env).stdout)


# Meshes larger than one block (docs/design.md "Large meshes"): 40,000
# nodes are three blocks of nodes, 270,000 random edges two blocks of edges.

BLOCKED_N, BLOCKED_E = 40000, 270000


def blocked_dataset(name, transform=None, **kw):
    path = os.path.join(TMP, name)
    if not os.path.exists(path):
        rng = np.random.default_rng(8)
        nodal = rng.normal(0.0, 1.0, size=(8, 5, BLOCKED_N))
        nodal[0:3] += rng.normal(0.0, 10.0, size=(3, 1, BLOCKED_N))
        edges = rng.integers(0, BLOCKED_N, size=(2, BLOCKED_E))
        if transform is not None:
            transform(nodal, edges)
        oracle.write_dataset(path, [(0, nodal, edges)], **kw)
    return path
