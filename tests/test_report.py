"""Seeing a pass: --trace writes the pass's timeline as a Chrome trace,
--report a self-contained HTML page, rendered here in headless Chromium
(Debian's chromium).  Neither changes the JSON.

Usage: python3 test_report.py /path/to/meshstats   (prints TAP)
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import case, main, wrapper  # noqa: E402

MESHSTATS = sys.argv[1] if len(sys.argv) > 1 else "meshstats"
TMP = tempfile.mkdtemp(prefix="meshstats-report-")
atexit.register(shutil.rmtree, TMP, True)


def run(*args):
    p = subprocess.run([*wrapper(), MESHSTATS, *map(str, args)],
                       capture_output=True, text=True, cwd=TMP, timeout=300)
    assert p.returncode == 0, (args, p.stderr)
    return p


def dataset(name, *args):
    path = os.path.join(TMP, name)
    if not os.path.exists(path):
        run("generate", path, "-q", *args)
    return path


def plate():
    return dataset("plate.h5", "--samples", 8, "--timesteps", 40, "--nodes",
                   2000)


def intervals(events, name, tid=None):
    return [(e["ts"], e["ts"] + e["dur"]) for e in events
            if e["name"] == name and (tid is None or e["tid"] == tid)]


def overlap(a, spans):
    return sum(max(0.0, min(a[1], b[1]) - max(a[0], b[0])) for b in spans)


@case
def a_throttled_two_worker_trace_shows_the_overlap():
    out = os.path.join(TMP, "t.json")
    run("-q", "-j", 2, "--throttle", 40, "--trace", out, "--json",
        os.path.join(TMP, "with.json"), plate())
    run("-q", "-j", 2, "--json", os.path.join(TMP, "without.json"), plate())
    assert open(os.path.join(TMP, "with.json")).read() == \
        open(os.path.join(TMP, "without.json")).read()
    trace = json.load(open(out))
    events = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    names = {e["tid"]: e["args"]["name"] for e in trace["traceEvents"]
             if e["ph"] == "M" and e["name"] == "thread_name"}
    assert names == {0: "loop", 1: "worker 1", 2: "worker 2",
                     3: "check"}, names
    assert {e["name"] for e in events} >= {"read", "compute", "edges",
                                            "fold", "check"}
    # The checks (src/pass/stream.c) cover the 8 samples once, before the
    # first read.
    checks = [e for e in events if e["name"] == "check"]
    assert sum(e["args"]["samples"] for e in checks) == 8, checks
    assert all(e["tid"] == 3 for e in checks)
    first_read = min(e["ts"] for e in events if e["name"] == "read")
    assert min(e["ts"] + e["dur"] for e in checks) <= first_read
    # A thread never does two things at once.
    for tid in names:
        spans = sorted((e["ts"], e["ts"] + e["dur"]) for e in events
                       if e["tid"] == tid)
        for (a0, a1), (b0, b1) in zip(spans, spans[1:]):
            assert a1 <= b0 + 1e-3, (tid, a0, a1, b0, b1)
    # The bytes read add up; every unit read once.
    reads = [e for e in events if e["name"] == "read"]
    assert sum(e["args"]["bytes"] for e in reads) == \
        trace["otherData"]["bytes_read"] > 0
    assert len(reads) == trace["otherData"]["units"]
    # While one worker computes, the other reads: a tenth of the time at
    # least (72-85% on an idle machine, 57-77% under ASan, 38% under ASan
    # beside another suite in CI; 0 with one unit in flight, --prefetch 1).
    computing = 0.0
    covered = 0.0
    for tid in (1, 2):
        other = intervals(events, "read", 3 - tid)
        for c in intervals(events, "compute", tid):
            computing += c[1] - c[0]
            covered += overlap(c, other)
    assert covered >= computing / 10, (covered, computing)


def rendered(page):
    """The DOM of page after its script ran, from headless Chromium."""
    p = subprocess.run(["chromium", "--headless", "--no-sandbox",
                        "--disable-gpu", "--dump-dom", "file://" + page],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    return p.stdout


def check_page(page, features):
    dom = rendered(page)
    assert 'data-status="ok"' in dom, dom[:3000]
    for group in ("node", "edge", "delta"):
        assert f'data-group="{group}"' in dom, group
    assert 'id="timeline-plot"' in dom and 'id="throughput-plot"' in dom
    assert ">check<" in dom  # (the lane of the samples' checks)
    for name in features:
        assert f">{name}<" in dom.replace("&gt;", ">"), name
    assert not re.search(r'<(script|link|img)[^>]+src="?https?:', dom)


@case
def the_report_renders_every_group_feature_and_the_timeline():
    page = os.path.join(TMP, "plate.html")
    out = os.path.join(TMP, "r.json")
    run("-q", "-j", 2, "--report", page, "--json", out, plate())
    assert open(out).read() == open(os.path.join(TMP, "without.json")).read() \
        if os.path.exists(os.path.join(TMP, "without.json")) else True
    result = json.load(open(out))
    names = [n for g in ("node", "edge", "delta")
             for n in result[g]["features"]]
    check_page(page, names)
    assert 'id="sample-plot"' in rendered(page)


@case
def every_model_has_its_page():
    for model in ("cloth", "cfd", "plate"):
        path = dataset(f"{model}.h5", "--model", model, "--samples", 3,
                       "--timesteps", 6, "--nodes", 80)
        page = os.path.join(TMP, f"{model}.html")
        out = os.path.join(TMP, f"{model}.json")
        run("-q", "--report", page, "--json", out, path)
        result = json.load(open(out))
        check_page(page, [n for g in ("node", "edge", "delta")
                          for n in result[g]["features"]])


@case
def a_dataset_name_cannot_end_the_pages_script():
    # The path holds "</script>": a folder "a<" and a file "script>.h5".
    os.makedirs(os.path.join(TMP, "a<"), exist_ok=True)
    odd = os.path.join(TMP, "a<", "script><b>.h5")
    assert "</script>" in odd
    shutil.copy(plate(), odd)
    page = os.path.join(TMP, "odd.html")
    run("-q", "--report", page, odd)
    assert 'data-status="ok"' in rendered(page)
    # "<!--<script>" would make the next "</script>" not end the element.
    os.makedirs(os.path.join(TMP, "d<!--<script>"), exist_ok=True)
    odd = os.path.join(TMP, "d<!--<script>", "a.h5")
    shutil.copy(plate(), odd)
    run("-q", "--report", page, odd)
    assert 'data-status="ok"' in rendered(page)


@case
def sample_ids_past_2_to_the_53_are_shown_as_they_are():
    # A JavaScript number holds integers exactly to 2^53 only: ids of 18
    # digits were shown rounded (999999999999999999 as 1e18).
    path = os.path.join(TMP, "big-ids.h5")
    with h5py.File(plate(), "r") as src, h5py.File(path, "w") as f:
        for sid, new_id in zip(list(src["data"])[:2],
                               ("999999999999999999", "123456789012345678")):
            src.copy(f"data/{sid}", f, f"data/{new_id}")
        f.create_group("data/900719925474099399")  # skipped: no datasets
    page = os.path.join(TMP, "big-ids.html")
    run("-q", "--report", page, path)
    dom = rendered(page)
    assert 'data-status="ok"' in dom
    for sid in ("999999999999999999", "123456789012345678",
                "900719925474099399"):
        assert f"sample {sid}" in dom, sid


if __name__ == "__main__":
    sys.exit(main("report"))
