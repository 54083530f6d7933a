"""A boot without a result: an infrastructure failure (the emulator or the host) is
booted again once, saying why, and never counts against a kernel or a patch; a kernel crash is a
finding, retried only with --retry-crash and recorded either way. Fixtures are real consoles
(tests/fixtures/console-*)."""
import argparse
import json
import os
from types import SimpleNamespace

import pytest

from kmatrix import ab, build, matrix, qemu
from kmatrix import boot as kboot
from kmatrix.defs import KernelError

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def console(name):
    return open(os.path.join(FIXTURES, name), errors="replace").read().splitlines()


def boot(name="debian-6.12", index=2):
    return kboot.Boot(SimpleNamespace(name=name), index, 1)


def failing(*outcomes):
    """go() for boot_with_retry: raises each outcome in turn (None: the boot gave a result)."""
    calls = []

    def go():
        calls.append(1)
        o = outcomes[len(calls) - 1]
        if o is not None:
            raise o
    return go, calls


def infra(b):
    return qemu.InfrastructureFailure("stall", {"kind": "infrastructure", "reason": "an I/O stall", "crash": None,
                                                "kernel": b.kernel.name, "boot": b.index, "console": "c"})


def crash(b):
    return kboot.GuestCrash("crashed", {"kind": "kernel", "reason": "Oops: double fault", "crash": {},
                                         "kernel": b.kernel.name, "boot": b.index, "console": "c"})


def test_an_infrastructure_failure_is_retried_once_and_recorded():
    b, crashes, lost = boot(), [], []
    go, calls = failing(infra(b), None)
    assert kboot.boot_with_retry(b, go, crashes, lost) is True
    assert len(calls) == 2 and not crashes and b.info["attempt"] == 2
    assert lost == [dict(lost[0], retried=True, retry_ok=True)] and lost[0]["reason"] == "an I/O stall"


def test_an_infrastructure_failure_twice_loses_the_boot_not_the_kernel():
    b, crashes, lost = boot(), [], []
    go, calls = failing(infra(b), infra(b))
    assert kboot.boot_with_retry(b, go, crashes, lost) is False
    assert len(calls) == 2 and not crashes and [f["retried"] for f in lost] == [True, False]


def test_a_kernel_crash_is_not_retried_unless_asked_and_stays_recorded():
    b, crashes, lost = boot(), [], []
    go, calls = failing(crash(b), None)
    assert kboot.boot_with_retry(b, go, crashes, lost) is False
    assert len(calls) == 1 and len(crashes) == 1 and not crashes[0]["retried"] and not lost
    b, crashes = boot(), []
    go, calls = failing(crash(b), None)
    assert kboot.boot_with_retry(b, go, crashes, lost, retry_crash=True) is True
    assert len(calls) == 2 and crashes[0]["retried"] and crashes[0]["retry_ok"]


def test_the_wbt_wait_stall_console_is_an_infrastructure_failure(tmp_path):
    b = boot()
    with pytest.raises(qemu.InfrastructureFailure) as e:
        kboot._failed_boot("[boot 2/4 debian-6.12 tcg]", b, console("console-6.12-tcg-io-stall-hung-task"),
                            "the guest wrote no results", str(tmp_path), rc=0, timeout_s=400)
    r = e.value.record
    assert r["kind"] == "infrastructure" and "I/O stall" in r["reason"] and "blocked for more than" in r["reason"]
    assert "(in folio_wait_writeback;" in r["reason"]
    assert r["console"] == str(tmp_path / "console-boot2-debian-6.12.log") and os.path.getsize(r["console"]) > 1000
    assert "the kernel crashed" not in str(e.value) and "not the kernel's" in str(e.value)


def test_an_oops_console_is_a_kernel_crash(tmp_path):
    b = boot()
    b.attempt = 2
    with pytest.raises(kboot.GuestCrash) as e:
        kboot._failed_boot("[boot 2/4]", b, console("console-6.12-no-recheck-oops"), "no result", str(tmp_path))
    assert e.value.record["kind"] == "kernel" and e.value.record["console"].endswith("-retry.log")


def _ab(tmp_path, fake_kernel_tree, monkeypatch, fake_matrix):
    from test_refusals import BIN
    monkeypatch.setenv("SWAPBENCH_BIN", BIN)  # ab asks the suite's binary about the suites before anything
    patch = tmp_path / "p.patch"
    patch.write_text("--- a/mm/zswap.c\n+++ b/mm/zswap.c\n@@ -1,3 +1,3 @@\n line 1\n-line 2\n+LINE 2\n line 3\n")
    kf = SimpleNamespace(image="/x/bzImage", modules_dir="/x/m", config="/x/.config", version="6.12+abc", release="r")
    monkeypatch.setattr(build, "build_kernel", lambda *a, **k: kf)
    monkeypatch.setattr(matrix, "run", fake_matrix)
    p = argparse.ArgumentParser()
    ab.add_arguments(p)
    out = tmp_path / "run"
    return ab.main(p.parse_args(["--source", str(fake_kernel_tree), "--patch", str(patch), "--out", str(out),
                                 "--no-count"])), out


def test_ab_never_counts_an_infrastructure_failure_against_a_side(tmp_path, fake_kernel_tree, monkeypatch, capsys):
    def fake_matrix(m, written, crashes, infra, hard):
        # ab asks the matrix with its typed configuration: its own sizes, no traced pass.
        assert isinstance(m, matrix.MatrixConfig) and m.suite in ab.DEFAULT_SUITES.split(",")
        assert (m.pages, m.no_ftrace, m.no_count) == (ab.AB_PAGES, True, True)
        infra.append({"kind": "infrastructure", "reason": "an I/O stall", "kernel": "B-abc", "boot": 2,
                      "console": "c", "retried": False, "retry_ok": False})
        return 1
    rc, out = _ab(tmp_path, fake_kernel_tree, monkeypatch, fake_matrix)
    text = capsys.readouterr().out
    assert rc == 1 and "HARD FAILURE" not in text and "INCOMPLETE suite quick" in text and "not a finding" in text
    entry = json.load(open(out / "ab.json"))["suites"]["quick"]
    assert entry["hard_failures"] is False and not entry["crashes"] and entry["infrastructure"][0]["reason"] == "an I/O stall"


def test_ab_counts_a_kernel_crash_against_its_side(tmp_path, fake_kernel_tree, monkeypatch, capsys):
    def fake_matrix(m, written, crashes, infra, hard):
        crashes.append({"kind": "kernel", "reason": "Oops", "crash": {"what": "Oops: x", "rip": None, "call_trace": [],
                                                                      "at_s": None}, "kernel": "B-abc", "boot": 2,
                        "console": "c"})
        hard.append("B-abc boot 2: the kernel crashed")
        return 1
    rc, out = _ab(tmp_path, fake_kernel_tree, monkeypatch, fake_matrix)
    text = capsys.readouterr().out
    assert rc == 1 and "HARD FAILURE in suite quick" in text and "INCOMPLETE" not in text
