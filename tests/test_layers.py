"""The library's files call downward only: settings -> pass -> plan ->
pipeline -> unit -> features -> moments, with the readers, the result and
the helpers below what uses them.  Read from the object files themselves
(which file defines a symbol, which file uses it), so a call that goes up
or sideways, or a cycle, fails here whatever the headers say.  The same
for size: files stay under 600 lines and functions under 60.

Usage: python3 test_layers.py libmeshstats-internal.a SRC_DIR   (TAP)
"""

import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import case, main  # noqa: E402

LIBRARY, SRC = sys.argv[1], sys.argv[2]

# Every file of the library and its layer: a file may call only files of
# lower layers.  docs/design.md draws the same picture.
LAYERS = {
    # the front ends' settings and config file; the dataset writer
    "config": 10, "settings": 9, "generate": 9, "version": 9,
    "generate_trajectory": 3, "generate_util": 2,
    # one pass; its combination across MPI ranks; the event loop
    "compute": 8, "mpi": 7, "pipeline": 7,
    # one work unit; the plan of units; which samples
    "unit": 6, "tasks": 6, "pass_buffers": 6, "plan": 5, "selection": 5,
    # the memory limit shared out; a sample cut into units
    "budget": 4, "cut": 4,
    # reading a sample's data; the result and what is written from it
    "reader": 4, "split_read": 4, "report": 4, "per_sample": 4,
    "writeback": 4, "trajectory_read": 4, "trajectory_check": 4,
    "chunk_read": 3, "hdf5_file": 3, "sample_check": 3, "stats": 3,
    "trajectory_statics": 3, "model_features": 3,
    # one timestep's features; the threads of a pass; the options; one
    # dataset's checks; a mesh's edges from its cells
    "features": 2, "workers": 2, "options": 2, "dataset_check": 2,
    "mesh_edges": 2,
    # a sample's objects opened, a virtual dataset's sources checked; the
    # files links lead to, the descriptors of the files read directly
    "sample_open": 1.7, "virtual_check": 1.7, "linked_files": 1.5,
    "source_files": 1.5, "filters": 1.5,
    # pure helpers and HDF5's errors; the models' tables
    "moments": 1, "timesteps": 1, "progress": 1, "direct_read": 1,
    "chunk_decode": 1, "codecs": 0.5, "alloc": 1, "models": 1, "read_verify": 1,
    # HDF5's errors and lookups
    "hdf5_util": 0.5,
    # the loops over values and edges, for two instruction sets
    "error": 0, "kernels": 0, "kernels_avx2": 0,
}

LINE_LIMIT = 600
FUNCTION_LIMIT = 60


def symbols():
    """{object: (defined, used)} from nm of the static library."""
    out = subprocess.run(["nm", "-A", LIBRARY], capture_output=True,
                         text=True, check=True).stdout
    objects = {}
    for line in out.splitlines():
        m = re.match(r".*?([a-z0-9_]+)\.c\.o:\s*\S*\s+([A-Za-z])\s+(\S+)$",
                     line)
        if not m:
            continue
        obj, kind, sym = m.groups()
        defined, used = objects.setdefault(obj, (set(), set()))
        (used if kind == "U" else defined).add(sym)
    return objects


def calls():
    """{(caller, callee): [symbols]} between distinct files."""
    objects = symbols()
    owner = {s: o for o, (d, _) in objects.items() for s in d}
    edges = {}
    for obj, (_, used) in objects.items():
        for sym in used:
            if sym in owner and owner[sym] != obj:
                edges.setdefault((obj, owner[sym]), []).append(sym)
    return objects, edges


@case
def every_file_has_a_layer():
    objects, _ = calls()
    missing = sorted(set(objects) - set(LAYERS))
    gone = sorted(set(LAYERS) - set(objects))
    assert not missing, f"files with no layer: {missing}"
    assert not gone, f"layers of files that are gone: {gone}"


@case
def every_call_goes_down_a_layer():
    _, edges = calls()
    wrong = [f"{a} -> {b} ({', '.join(sorted(s)[:3])})"
             for (a, b), s in sorted(edges.items())
             if LAYERS.get(a, 99) <= LAYERS.get(b, -1)]
    assert not wrong, "calls up or sideways: " + "; ".join(wrong)


def c_files():
    for folder, _, names in os.walk(SRC):
        for name in sorted(names):
            if name.endswith((".c", ".h")):
                yield os.path.join(folder, name)


def functions(text):
    """(name, lines) of each function definition: a line starting with a
    name and '(' after a line holding its return type, to its closing
    brace in column 0."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^([a-z_][a-z0-9_]*)\(", line)
        if not m or i == 0 or lines[i - 1].strip().endswith(";"):
            continue
        for j in range(i, len(lines)):
            if lines[j] == "{":
                start = j
                break
            if lines[j].endswith(";"):
                start = None
                break
        else:
            continue
        if start is None:
            continue
        end = next(k for k in range(start, len(lines)) if lines[k] == "}")
        yield m.group(1), end - i + 1


@case
def files_and_functions_fit_a_screen():
    long = []
    for path in c_files():
        with open(path) as f:
            text = f.read()
        n = text.count("\n")
        if n > LINE_LIMIT:
            long.append(f"{os.path.relpath(path, SRC)}: {n} lines")
        for name, size in functions(text):
            if size > FUNCTION_LIMIT:
                long.append(f"{os.path.relpath(path, SRC)}: {name}() "
                            f"{size} lines")
    assert not long, "; ".join(long)


if __name__ == "__main__":
    sys.exit(main("layers"))
