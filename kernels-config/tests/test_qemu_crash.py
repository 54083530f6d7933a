"""kmatrix/qemu.py's reading of a guest kernel's crash report from its console (fixture: the console of
a 6.12 guest built with race-window + no-recheck, which oopsed during the race suite, 2026-11-23)."""
import os

from kmatrix import qemu

FIX = os.path.join(os.path.dirname(__file__), "fixtures", "console-6.12-no-recheck-oops")


def test_the_oops_is_found_with_its_function_and_call_trace():
    lines = open(FIX, errors="replace").read().splitlines()
    c = qemu.kernel_crash(lines)
    assert c["what"] == "BUG: kernel NULL pointer dereference, address: 0000000000000000"
    assert c["at_s"] == 1.484964
    assert c["rip"] == "zs_map_object"
    # innermost first, guessed ('?') frames left out, user-space frames never
    assert c["call_trace"][:4] == ["zswap_decompress", "zswap_writeback_entry", "shrink_memcg_cb", "__list_lru_walk_one"]
    assert "memory_reclaim" in c["call_trace"] and c["call_trace"].count("zswap_writeback_entry") == 1
    text = qemu.describe_crash(c)
    assert "at zs_map_object" in text and "zswap_decompress < zswap_writeback_entry" in text


def test_a_clean_console_has_no_crash():
    assert qemu.kernel_crash(["swapbench-guest: up 1.0", "[    1.30] zswap: compressor 842 not available",
                              "swapbench-guest: done"]) is None


def test_other_crash_kinds_are_found():
    for first in ("general protection fault, probably for non-canonical address 0xdead: 0000 [#1] SMP",
                  "kernel BUG at mm/zswap.c:1000!", "Kernel panic - not syncing: hung_task: blocked tasks",
                  "watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [swapbench:60]"):
        c = qemu.kernel_crash(["[    2.000001] " + first, "[    2.000002] RIP: 0010:f+0x1/0x2"])
        assert c and c["what"] == first and c["rip"] == "f"


def test_the_guest_panics_on_an_oops_instead_of_hanging():
    assert "oops=panic" in qemu.APPEND.split() and "panic=-1" in qemu.APPEND.split()


# Infrastructure or kernel: a boot without a result is classified before anyone
# is told "the kernel crashed".

def test_an_oops_is_the_kernels_failure():
    lines = open(FIX, errors="replace").read().splitlines()
    f = qemu.classify_failure(0, lines, 400)
    assert f.kind == "kernel" and "zs_map_object" in f.reason and f.crash["rip"] == "zs_map_object"


def test_kasan_and_bug_reports_are_the_kernels():
    for first in ("BUG: KASAN: slab-use-after-free in zswap_load+0x1/0x2", "kernel BUG at mm/zswap.c:1000!",
                  "Oops: double fault: 0000 [#1] PREEMPT SMP NOPTI"):
        f = qemu.classify_failure(0, ["[ 11.8] " + first, "[ 11.8] RIP: 0010:kmem_cache_alloc_noprof+0x1/0x2"], 400)
        assert f.kind == "kernel" and first in f.reason, (first, f.reason)


def test_a_hung_task_not_waiting_for_io_is_the_kernels():
    lines = ["[  130.1] INFO: task swapbench:61 blocked for more than 120 seconds.",
             "[  130.2] Call Trace:", "[  130.2]  <TASK>", "[  130.2]  __schedule+0x1/0x2",
             "[  130.2]  schedule_preempt_disabled+0x1/0x2", "[  130.2]  __mutex_lock.constprop.0+0x1/0x2",
             "[  130.2]  </TASK>"]
    f = qemu.classify_failure(0, lines, 400)
    assert f.kind == "kernel", f.reason


def test_a_timeout_with_no_kernel_error_is_infrastructure():
    f = qemu.classify_failure(None, ["swapbench-guest: up 1.2", "swapbench-guest: run at 1.3 s: --suite quick"], 400)
    assert f.kind == "infrastructure" and "no result within 400 s" in f.reason and "no kernel error" in f.reason


def test_qemu_errors_and_kills_and_host_oom_are_infrastructure():
    f = qemu.classify_failure(1, ["qemu-system-x86_64: cannot set up guest memory 'pc.ram': Cannot allocate memory"])
    assert f.kind == "infrastructure" and "cannot set up guest memory" in f.reason
    f = qemu.classify_failure(-9, ["swapbench-guest: up 1.2"])
    assert f.kind == "infrastructure" and "signal 9" in f.reason
    f = qemu.classify_failure(-9, ["swapbench-guest: up 1.2"], oom_kills=1)
    assert f.kind == "infrastructure" and "out of memory" in f.reason
    # an oops on the console is the kernel's even when QEMU then died
    f = qemu.classify_failure(-9, ["[ 2.0] Oops: general protection fault, probably for non-canonical address", "[ 2.1] RIP: 0010:zswap_load+0x1/0x2"])
    assert f.kind == "kernel"


def test_a_clean_boot_is_no_failure():
    assert qemu.classify_failure(0, ["swapbench-guest: up 1.0", "swapbench-guest: done"], 400) is None


def test_the_wbt_wait_hang_of_the_issue_is_an_io_stall():
    # The 6.1 console of 2026-12-07 (a task 120 s in wbt_wait on a virtio disk write) was not kept;
    # these frames are the block layer's throttle path as 6.1 names it, not a captured console. The
    # captured stall is tests/fixtures/console-6.12-tcg-io-stall-hung-task (test_matrix_failures.py).
    lines = ["[  245.1] INFO: task kworker/u2:3:61 blocked for more than 120 seconds.", "[  245.2] Call Trace:",
             "[  245.2]  <TASK>", "[  245.2]  __schedule+0x1/0x2", "[  245.2]  schedule+0x1/0x2",
             "[  245.2]  io_schedule+0x1/0x2", "[  245.2]  rq_qos_wait+0x1/0x2", "[  245.2]  wbt_wait+0x1/0x2",
             "[  245.2]  __rq_qos_throttle+0x1/0x2", "[  245.2]  blk_mq_submit_bio+0x1/0x2", "[  245.2]  </TASK>",
             "[  245.3] Kernel panic - not syncing: hung_task: blocked tasks"]
    f = qemu.classify_failure(0, lines, 900)
    assert f.kind == "infrastructure" and "(in wbt_wait;" in f.reason
