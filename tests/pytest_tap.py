"""A pytest plugin that prints TAP, one line per test, for meson and
.ci/count_tests.py:  python3 -m pytest -p pytest_tap -p no:terminal ...

A test is `ok` when its setup, call and teardown passed, `ok ... # SKIP`
when it was skipped, else `not ok` with the failure's last lines as
comments.  A collection error fails the run with `Bail out!`."""

import sys

_results = {}  # nodeid -> [outcome, text]
_order = []


def pytest_configure(config):
    # Without the terminal plugin, assertion rewriting still asks for -v.
    if not hasattr(config.option, "verbose"):
        config.option.verbose = 0


def _emit(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def pytest_collectreport(report):
    if report.failed:
        _emit(f"Bail out! cannot collect {report.nodeid}: "
              f"{str(report.longrepr).splitlines()[-1]}")


def pytest_collection_finish(session):
    _emit(f"1..{len(session.items)}")


def pytest_runtest_logreport(report):
    entry = _results.setdefault(report.nodeid, ["passed", ""])
    if report.nodeid not in _order:
        _order.append(report.nodeid)
    if report.failed and entry[0] != "failed":
        entry[0] = "failed"
        entry[1] = f"{report.when}: {report.longreprtext}"
    elif report.skipped and entry[0] == "passed":
        entry[0] = "skipped"
        entry[1] = (report.longrepr[2] if isinstance(report.longrepr, tuple)
                    else str(report.longrepr))


def pytest_runtest_logfinish(nodeid, location):
    outcome, text = _results.get(nodeid, ["failed", "no report"])
    n = _order.index(nodeid) + 1 if nodeid in _order else len(_order) + 1
    name = nodeid.split("::", 1)[-1]
    if outcome == "passed":
        _emit(f"ok {n} - python::{name}")
    elif outcome == "skipped":
        _emit(f"ok {n} - python::{name} # SKIP {text}")
    else:
        _emit(f"not ok {n} - python::{name}")
        for line in text.rstrip().splitlines()[-12:]:
            _emit(f"# {line}")
