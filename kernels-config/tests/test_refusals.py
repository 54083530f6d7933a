"""Issue 19, item 9: `ab` and `matrix` refuse bad arguments with exit 2 before anything is fetched,
unpacked, built or written. Run as the front door runs them (python3 -m kmatrix, a child process),
with the kernel cache and the results folder pointed at empty temporary folders that must stay so,
and with apt pointed at a proxy that does not exist: a refusal that came after a fetch fails the
test instead of downloading 140 MB."""
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BIN = os.environ.get("SWAPBENCH_TEST_BIN") or os.path.join(ROOT, "build", "bench", "swapbench")
PATCH = os.path.join(ROOT, "kernels-config", "patches", "zswap-load-known-delta-6.12.patch")


@pytest.fixture
def sandbox(tmp_path):
    if not os.access(BIN, os.X_OK):
        pytest.fail(f"no suite binary at {BIN}: build it (./swapbench build) or set SWAPBENCH_TEST_BIN")
    cache, results = tmp_path / "cache", tmp_path / "results"
    results.mkdir()
    env = dict(os.environ, PYTHONPATH=f"{ROOT}/kernels-config:{ROOT}", PYTHONDONTWRITEBYTECODE="1",
               SWAPBENCH_KERNEL_CACHE=str(cache), SWAPBENCH_RESULTS_DIR=str(results), SWAPBENCH_BIN=BIN,
               http_proxy="http://127.0.0.1:9", https_proxy="http://127.0.0.1:9")

    def run(*argv):
        p = subprocess.run([sys.executable, "-m", "kmatrix", *argv], env=env, capture_output=True, text=True,
                           timeout=120, cwd=str(tmp_path))
        # Nothing fetched, nothing left behind: the cache was never made, results/ holds nothing.
        assert not cache.exists(), (argv, sorted(str(p) for p in cache.rglob("*"))[:10], p.stderr)
        assert os.listdir(results) == [], (argv, os.listdir(results), p.stderr)
        return p.returncode, p.stderr
    return run, tmp_path


AB = ["ab", "--source", "debian-6.12-source", "--patch", PATCH]


@pytest.mark.parametrize("extra, says", [
    (["--max-instructions-delta", "-1"], "--max-instructions-delta -1: accepted: a number of instructions, 0 or more"),
    (["--max-instructions-delta", "nan"], "--max-instructions-delta nan"),
    (["--max-instructions-delta", "0", "--no-count"], "--max-instructions-delta with --no-count"),
    (["--suite", "nosuch"], "suite nosuch: --suite 'nosuch': unknown; accepted: quick"),
    (["--suite", ",,"], "--suite ',,': no suite named"),
    (["--suite", "quick,race", "--duration", "5"], "suite quick: --duration applies only to the race suite"),
    (["--boots", "0"], "--boots 0: at least 1"),
    (["--boots", "3", "--repetitions", "2"], "need boots <= repetitions"),
    (["--pages", "-4"], "--pages -4: at least 1"),
    (["--compressor", "lz5"], "--compressor 'lz5': not a zswap or zram compressor"),
    (["--backend", "tape"], "--backend 'tape': accepted: zswap, disk, zram"),
    # The race runs for a duration, with no --pages: its options are asked of the binary all the
    # same (this raised AttributeError before any check, and took guest.test_race_caught down).
    (["--suite", "race", "--duration", "5", "--race-mechanism", "nosuch"], "suite race: "),
])
def test_ab_refuses_a_bad_argument_before_any_fetch(sandbox, extra, says):
    run, _ = sandbox
    rc, err = run(*AB, *extra)
    assert rc == 2 and says in err and "nothing was fetched" in err and "Traceback" not in err, err


