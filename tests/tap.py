"""A small TAP harness for the Python tests: register cases with @case,
run them with main(); each prints one `ok`/`not ok` line."""

import itertools
import os
import shlex
import subprocess
import sys
import traceback

# A command to run meshstats under (for example valgrind), from the
# environment: every test that runs the program puts wrapper() in front.
WRAPPER = shlex.split(os.environ.get("MESHSTATS_WRAPPER", ""))
# How many runs of each case go under it.  Under valgrind a run takes 2 to
# 10 s, 2 s of them starting (52 libraries, HDF5), and a case's later runs
# mostly repeat its first ones' code with other settings or inputs; every
# run goes under ASan, and those of the threaded suites under TSan.  One:
# with two, CI took 1,143 to 1,180 s of its 20 minutes on a slow day, and
# the second runs reached 57 lines of src/ (of 6,971, gcov) that no first
# run did, now wrapped where they are reached (also_wrap).  Which lines
# no wrapped run reaches: .ci/wrapped_coverage.py.
WRAPPED_RUNS = 1
_wrapped = 0
_also = 0
# MESHSTATS_SETTINGS=each: a sweep over settings runs each value once (see
# settings), as under a wrapper; the ThreadSanitizer stage sets it.
EACH_SETTING = bool(WRAPPER) or os.environ.get("MESHSTATS_SETTINGS") == "each"

CASES = []


# MESHSTATS_WRAP_EVERY=1 (.ci/wrapped_coverage.py): every run goes under the
# wrapper, told first whether the harness would have wrapped it ("wrapped"
# or "unwrapped"), with the case's name in MESHSTATS_CASE.
WRAP_EVERY = os.environ.get("MESHSTATS_WRAP_EVERY") == "1"


def _wrapping():
    """Whether the next run of meshstats in the case goes under WRAPPER."""
    global _wrapped, _also
    if _also > 0:
        _also -= 1
        return True
    if _wrapped >= WRAPPED_RUNS:
        return False
    _wrapped += 1
    return True


def wrapper():
    """WRAPPER for the first WRAPPED_RUNS runs of meshstats in the case
    being run, and those also_wrap names, then nothing (the run goes on
    unwrapped, its checks the same)."""
    if not WRAPPER:
        return []
    wrapped = _wrapping()
    if WRAP_EVERY:
        return WRAPPER + ["wrapped" if wrapped else "unwrapped"]
    return WRAPPER if wrapped else []


def also_wrap(n):
    """The next n runs of meshstats in this case go under the wrapper too,
    past WRAPPED_RUNS: runs of code that the case's first runs do not
    reach (an option, a read path), which valgrind must see."""
    global _also
    _also = n


def settings(*axes):
    """The runs of a check that a result does not depend on some settings
    (each axis a setting's values): every combination; under a wrapper
    (valgrind: each run 20 to 50 times slower) or EACH_SETTING (TSan: 5 to
    15 times), a set that still runs every value of every axis at least
    once (run i takes each axis's i-th value, or its last), the
    combinations being the plain and ASan stages'."""
    if not EACH_SETTING:
        return list(itertools.product(*axes))
    n = max(len(a) for a in axes)
    return [tuple(a[min(i, len(a) - 1)] for a in axes) for i in range(n)]


def sanitized(program):
    """Whether program is an AddressSanitizer build (which handles SIGSEGV
    itself, so meshstats' crash guard is left out of it)."""
    p = subprocess.run(["ldd", program], capture_output=True, text=True)
    return "libasan" in p.stdout


def case(fn):
    CASES.append(fn)
    return fn


def main(prefix):
    global _wrapped, _also
    print(f"1..{len(CASES)}")
    failed = 0
    for i, fn in enumerate(CASES, 1):
        _wrapped = _also = 0
        os.environ["MESHSTATS_CASE"] = f"{prefix}::{fn.__name__}"
        try:
            fn()
            print(f"ok {i} - {prefix}::{fn.__name__}")
        except Exception as exc:  # report and go on
            failed += 1
            print(f"not ok {i} - {prefix}::{fn.__name__}")
            for line in traceback.format_exception(exc)[-3:]:
                for part in line.rstrip().splitlines():
                    print(f"# {part}")
        sys.stdout.flush()
    return 1 if failed else 0
