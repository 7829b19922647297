"""The library's folders and files call downward only.  The folders of
src/ are layers, bottom up: the shared base at src/ (alloc, errors), then
features/ (the computation), read/ (the HDF5 file and its data), results/
(the result and its outputs), settings/ (options, config, selection),
pass/ (a pass over a dataset) and generate/.  A file may call files of
lower folders, and in its own folder files of lower layers; it includes
only its own folder's headers and lower folders'; headers include no
cycle.  Read from the object files themselves (which file defines a
symbol, which file uses it), so a call that goes up or sideways, or a
cycle, fails here whatever the headers say.  The same for size: files
stay under 600 lines and functions under 60.

Usage: python3 test_layers.py libmeshstats-internal.a SRC_DIR   (TAP)
"""

import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import case, main  # noqa: E402

LIBRARY, SRC = sys.argv[1], sys.argv[2]

# The folders, bottom up.  docs/design.md draws the same picture.
FOLDERS = ["", "features", "read", "results", "settings", "pass",
           "generate"]

# Every file of the library and its layer within its folder.
LAYERS = {
    "": {"error": 0, "c_locale": 0, "alloc": 1},
    # the loops over values and edges (for two instruction sets), the
    # models' tables, a mesh's edges from its cells, the nodes' positions;
    # the moments; one timestep's features; a model's features; the
    # quantile sketch
    "features": {"kernels": 0, "kernels_avx2": 0, "positional": 0,
                 "positions": 0,
                 "mesh_edges": 0, "edge_order": 0, "renumber_sort": 0,
                 "sketch": 0, "models": 1, "moments": 1, "features": 2,
                 "model_features": 3},
    # HDF5's errors and lookups, a POSIX file driver's parts, the
    # decoders, direct reads, the read cross-check; the file driver, the
    # chunk pipeline, linked files, filters; the descriptors of the files
    # read; a sample's objects opened;
    # the checks of a dataset, a sample and a trajectory; the readers; the
    # file itself; the splits
    "read": {"hdf5_util": 0, "posix_file": 0, "file_driver": 1,
             "codecs": 0, "direct_read": 0, "read_verify": 0,
             "source_files": 2,
             "chunk_decode": 1, "linked_files": 1, "filters": 1,
             "sample_open": 2, "virtual_check": 3, "external_check": 3, "chunk_read": 3, "trajectory_read": 3,
             "trajectory_statics": 3, "dataset_check": 4, "reader": 4,
             "sample_check": 5, "trajectory_check": 5, "hdf5_file": 5,
             "split_read": 6},
    # the result object and what is written from it
    "results": {"stats": 0, "report": 1, "per_sample": 1, "progress": 0,
                "trace": 1, "quantiles": 0, "diagnostics": 0,
                "report_html": 2,
                "writeback_file": 0, "writeback_swap": 0, "writeback_keep": 0,
                "writeback": 1},
    # the options; the sample selection; the version; the settings table;
    # the config file
    "settings": {"options": 0, "selection": 0, "version": 0,
                 "settings": 1, "config": 2},
    # which timesteps, the threads, the pass's buffers, the memory limit;
    # a sample cut into units; the tasks, a unit's work, the plan; the
    # event loop, the checks on their thread, the pass in segments, the
    # ranks of MPI; one pass
    "pass": {"timesteps": 0, "workers": 0, "pass_buffers": 0, "budget": 0,
             "unit_buffers": 0,
             "pass_record": 0,
             "cut": 1, "positional_start": 1, "edge_order_start": 1, "tasks": 2, "unit": 2,
             "plan_model": 1, "plan": 2, "pipeline": 3, "planner": 3, "stream": 4,
             "mpi": 3, "mpi_plan": 4, "compute": 5},
    # the synthetic datasets
    "generate": {"generate_util": 0, "generate_trajectory": 1,
                 "generate": 2},
}

LINE_LIMIT = 600
FUNCTION_LIMIT = 60


