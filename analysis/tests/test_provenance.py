"""Which build wrote an analysis file: the same version and commit the binary records."""
import subprocess

from analysis import provenance


def test_the_checkout_version_and_commit():
    s = provenance.stamp()
    with open(provenance.TOP + "/CMakeLists.txt") as f:
        assert f"project(swapbench VERSION {s['version']} " in f.read()
    r = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=provenance.TOP, capture_output=True, text=True)
    assert s["commit"] == (r.stdout.strip() if r.returncode == 0 else "unknown")


def test_outside_a_checkout_both_are_unknown(tmp_path):
    assert provenance.stamp(str(tmp_path)) == {"version": "unknown", "commit": "unknown"}
    top = tmp_path / "checkout"  # another folder: stamps are kept per folder for the process's life
    top.mkdir()
    (top / "CMakeLists.txt").write_text("cmake_minimum_required(VERSION 3.18)\nproject(swapbench VERSION 2.3.4 LANGUAGES CXX)\n")
    subprocess.run(["git", "init", "-q", str(top)], check=True)
    assert provenance.stamp(str(top)) == {"version": "2.3.4", "commit": "unknown"}  # no commit yet
