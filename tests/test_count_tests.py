""".ci/count_tests.py, which prints CI's `N passed, N failed`, counts
honestly: fed logs of programs that fail half-way, skip, crash after their
results or never run, it counts each as the failure or skip it is.

Usage: python3 test_count_tests.py /path/to/.ci/count_tests.py   (TAP)
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import case, main  # noqa: E402

COUNTER = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="meshstats-count-")


def count(**stages):
    """Run the counter on stage=text logs ('.json' names get a meson log);
    returns its last two lines."""
    args = []
    for stage, (name, text) in stages.items():
        path = os.path.join(TMP, name)
        if text is not None:
            with open(path, "w") as f:
                f.write(text)
        args.append(f"{stage}={path}")
    p = subprocess.run([sys.executable, COUNTER, *args], capture_output=True,
                       text=True)
    return p.stdout.strip().splitlines()[-2:], p.returncode


def meson_log(*programs):
    return "".join(json.dumps({"name": n, "result": r, "stdout": out}) + "\n"
                   for n, r, out in programs)


@case
def a_clean_run_counts_every_result():
    log = meson_log(("a", "OK", "1..2\nok 1 - a::x\nok 2 - a::y\n"),
                    ("b", "OK", "1..1\nok - b::z (0.01s)\n"))
    lines, rc = count(plain=("p.json", log), again=("q.json", log))
    assert lines == ["3 distinct tests, 6 runs of them across 2 stages; "
                     "0 skipped", "6 passed, 0 failed"], lines
    assert rc == 0


@case
def a_program_that_stops_half_way_counts_what_it_never_reported():
    log = meson_log(("a", "TIMEOUT", "1..5\nok 1 - a::x\nok 2 - a::y\n"))
    lines, rc = count(plain=("p.json", log))
    assert lines[-1] == "2 passed, 3 failed", lines
    assert rc == 1


@case
def a_program_failing_after_passing_results_is_a_failure():
    log = meson_log(("a", "FAIL", "1..1\nok 1 - a::x\n"),
                    ("b", "ERROR", ""))
    lines, _ = count(plain=("p.json", log))
    assert lines[-1] == "1 passed, 2 failed", lines


@case
def skips_are_reported_and_not_passed():
    log = meson_log(("a", "OK", "1..2\nok 1 - a::x\n"
                     "ok 2 - a::y # SKIP test was skipped\n"))
    lines, _ = count(plain=("p.json", log))
    assert lines == ["2 distinct tests, 2 runs of them across 1 stages; "
                     "1 skipped", "1 passed, 0 failed"], lines


@case
def an_empty_or_missing_stage_did_not_run():
    lines, rc = count(fuzz=("f.tap", ""), tsan=("none.json", None))
    assert lines[-1] == "0 passed, 2 failed", lines
    assert rc == 1


if __name__ == "__main__":
    try:
        sys.exit(main("count_tests"))
    finally:
        shutil.rmtree(TMP, True)