def object_names():
    """{object name as meson makes it (folder_file): (folder, file)}."""
    names = {}
    for folder, files in LAYERS.items():
        for name in files:
            names[f"{folder}_{name}" if folder else name] = (folder, name)
    return names


def symbols():
    """{(folder, file): (defined, used)} from nm of the static library."""
    out = subprocess.run(["nm", "-A", LIBRARY], capture_output=True,
                         text=True, check=True).stdout
    names = object_names()
    objects = {}
    for line in out.splitlines():
        m = re.match(r".*?([a-z0-9_]+)\.c\.o:\s*\S*\s+([A-Za-z])\s+(\S+)$",
                     line)
        if not m:
            continue
        obj, kind, sym = m.groups()
        key = names.get(obj, ("?", obj))
        defined, used = objects.setdefault(key, (set(), set()))
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


def below(a, b):
    """Whether file b = (folder, name) is below file a."""
    fa, fb = FOLDERS.index(a[0]), FOLDERS.index(b[0])
    if fa != fb:
        return fb < fa
    return LAYERS[b[0]][b[1]] < LAYERS[a[0]][a[1]]


def name(f):
    return f"{f[0]}/{f[1]}" if f[0] else f[1]


@case
def every_file_has_a_layer():
    objects, _ = calls()
    listed = set(object_names().values())
    missing = sorted(name(o) for o in set(objects) - listed)
    gone = sorted(name(o) for o in listed - set(objects))
    assert not missing, f"files with no layer: {missing}"
    assert not gone, f"layers of files that are gone: {gone}"


@case
def every_call_goes_down_a_layer():
    _, edges = calls()
    wrong = [f"{name(a)} -> {name(b)} ({', '.join(sorted(s)[:3])})"
             for (a, b), s in sorted(edges.items()) if not below(a, b)]
    assert not wrong, "calls up or sideways: " + "; ".join(wrong)


@case
def each_folder_holds_its_files():
    # The files on disk are where the layers say (and no file of the
    # library is left in a folder of its own).
    for folder, files in LAYERS.items():
        for f in files:
            assert os.path.exists(os.path.join(SRC, folder, f + ".c")), \
                f"{name((folder, f))}.c"
    for entry in sorted(os.listdir(SRC)):
        if os.path.isdir(os.path.join(SRC, entry)):
            assert entry in FOLDERS or entry in ("cli", "python"), entry


def includes():
    """(including file, its folder, included header, its folder) for every
    #include "..." of the library that names one of its own headers."""
    for folder in FOLDERS:
        here = os.path.join(SRC, folder)
        for f in sorted(os.listdir(here)):
            if not f.endswith((".c", ".h")):
                continue
            with open(os.path.join(here, f)) as fh:
                text = fh.read()
            for inc in re.findall(r'^#include "([^"]+)"', text, re.M):
                for base in (here, SRC):
                    path = os.path.normpath(os.path.join(base, inc))
                    if os.path.exists(path):
                        rel = os.path.relpath(os.path.dirname(path), SRC)
                        yield (os.path.join(folder, f), folder,
                               os.path.relpath(path, SRC),
                               "" if rel == "." else rel)
                        break


@case
def headers_come_from_the_same_folder_or_below():
    wrong = [f"{a} includes {h}" for a, fa, h, fh in includes()
             if fh not in FOLDERS or FOLDERS.index(fh) > FOLDERS.index(fa)]
    assert not wrong, "; ".join(wrong)


@case
def headers_include_no_cycle():
    graph = {}
    for a, _, h, _ in includes():
        if a.endswith(".h"):
            graph.setdefault(a, set()).add(h)
    seen, active = set(), []

    def visit(node):
        if node in active:
            raise AssertionError("include cycle: " +
                                 " -> ".join(active[active.index(node):] +
                                             [node]))
        if node in seen:
            return
        active.append(node)
        for nxt in sorted(graph.get(node, ())):
            visit(nxt)
        active.pop()
        seen.add(node)
    for node in sorted(graph):
        visit(node)


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