def test_ab_says_what_is_wrong_with_a_patch_path(sandbox):
    run, tmp = sandbox
    (tmp / "empty.patch").write_text("")
    (tmp / "prose.patch").write_text("not a diff at all\n")
    for path, says in (("/tmp", "--patch /tmp: a folder, not a patch file"),
                       ("/dev/zero", "--patch /dev/zero: a character device, not a regular file"),
                       (str(tmp / "nope.patch"), "nope.patch: no such file"),
                       (str(tmp / "empty.patch"), "empty.patch: empty"),
                       (str(tmp / "prose.patch"), "prose.patch: names no file")):
        rc, err = run("ab", "--source", "debian-6.12-source", "--patch", path)
        assert rc == 2 and says in err, err
    rc, err = run("ab", "--source", "debian-6.12-source", "--patch-a", "/tmp", "--patch", PATCH)
    assert rc == 2 and "--patch-a /tmp: a folder" in err, err


def test_ab_an_unknown_source_or_a_folder_that_is_no_kernel_tree_is_exit_2(sandbox):
    run, tmp = sandbox
    (tmp / "notakernel").mkdir()
    for src, says in (("nosuch", "unknown source 'nosuch'"), (str(tmp / "notakernel"), "not a kernel tree"),
                      ("debian-6.12", "is a debian kernel, not a source to build"), (PATCH, "not a folder")):
        rc, err = run("ab", "--source", src, "--patch", PATCH)
        assert rc == 2 and says in err and "debian-6.12-source" in err, err


def test_ab_an_existing_out_folder_is_refused_before_the_fetch(sandbox):
    run, tmp = sandbox
    (tmp / "old").mkdir()
    rc, err = run(*AB, "--out", str(tmp / "old"))
    assert rc == 2 and "exists" in err, err
    rc, err = run(*AB, "--out", str(tmp / "no" / "such"))
    assert rc == 2 and "does not exist" in err, err


@pytest.mark.parametrize("kernels", ["", ",,,", "nosuch", "debian-6.12,nosuch", "debian-6.12-source", "running"])
def test_matrix_kernels_nobody_can_boot_are_exit_2_naming_the_accepted_ones(sandbox, kernels):
    run, _ = sandbox
    rc, err = run("matrix", "--kernels", kernels)
    assert rc == 2 and "nothing was fetched" in err and "Traceback" not in err, err
    if kernels != "running":
        assert "accepted: debian-6.1, debian-6.12" in err, err


@pytest.mark.parametrize("extra, says", [
    (["--suite", "nosuch"], "--suite 'nosuch': unknown"),
    (["--pages", "0"], "--pages 0: at least 1"),
    (["--compressor", "lz5"], "--compressor 'lz5'"),
    (["--race-mechanism", "magic"], "--race-mechanism"),
    (["--definitions", "/nonexistent/kernels.toml"], "--definitions"),
])
def test_matrix_bad_run_options_are_exit_2_before_any_fetch(sandbox, extra, says):
    run, _ = sandbox
    rc, err = run("matrix", "--kernels", "debian-6.12", *extra)
    assert rc == 2 and says in err, err


def test_check_kernel_bad_names_are_exit_2_before_any_fetch(sandbox, tmp_path):
    run, tmp = sandbox
    for kernel, says in (("nosuch", "unknown kernel 'nosuch'; defined: "),
                         ("debian-6.12-source", "is a kernel source (linux-source-6.12), not a built kernel")):
        rc, err = run("check", "--kernel", kernel)
        assert rc == 2 and says in err, err
    defs = tmp / "k.toml"
    defs.write_text('[kernel.mine]\nsource = "custom"\nimage = "/nonexistent/bzImage"\nconfig = "/nonexistent/.config"\n')
    rc, err = run("check", "--kernel", "mine", "--definitions", str(defs))
    assert rc == 2 and "image '/nonexistent/bzImage' does not exist" in err, err
    rc, err = run("check", "--kernel", "debian-6.12", "--definitions", str(tmp / "none.toml"))
    assert rc == 2 and "none.toml" in err, err


def test_check_kernel_a_fetch_that_fails_is_an_error_exit_1_not_bad_input(monkeypatch, capsys):
    import argparse
    from kmatrix import check
    from kmatrix.defs import KernelError

    def offline(d):
        raise KernelError("apt-get download linux-image-6.12 failed: Could not resolve 'deb.debian.org'")
    monkeypatch.setattr(check, "files_for", offline)
    assert check.main(argparse.Namespace(kernel="debian-6.12", definitions=None)) == 1
    assert "Could not resolve" in capsys.readouterr().err
