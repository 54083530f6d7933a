"""Every skip of a test run, with its reason, counted: usage: skips.py JUNIT.xml...

ctest's JUnit files (ctest --output-junit) say which tests did not run (exit 77, or GoogleTest's
"[  SKIPPED ]") and hold each test's output; a pytest file that passed may still have skipped some
of its tests, which pytest -rs lists as "SKIPPED [N] file:line: reason". ctest's own summary names
the first kind without a reason and never sees the second."""
import re
import sys
import xml.etree.ElementTree as ET

PYTEST_SKIP = re.compile(r"^SKIPPED \[(\d+)\] (.*)$")
# The line of a whole test's output that says why: the privileged scripts print "SKIP: ...", the
# kernel oracle "skip: ...", GTEST_SKIP() the message after "Skipped".
REASON = re.compile(r"\bskip(ped)?\b", re.I)


def reason_of(out):
    lines = [l.strip() for l in (out or "").splitlines() if l.strip()]
    for i, l in enumerate(lines):
        if l.endswith(": Skipped") and i + 1 < len(lines):
            return lines[i + 1]  # GoogleTest: "file:line: Skipped" then the message
    said = [l for l in lines if REASON.search(l) and not l.startswith("[  SKIPPED ]")]
    return said[-1] if said else (lines[-1] if lines else "(the test printed no reason)")


def skips_in(path):
    """(whole, inside): whole = [(test, reason)] for tests that did not run; inside = [(test, count,
    reason)] for the tests skipped within a test file that ran."""
    whole, inside = [], []
    for case in ET.parse(path).getroot().iter("testcase"):
        out = case.findtext("system-out") or ""
        if case.find("skipped") is not None:
            whole.append((case.get("name"), reason_of(out)))
            continue
        for line in out.splitlines():
            m = PYTEST_SKIP.match(line.strip())
            if m:
                inside.append((case.get("name"), int(m.group(1)), m.group(2)))
    return whole, inside


def main(paths):
    n_whole = n_inside = 0
    for path in paths:
        try:
            whole, inside = skips_in(path)
        except (OSError, ET.ParseError) as e:
            print(f"swapbench: skips: cannot read {path} ({e}); its skips are not counted", file=sys.stderr)
            continue
        for name, why in whole:
            print(f"  skipped {name}: {why}")
        for name, count, why in inside:
            print(f"  skipped {count} in {name}: {why}")
        n_whole += len(whole)
        n_inside += sum(c for _, c, _ in inside)
    print(f"swapbench: skips: {n_whole} whole tests and {n_inside} tests inside test files did not run"
          + (" (reasons above)" if n_whole + n_inside else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
