"""A crash of the suite's binary says where: the binary's own report (signal, cause, address, thread,
pc, backtrace) on a deliberate crash, and the matrix naming its frames from the host's binary."""
import os
import resource
import subprocess

import pytest

from kmatrix import boot, crash

BIN = os.environ.get("SWAPBENCH_TEST_BIN")
needs_bin = pytest.mark.skipif(not BIN, reason="SWAPBENCH_TEST_BIN is not set (run it through ctest, "
                                                "which names the built binary)")


def _no_core():
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _crash():
    r = subprocess.run([BIN, "crash-selftest"], capture_output=True, text=True, timeout=60, preexec_fn=_no_core)
    return r.returncode, r.stderr


@needs_bin
def test_a_crash_dies_of_its_signal_and_reports_where():
    rc, err = _crash()
    assert rc == -11, (rc, err)  # still death by SIGSEGV: status and core as without the handler
    [report] = crash.reports(err)
    text = "\n".join(report)
    assert report[0].startswith(crash.BEGIN) and report[-1] == crash.END, text
    assert "SIGSEGV" in report[0] and "SEGV_MAPERR" in report[0] and "fault address 0x5b" in report[0], text
    assert "(sb-crash-test) of process" in text, text  # which thread
    assert ", pc 0x" in text and "(swapbench+0x" in text, text
    assert "build ID " + crash.build_id(BIN) in text, text
    assert any(l.startswith("swapbench:   #0 swapbench+0x") for l in report), text  # the faulting frame first


@needs_bin
def test_the_host_names_the_frames_of_the_guest_binary():
    _, err = _crash()
    named = crash.explain(err, [None, BIN])
    frame0 = next(l for l in named.splitlines() if l.startswith("swapbench:   #0 "))
    assert "read_unmapped" in frame0, named  # the exact function that faulted, from the offset alone
    frame1 = next(l for l in named.splitlines() if l.startswith("swapbench:   #1 "))
    assert "selftest_thread" in frame1, named  # and its caller, from a return address


@needs_bin
def test_a_report_of_another_build_is_not_named(tmp_path):
    _, err = _crash()
    other = tmp_path / "other"
    other.write_bytes(b"\x7fELF not this build")
    named = crash.explain(err, [str(other)])
    assert "<-" not in named and "none of " + str(other) + " has build ID" in named, named


def test_the_matrix_puts_the_named_report_last_after_a_long_log():
    log = "x" * 5000 + "\n" + "\n".join([
        crash.BEGIN + " SIGSEGV (Segmentation fault), code 1 (SEGV_MAPERR: address not mapped), fault address 0x8",
        "swapbench: crash report: thread 7 (sb-writeback) of process 6, pc 0x55 (swapbench+0x1234)",
        "swapbench: crash report: binary /bin/swapbench build ID abcd; name the ...",
        "swapbench:   #0 swapbench+0x1234 [0x55]",
        crash.END,
        "swapbench: crashed: `swapbench restore` runs as soon as this process has ended",
    ] + ["restore line"] * 200)
    dmesg = "[ 1.0] virtio_blk virtio0: [vda]\n[ 9.1] zswap: loaded using pool lzo\n[ 9.2] Adding 2M swap on /dev/vda\n"
    msg = crash.suite_failure("[count boot 1/1 k tcg]", "139", log, [None], dmesg)
    assert "lines on swap and faults: \n[ 9.1] zswap: loaded using pool lzo\n[ 9.2] Adding 2M swap" in msg, msg
    head, _, tail = msg.partition("the crash, frames named on the host:\n")
    assert "the suite exited 139 in the guest" in head and len(head) < 3400, head[:200]
    assert tail.splitlines()[0].startswith(crash.BEGIN) and "(sb-writeback)" in tail, tail
    assert "(frames not named: no binary to name them from; SWAPBENCH_BIN is not set)" in tail, tail


def test_a_report_cut_short_is_kept_and_said():
    [r] = crash.reports("noise\n" + crash.BEGIN + " SIGBUS (Bus error)\nswapbench:   #0 swapbench+0x10 [0x10]\n")
    assert r[0].startswith(crash.BEGIN) and "the rest of the report was not written" in r[-1]
    assert crash.explain("no report here\n", [None]) == ""


@needs_bin
def test_a_boot_without_results_shows_the_suites_crash_named(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from kmatrix.defs import KernelError
    _, err = _crash()
    monkeypatch.setenv("SWAPBENCH_BIN", BIN)
    lines = ["swapbench-guest: run at 3.1 s: --suite race"] + err.splitlines() + ["swapbench-guest: done"] * 40
    b = boot.Boot(SimpleNamespace(name="debian-6.12"), 1, 1)
    with pytest.raises(KernelError) as e:
        boot._failed_boot("[boot 1/1]", b, lines, "the guest wrote no results", str(tmp_path), rc=0, timeout_s=400)
    msg = str(e.value)
    assert "the suite crashed first, frames named on the host:\n" + crash.BEGIN in msg, msg
    assert "<- swapbench::(anonymous namespace)::read_unmapped()" in msg, msg
