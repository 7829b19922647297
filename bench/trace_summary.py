#!/usr/bin/env python3
"""Where a traced pass spent its workers' time.

    python3 bench/trace_summary.py TRACE.json...

For each trace written by `meshstats --trace` (docs/cli.md, "Seeing a
pass"): when the first unit read began and the last span ended (ms from
the start), each worker's busy time over the whole run and over the pass
proper (from the first read to the end; the rest is the ordering of a
large mesh's edges, "Edge order" in docs/design.md), and the worker time
of each kind of span summed (reads, computes, and each step of the edge
ordering by name).  Worker threads are the trace's threads 1 and up;
thread 0 is the loop (folds), the last one the planner (checks).  Never
part of meson test.
"""
import collections
import json
import sys


def spans(path):
    with open(path, encoding="utf-8") as f:
        events = json.load(f)["traceEvents"]
    return [e for e in events if e.get("ph") == "X"]


def kind(e):
    step = e.get("args", {}).get("step")
    return f"{e['name']}: {step}" if step else e["name"]


def summary(path):
    ev = spans(path)
    workers = sorted({e["tid"] for e in ev if e["name"] in ("read", "compute")})
    first = min(e["ts"] for e in ev if e["name"] == "read")
    end = max(e["ts"] + e["dur"] for e in ev)
    print(f"{path}: first read at {first / 1e3:.0f} ms, "
          f"end at {end / 1e3:.0f} ms")
    for tid in workers:
        mine = [e for e in ev if e["tid"] == tid]
        busy = sum(e["dur"] for e in mine)
        in_pass = sum(min(e["ts"] + e["dur"], end) - max(e["ts"], first)
                      for e in mine if e["ts"] + e["dur"] > first)
        print(f"  worker {tid}: busy {busy / 1e3:.0f} ms in all, "
              f"{in_pass / 1e3:.0f} of the pass's {(end - first) / 1e3:.0f}")
    total = collections.Counter()
    for e in ev:
        if e["tid"] in workers:
            total[kind(e)] += e["dur"]
    for k, us in total.most_common():
        print(f"  {k:<24} {us / 1e3:8.1f} ms")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__.strip().splitlines()[2].strip())
    for p in sys.argv[1:]:
        summary(p)
