"""Counts the individual tests of every stage of .ci/quickstart test and
prints the closing line `N passed, N failed`.

Arguments are STAGE=FILE: a meson test log (testlog.json, one JSON object
a line, each test program's stdout holding its TAP lines) or a TAP file.
The count is honest:

- every `not ok` is a failure, and a `# SKIP` is a skip, never a pass;
- a program's TAP plan (`1..N`) must be met: results it never printed
  (a crash or a timeout half-way) are failures;
- a program that reported nothing, or whose TAP lines all passed while
  the program itself failed (a sanitizer report at exit, a timeout, a
  non-zero status), counts one failure more;
- a stage whose log is missing or empty did not run: one failure.

Before the closing line it prints each stage's counts and how many distinct
tests ran in how many stages, so that nobody reads the total as that many
different tests.
"""
import json
import re
import sys

RESULT = re.compile(r"^(ok|not ok)\b(.*)$")
PLAN = re.compile(r"^1\.\.(\d+)")


def parse_tap(text):
    """(passed, failed, skipped, names, planned or None) of TAP text."""
    passed = failed = skipped = 0
    names = []
    planned = None
    for line in text.splitlines():
        m = PLAN.match(line)
        if m:
            planned = (planned or 0) + int(m.group(1))
            continue
        m = RESULT.match(line)
        if not m:
            continue
        rest = m.group(2)
        name = rest.split(" - ", 1)[1] if " - " in rest else rest.strip()
        name = re.split(r"\s+\(|\s+#", name)[0].strip()
        names.append(name)
        if re.search(r"#\s*SKIP\b", rest, re.IGNORECASE):
            skipped += 1
        elif m.group(1) == "ok":
            passed += 1
        else:
            failed += 1
    return passed, failed, skipped, names, planned


def count_program(text, program_ok, label):
    """Counts of one test program's output; program_ok is False when the
    program itself failed (its exit status, a timeout)."""
    passed, failed, skipped, names, planned = parse_tap(text)
    seen = passed + failed + skipped
    notes = []
    if planned is not None and seen < planned:
        failed += planned - seen
        notes.append(f"{label}: {planned - seen} of {planned} planned "
                     "results never reported")
    if seen == 0 and planned is None:
        failed += 1
        notes.append(f"{label}: reported no result")
    elif not program_ok and failed == 0:
        failed += 1
        notes.append(f"{label}: the program failed after its results "
                     "(a sanitizer report, a timeout or its exit status)")
    return passed, failed, skipped, names, notes


def count_stage(path):
    with open(path) as f:
        text = f.read()
    if not text.strip():
        return 0, 1, 0, [], [f"{path} is empty: the stage did not run"]
    if not path.endswith(".json"):
        return count_program(text, True, path)
    totals = [0, 0, 0, [], []]
    for line in text.splitlines():
        entry = json.loads(line)
        counts = count_program(entry.get("stdout", ""),
                               entry.get("result") == "OK",
                               entry.get("name", "?"))
        for i in range(5):
            totals[i] += counts[i]
    return tuple(totals)


def main(args):
    total_ok = total_bad = total_skip = 0
    stages_of = {}
    for arg in args:
        stage, path = arg.split("=", 1)
        try:
            ok, bad, skip, names, notes = count_stage(path)
        except OSError:
            ok, bad, skip, names = 0, 1, 0, []
            notes = [f"{path} missing: the stage did not run"]
        for note in notes:
            print(f"{stage}: {note}")
        print(f"{stage}: {ok} passed, {bad} failed, {skip} skipped")
        for name in names:
            stages_of.setdefault(name, set()).add(stage)
        total_ok += ok
        total_bad += bad
        total_skip += skip
    runs = sum(len(s) for s in stages_of.values())
    print(f"{len(stages_of)} distinct tests, {runs} runs of them across "
          f"{len(args)} stages; {total_skip} skipped")
    print(f"{total_ok} passed, {total_bad} failed")
    return 1 if total_bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
