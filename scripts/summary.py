"""Print one closing line for the test logs given: 'N passed, N failed, N skipped'."""
import json
import sys

counts = {"OK": 0, "FAIL": 0, "SKIP": 0}
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        counts["FAIL"] += 1
        print(f"missing test log: {path}")
        continue
    for line in lines:
        result = json.loads(line).get("result", "FAIL")
        counts["OK" if result in ("OK", "EXPECTEDFAIL") else
               "SKIP" if result == "SKIP" else "FAIL"] += 1
print(f"{counts['OK']} passed, {counts['FAIL']} failed, {counts['SKIP']} skipped")
