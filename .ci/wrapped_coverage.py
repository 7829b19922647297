"""Which lines of src/ the valgrind stage sees, and which it misses.

    /usr/bin/python3 .ci/wrapped_coverage.py

The valgrind stage of .ci/quickstart runs the first meshstats run of each
case of six suites under valgrind, and the later runs the case names with
also_wrap (tests/tap.py).  This builds meshstats with gcov counters
(build-coverage), runs the same suites with every run writing its own
counters (GCOV_PREFIX), each told whether the stage would wrap it
(MESHSTATS_WRAP_EVERY), and prints the lines of src/ the wrapped runs
execute, and those only unwrapped runs execute, by file, with the cases
whose runs reach them: where an also_wrap would bring a line under
valgrind.  About 3 minutes on 2 cores.  Runs a test makes without the
wrapper at all (wrapped=False: the oracle suites' data generators, the
linked suite's single-file references) write build-coverage's own
counters, which this does not read.
"""
import collections
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build-coverage")
SUITES = ["corpus", "linked", "large_mesh", "oracle", "models", "quantiles"]


def run_one(argv):
    """As the suites' wrapper: run the command, its counters in a folder of
    its own with what it was."""
    tag, cmd = argv[0], argv[1:]
    out = tempfile.mkdtemp(dir=os.environ["WRAPPED_COVERAGE_RUNS"])
    with open(os.path.join(out, "run.json"), "w") as f:
        json.dump({"tag": tag, "case": os.environ.get("MESHSTATS_CASE", ""),
                   "cmd": cmd}, f)
    os.execvpe(cmd[0], cmd, dict(os.environ, GCOV_PREFIX=out))


def build():
    if not os.path.exists(os.path.join(BUILD, "build.ninja")):
        subprocess.run(["meson", "setup", BUILD, "-Db_coverage=true",
                        "-Dmpi=disabled", "-Dpython=disabled",
                        "-Dtests=enabled", "-Dbench=false"], cwd=ROOT,
                       check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["ninja", "-C", BUILD], check=True,
                   stdout=subprocess.DEVNULL)


def lines_of(run):
    """The (file, line) of src/ a run executed, from its counters."""
    gcdas = glob.glob(os.path.join(run, BUILD.lstrip("/"), "**", "*.gcda"),
                      recursive=True)
    for g in gcdas:  # the notes beside the counters, for gcov
        shutil.copy(g[len(run):-5] + ".gcno", g[:-5] + ".gcno")
    p = subprocess.run(["gcov", "-t", "-j", *gcdas], cwd=run,
                       capture_output=True, text=True)
    seen = set()
    for line in p.stdout.splitlines():
        if not line.startswith("{"):
            continue
        for f in json.loads(line)["files"]:
            name = os.path.normpath(os.path.join(BUILD, f["file"]))
            if name.startswith(os.path.join(ROOT, "src") + os.sep):
                seen.update((os.path.relpath(name, ROOT), ln["line_number"])
                            for ln in f["lines"] if ln["count"] > 0)
    return seen


def report(runs):
    wrapped, unwrapped = set(), collections.defaultdict(set)
    tags = collections.Counter()
    for meta, seen in runs:
        tags[meta["tag"]] += 1
        if meta["tag"] == "wrapped":
            wrapped |= seen
        else:
            for key in seen:
                unwrapped[key].add(meta["case"])
    missed = {k: v for k, v in unwrapped.items() if k not in wrapped}
    print(f"runs: {tags['wrapped']} under valgrind, {tags['unwrapped']} not")
    print(f"lines of src/ executed under valgrind: {len(wrapped)}; "
          f"only by runs it does not see: {len(missed)}")
    by_file = collections.defaultdict(list)
    for (name, line), cases in sorted(missed.items()):
        by_file[name].append((line, cases))
    for name, rows in by_file.items():
        cases = collections.Counter(c for _, cs in rows for c in cs)
        print(f"  {name}: lines {', '.join(str(l) for l, _ in rows)}")
        for case, n in cases.most_common(3):
            print(f"      {n} of them reached by {case}")


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--run":
        run_one(sys.argv[2:])
    build()
    runs_dir = tempfile.mkdtemp(prefix="wrapped-coverage-")
    env = dict(os.environ, WRAPPED_COVERAGE_RUNS=runs_dir,
               MESHSTATS_WRAP_EVERY="1",
               MESHSTATS_WRAPPER=f"{sys.executable} "
                                 f"{os.path.abspath(__file__)} --run")
    p = subprocess.run(["meson", "test", "-C", BUILD, "--no-rebuild",
                        "--suite", "python", "--logbase", "coverage",
                        "--timeout-multiplier", "3", *SUITES], env=env)
    runs = sorted(os.path.join(runs_dir, r) for r in os.listdir(runs_dir))
    with ThreadPoolExecutor(os.cpu_count()) as pool:
        seen = list(pool.map(lines_of, runs))
    metas = [json.load(open(os.path.join(r, "run.json"))) for r in runs]
    report(list(zip(metas, seen)))
    shutil.rmtree(runs_dir)
    return p.returncode


if __name__ == "__main__":
    sys.exit(main())
