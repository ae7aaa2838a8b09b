"""Summarise a subunit v2 stream (stdin): per-class counts, `N passed, N failed, N skipped`,
then the failing test ids.  Exits 1 when anything failed or nothing ran.

Runs in the tempest venv (python-subunit and testtools come with stestr).
"""

import re
import sys
from collections import Counter
from typing import Any

import subunit
import testtools

OUTCOMES = {
    "success": "passed",
    "xfail": "passed",
    "fail": "failed",
    "uxsuccess": "failed",
    "skip": "skipped",
}


def read_statuses(stream: Any) -> dict[str, str]:
    statuses: dict[str, str] = {}

    def record(test: dict[str, Any]) -> None:
        outcome = OUTCOMES.get(test["status"])
        if outcome is not None:
            statuses[test["id"]] = outcome

    result = testtools.StreamToDict(record)
    result.startTestRun()
    subunit.ByteStreamToStreamResult(stream, non_subunit_name="stdout").run(result)
    result.stopTestRun()
    return statuses


def class_of(test_id: str) -> str:
    """`pkg.module.Class.test_x[id-..]` or `setUpClass (pkg.module.Class)` -> `module.Class`."""
    bare = re.sub(r"\[.*\]$", "", test_id)
    match = re.match(r"\w+ \((.+)\)$", bare)
    dotted = match.group(1) if match else bare.rsplit(".", 1)[0]
    return ".".join(dotted.split(".")[-2:])


def say(line: str) -> None:
    sys.stdout.write(line + "\n")


def main() -> int:
    statuses = read_statuses(sys.stdin.buffer)
    per_class: dict[str, Counter[str]] = {}
    for test_id, outcome in statuses.items():
        per_class.setdefault(class_of(test_id), Counter())[outcome] += 1
    for name, counts in sorted(per_class.items()):
        say(
            f"  {name:55} {counts['passed']:4} passed {counts['failed']:4} failed "
            f"{counts['skipped']:4} skipped"
        )
    totals = Counter(statuses.values())
    say(f"{totals['passed']} passed, {totals['failed']} failed, {totals['skipped']} skipped")
    failing = sorted(test_id for test_id, outcome in statuses.items() if outcome == "failed")
    for test_id in failing:
        say(f"FAILED {test_id}")
    return 1 if failing or not statuses else 0


if __name__ == "__main__":
    sys.exit(main())
