"""Counts the individual tests in a meson test log and prints the closing
line `N passed, N failed`.

Every test program speaks TAP, one line per test; a program that died
without reporting anything counts as one failure.
"""
import json
import re
import sys

passed = failed = 0
with open(sys.argv[1]) as log:
    for line in log:
        entry = json.loads(line)
        results = re.findall(r"^(not ok|ok)\b", entry.get("stdout", ""),
                             re.MULTILINE)
        ok = results.count("ok")
        bad = results.count("not ok")
        if not results and entry.get("result") != "OK":
            bad = 1
        passed += ok
        failed += bad
        print(f"{entry['name']}: {ok} passed, {bad} failed")
print(f"{passed} passed, {failed} failed")
