"""A small TAP harness for the Python tests: register cases with @case,
run them with main(); each prints one `ok`/`not ok` line."""

import sys
import traceback

CASES = []


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
