"""A small TAP harness for the Python tests: register cases with @case,
run them with main(); each prints one `ok`/`not ok` line."""

import itertools
import os
import shlex
import subprocess
import sys
import traceback

# A command to run meshstats under (for example valgrind), from the
# environment: every test that runs the program puts it in front.
WRAPPER = shlex.split(os.environ.get("MESHSTATS_WRAPPER", ""))

CASES = []


def settings(*axes):
    """The runs of a check that a result does not depend on some settings
    (each axis a setting's values): every combination; under a wrapper
    (valgrind: each run 20 to 50 times slower), a set that still runs every
    value of every axis at least once (run i takes each axis's i-th value,
    or its last), the combinations being the ASan and TSan stages'."""
    if not WRAPPER:
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
    print(f"1..{len(CASES)}")
    failed = 0
    for i, fn in enumerate(CASES, 1):
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
