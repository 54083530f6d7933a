"""The test scripts' failure messages carry the exit code of the command that failed. In
`cmd || { tail log; fail "cmd exited $?"; }` the $? is tail's (0): test_matrix_tcg.sh said "matrix
exited 0" for a matrix that had exited 1. Inside a `|| { ... }` group, $? may be read only
as its first statement."""
import glob
import os
import re

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_GROUP = re.compile(r"\|\|\s*\{(?P<body>[^{}]*)\}")


def late_status_reads(text):
    """(line number, group) of each `|| { ... }` group that reads $? after running something else."""
    out = []
    for m in _GROUP.finditer(text):
        body = m.group("body")
        at = body.find("$?")
        if at < 0:
            continue
        first = body.split(";")[0].strip()
        if not (first.startswith("rc=$?") or first.startswith("return $?") or first.startswith("exit $?")) \
                or body.find("$?", at + 2) >= 0:
            out.append((text.count("\n", 0, m.start()) + 1, m.group(0).strip()))
    return out


def test_the_checker_finds_the_bug_it_is_for():
    assert late_status_reads('m || { tail -40 out; fail "matrix exited $?"; }')
    assert late_status_reads('m \\\n  || { cat out; kill $r; fail "exited $?"; }')
    assert not late_status_reads('m || { rc=$?; tail -40 out; fail "matrix exited $rc"; }')
    assert not late_status_reads('m || fail "matrix exited $?"')


def test_no_test_script_reports_another_commands_status():
    scripts = glob.glob(os.path.join(TOP, "tests", "**", "*.sh"), recursive=True)
    assert len(scripts) > 20, scripts
    found = [f"{os.path.relpath(s, TOP)}:{n}: {g}" for s in scripts for n, g in late_status_reads(open(s).read())]
    assert not found, "\n".join(found)
