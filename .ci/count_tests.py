"""Counts the individual tests of every stage of .ci/quickstart test and
prints the closing line `N passed, N failed`.

Arguments are STAGE=FILE: a meson test log (testlog.json, one JSON object
a line, each test's stdout holding its TAP lines) or a TAP file.  A test
program that died without reporting anything counts as one failure.
"""
import json
import re
import sys

TAP = re.compile(r"^(not ok|ok)\b", re.MULTILINE)


def count_tap(text):
    results = TAP.findall(text)
    return results.count("ok"), results.count("not ok"), bool(results)


total_ok = total_bad = 0
for arg in sys.argv[1:]:
    stage, path = arg.split("=", 1)
    ok = bad = 0
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        print(f"{stage}: {path} missing (the stage did not run): 1 failed")
        total_bad += 1
        continue
    if path.endswith(".json"):
        for line in text.splitlines():
            entry = json.loads(line)
            o, b, any_ = count_tap(entry.get("stdout", ""))
            if not any_ and entry.get("result") != "OK":
                b = 1
            ok += o
            bad += b
    else:
        ok, bad, _ = count_tap(text)
    print(f"{stage}: {ok} passed, {bad} failed")
    total_ok += ok
    total_bad += bad
print(f"{total_ok} passed, {total_bad} failed")
