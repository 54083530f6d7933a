"""analysis/environment.py: what a run as root accepts from a variable naming a program or a folder.
The ownership cases need root (chown); as an ordinary user they are skipped and
the user-side rule (taken as given) is tested instead."""
import os
import re

import pytest

from analysis import environment
from analysis.capacity import sampler
from analysis.errors import ResultError

root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to make files of another owner (run as root)")
NOBODY = 65534


@pytest.fixture
def tree(tmp_path):
    """tmp_path (root's, 0700, under the sticky /tmp) holding a program and a folder."""
    prog = tmp_path / "prog"
    prog.write_text("#!/bin/sh\nexit 0\n")
    prog.chmod(0o755)
    (tmp_path / "dir").mkdir(mode=0o755)
    return tmp_path


@root
def test_roots_own_files_and_folders_are_taken(tree):
    assert environment.untrusted_reason(str(tree / "prog"), "program") is None
    assert environment.untrusted_reason(str(tree / "dir"), "folder") is None
    assert environment.untrusted_reason("/usr/bin/env", "program") is None
    # Not there yet, inside folders only root can change: nobody else can put it there.
    assert environment.untrusted_reason(str(tree / "dir" / "new" / "deeper"), "folder") is None


@root
def test_another_users_program_or_folder_is_refused(tree):
    os.chown(tree / "prog", NOBODY, NOBODY)
    assert "belongs to nobody, not root" in environment.untrusted_reason(str(tree / "prog"), "program")
    os.chown(tree / "dir", NOBODY, NOBODY)
    assert "belongs to nobody" in environment.untrusted_reason(str(tree / "dir" / "x"), "folder")


@root
def test_writable_by_group_or_others_is_refused_anywhere_on_the_path(tree):
    (tree / "prog").chmod(0o775)
    assert "writable by group (mode 0775)" in environment.untrusted_reason(str(tree / "prog"), "program")
    (tree / "prog").chmod(0o755)
    (tree / "dir").chmod(0o757)
    (tree / "dir" / "p").write_text("")
    assert "writable by others" in environment.untrusted_reason(str(tree / "dir" / "p"), "program")


def test_directly_in_tmp_is_refused_even_when_roots():
    # /tmp is sticky: root's folder under it stays root's, but a name directly in it is anyone's.
    assert "/tmp is writable by group and others" in environment.untrusted_reason("/tmp/evil.sh", "program")
    assert "/tmp is writable by group and others" in environment.untrusted_reason("/tmp", "folder")
    assert "others could create it first" in environment.untrusted_reason("/tmp/no-such-swapbench-dir/x", "folder")


@root
def test_a_link_is_judged_by_what_it_points_to(tree):
    (tree / "link").symlink_to("/tmp")
    assert "/tmp is writable" in environment.untrusted_reason(str(tree / "link"), "folder")


@root
def test_from_env_as_root_refuses_with_the_variable_named(tree, monkeypatch):
    os.chown(tree / "prog", NOBODY, NOBODY)
    monkeypatch.setenv("SWAPBENCH_CAPACITY_BIN", str(tree / "prog"))
    with pytest.raises(ResultError, match=r"SWAPBENCH_CAPACITY_BIN=.*belongs to nobody.*unset SWAPBENCH_CAPACITY_BIN"):
        sampler.sampler_binary()
    with pytest.raises(ResultError, match="SWAPBENCH_CAPACITY_BIN"):
        environment.check_all()


@root
def test_the_sampler_beside_another_users_suite_binary_is_refused(tree, monkeypatch):
    monkeypatch.delenv("SWAPBENCH_CAPACITY_BIN", raising=False)
    (tree / "dir" / "swapbench").write_text("")
    (tree / "dir" / "swapbench-capacity").write_text("")
    os.chown(tree / "dir" / "swapbench-capacity", NOBODY, NOBODY)
    monkeypatch.setenv("SWAPBENCH_BIN", str(tree / "dir" / "swapbench"))
    with pytest.raises(ResultError, match="the sampler beside it: .*belongs to nobody"):
        sampler.sampler_binary()


def test_as_an_ordinary_user_the_value_is_taken(monkeypatch):
    monkeypatch.setenv("SWAPBENCH_CAPACITY_BIN", "/tmp/anything")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert sampler.sampler_binary() == "/tmp/anything"


def test_search_path_for_root_keeps_only_roots_folders(capsys):
    got = environment.trusted_search_path("/usr/bin:/tmp:relative::/bin")
    assert got == "/usr/bin:/bin"
    err = capsys.readouterr().err
    assert "not searched: /tmp (/tmp is writable by group and others (mode 1777)), relative (relative)" in err


TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# How the code reads a variable: C++ getenv and CLI11's option twins, Python's environ and
# from_env, the front door's ${VAR...}.
READS = re.compile(r'(?:getenv\(|envname\(|environ\.get\(|environ\[|from_env\(|\$\{)"?(SWAPBENCH_[A-Z0-9_]+)')


def variables_read():
    found = set()
    for folder in ("bench", "workloads", "analysis", "kernels-config/kmatrix"):
        for dirpath, _, files in os.walk(os.path.join(TOP, folder)):
            for f in files:
                if f.endswith((".cpp", ".h", ".py")) and os.sep + "tests" not in dirpath:
                    found |= set(READS.findall(open(os.path.join(dirpath, f), errors="replace").read()))
    found |= set(READS.findall(open(os.path.join(TOP, "swapbench")).read()))
    return found


def test_every_variable_the_suite_reads_is_in_the_readme_section():
    readme = open(os.path.join(TOP, "README.md")).read()
    section = readme.split("## Environment variables", 1)[1].split("\n## ", 1)[0]
    read = variables_read()
    assert {"SWAPBENCH_CAPACITY_BIN", "SWAPBENCH_PAGES", "SWAPBENCH_RESULTS_DIR", "SWAPBENCH_TIMER"} <= read, read
    assert set(environment.PATH_VARIABLES) <= read
    missing = sorted(v for v in read if f"`{v}`" not in section)
    assert not missing, f"not in README.md's Environment variables: {missing}"
