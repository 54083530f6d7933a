"""The contention pass's reading, on a trace and vmstat cut from a probe: an ab-built 6.12.118 guest,
-smp 2 under TCG, two loaders through one zswap tree (lzo)."""
import os
import types

import pytest

from kmatrix import ab, config, contention

FIX = os.path.join(os.path.dirname(__file__), "fixtures")


def text(name):
    with open(os.path.join(FIX, name)) as f:
        return f.read()


def test_every_event_is_counted_once_and_attributed():
    trace = text("trace-contention-6.12-smp2-excerpt")
    t = contention.parse_trace(trace)
    events = trace.count("<stack trace>")
    assert events == 60
    assert t["contended"] == events == sum(t["by_group"].values()) == sum(t["by_cpu"].values())
    assert sum(t["by_taker"].values()) == events
    assert set(t["by_cpu"]) == {"0", "1"}          # both vCPUs waited
    assert t["lost_entries"] == 0


def test_the_zswap_tree_is_named_by_the_xarray_call_of_a_zswap_function():
    t = contention.parse_trace(text("trace-contention-6.12-smp2-excerpt"))
    assert t["by_taker"]["zswap_tree:xa_store"] == 3 and t["by_taker"]["zswap_tree:xa_erase"] == 1
    assert t["by_group"]["zswap_tree"] == 4
    assert t["by_taker"]["swap_info:put_swap_folio"] == 1
    assert t["by_taker"]["swap_cache:add_to_swap_cache"] == 10


@pytest.mark.parametrize("frames,want", [
    # 6.12: the tree is an xarray; xa_store's lock for zswap_store is the tree's
    (["[FTRACE TRAMPOLINE]", "queued_spin_lock_slowpath", "_raw_spin_lock", "xa_store", "zswap_store"],
     ("zswap_tree", "xa_store")),
    # an xarray lock taken for anyone else is not the zswap tree
    (["queued_spin_lock_slowpath", "_raw_spin_lock_irq", "xa_store", "shmem_add_to_page_cache"],
     ("other", "xa_store")),
    # 6.1: tree->lock, taken by zswap's frontswap hooks themselves
    (["native_queued_spin_lock_slowpath", "_raw_spin_lock", "zswap_frontswap_store", "__frontswap_store"],
     ("zswap_tree", "zswap_frontswap_store")),
    # the lock inlined into its taker: no wrapper frame
    (["queued_spin_lock_slowpath", "put_swap_folio", "__remove_mapping"], ("swap_info", "put_swap_folio")),
    (["queued_spin_lock_slowpath", "_raw_spin_lock", "zs_malloc", "zs_zpool_malloc", "zswap_store"],
     ("zswap_pool", "zs_malloc")),
    ([], ("other", "?")),
])
def test_group_of_a_stack(frames, want):
    assert contention.group(frames) == want


def test_lost_entries_are_reported_and_the_figures_marked_incomplete():
    trace = text("trace-contention-6.12-smp2-excerpt").replace("13012/13012", "13000/13012")
    f = contention.figures(trace, text("vmstat-contention-6.12-before"), text("vmstat-contention-6.12-after"), 14.23, 2)
    assert f["lost_entries"] == 12 and f["complete"] is False


def test_figures_per_thousand_swap_operations():
    f = contention.figures(text("trace-contention-6.12-smp2-excerpt"), text("vmstat-contention-6.12-before"),
                           text("vmstat-contention-6.12-after"), 14.23, 2)
    # zswpout 128 -> 96667, zswpin 128 -> 74574; no disk swap, no writeback in this pass
    assert f["swap_ops"] == {"zswpout": 96539, "zswpin": 74446, "pswpout": 0, "pswpin": 0, "zswpwb": 0}
    assert f["swap_ops_total"] == 170985
    assert f["contended_per_1000_ops"] == round(60 * 1000 / 170985, 3)
    assert f["by_group"]["zswap_tree"]["per_1000_ops"] == round(4 * 1000 / 170985, 3)
    assert f["swap_ops_per_second"] == round(170985 / 14.23, 1)


def test_no_swap_operation_gives_no_ratio_rather_than_a_division_by_zero():
    before = text("vmstat-contention-6.12-before")
    f = contention.figures(text("trace-contention-6.12-smp2-excerpt"), before, before, 1.0, 2)
    assert f["swap_ops_total"] == 0 and f["contended_per_1000_ops"] is None


def test_read_a_boot_folder(tmp_path):
    for name, body in (("contention-functions", "queued_spin_lock_slowpath\n"), ("contention-started", "15.25\n"),
                       ("contention-ended", "29.48\n"),
                       ("trace-contention", text("trace-contention-6.12-smp2-excerpt")),
                       ("contention-vmstat-before", text("vmstat-contention-6.12-before")),
                       ("contention-vmstat-after", text("vmstat-contention-6.12-after"))):
        (tmp_path / name).write_text(body)
    f = contention.read(str(tmp_path), 2)
    assert f["functions_traced"] == ["queued_spin_lock_slowpath"] and abs(f["seconds"] - 14.23) < 1e-9
    s = contention.summary([f, f, None], "tcg", 2)
    assert s["boots"] == 2 and s["timing"] == "emulated" and s["per_1000_ops"]["zswap_tree"]["median"] == \
        f["by_group"]["zswap_tree"]["per_1000_ops"]


def test_a_pass_the_guest_could_not_run_says_why(tmp_path):
    (tmp_path / "contention-skip").write_text("none of queued_spin_lock_slowpath is in available_filter_functions\n")
    f = contention.read(str(tmp_path), 2)
    assert "available_filter_functions" in f["skipped"]
    assert contention.summary([f], "tcg", 2)["skipped"] == [f["skipped"]]
    assert contention.read(str(tmp_path / "nothing"), 2) is None


def test_pass_settings_one_loader_per_vcpu_limit_half_their_total():
    s = contention.pass_settings(2, "lz4,zstd")
    assert s["contention_workers"] == "2" and s["contention_compressor"] == "lz4"
    assert int(s["contention_limit"]) == int(s["contention_bytes"])
    assert contention.pass_settings(3)["contention_compressor"] == contention.COMPRESSOR


@pytest.mark.parametrize("smp,counted,cont,fragment", [
    (0, False, False, "--smp 0: at least 1"),
    (2, True, False, "give --no-count"),
    (1, False, True, "--contention with one vCPU"),
])
def test_smp_refusals(smp, counted, cont, fragment):
    assert fragment in config.smp_problem(smp, counted, cont)


def test_threads_refusals_and_what_reaches_the_guest():
    assert "--threads 0: at least 1" in config.smp_problem(2, False, False, 0)
    assert "give --no-count, or --threads 1" in config.smp_problem(1, True, False, 2)
    assert config.smp_problem(2, False, False, 2) is None
    from kmatrix import boot
    a = config.MatrixConfig(suite="quick", threads=2, no_count=True, smp=2)
    assert "--threads 2" in boot._run_args(a, 1) and "--events" not in boot._run_args(a, 1)
    assert "--threads" not in boot._run_args(config.MatrixConfig(suite="quick"), 1)  # run's default, unsaid


def test_smp_accepted():
    assert config.smp_problem(1, True, False) is None
    assert config.smp_problem(2, False, True) is None


def test_ab_asks_the_kernel_for_the_cpus_and_the_tracer():
    a = types.SimpleNamespace(smp=4, contention=True)
    extra = ab.guest_options(a)
    assert extra["NR_CPUS"] == "4" and extra["FUNCTION_TRACER"] == "y" and extra["STACKTRACE"] == "y"
    assert ab.guest_options(types.SimpleNamespace(smp=2, contention=False)) == {}


def test_the_summary_line_says_what_was_measured_and_how():
    f = contention.figures(text("trace-contention-6.12-smp2-excerpt"), text("vmstat-contention-6.12-before"),
                           text("vmstat-contention-6.12-after"), 14.23, 2)
    line = contention.describe("A-pristine", contention.summary([f], "tcg", 2))
    assert "2 vCPUs, 1 boots, emulated time" in line and f"zswap tree {f['by_group']['zswap_tree']['per_1000_ops']:g}" in line
    skipped = contention.summary([{"skipped": "swapon /dev/vda failed"}], "tcg", 2)
    assert contention.describe("k", skipped) == "lock contention k: not measured (swapon /dev/vda failed)"


def test_6_1_its_trampoline_an_address_its_tree_lock_taken_by_zswap_itself():
    # Debian 6.1.0-57 (PARAVIRT: native_queued_spin_lock_slowpath), -smp 2 under TCG, zbud
    trace = text("trace-contention-6.1-smp2-excerpt")
    t = contention.parse_trace(trace)
    assert t["contended"] == trace.count("<stack trace>") == 54
    assert t["by_taker"]["zswap_tree:zswap_frontswap_store"] == 4 and t["by_group"]["zswap_tree"] == 4
    assert t["by_taker"]["zswap_pool:zbud_zpool_malloc"] == 3
    assert not any(k.endswith(":?") or ":0x" in k for k in t["by_taker"]), t["by_taker"]


STACK = """{task} [{cpu:03d}] d..1.    61.5847{n:02d}: <stack trace>
 => 0xffffffffc03f7083
 => native_queued_spin_lock_slowpath
 => _raw_spin_lock
 => {taker}
 => {caller}
"""
CALL = "{task} [{cpu:03d}] d..1.    61.5846{n:02d}: native_queued_spin_lock_slowpath <-_raw_spin_lock\n"


def test_a_stack_is_paired_with_the_call_on_its_own_cpu():
    # The buffer is per CPU, printed merged by time: CPU 0's call comes between CPU 1's call and its stack.
    trace = (CALL.format(task="cp-227", cpu=1, n=1) + CALL.format(task="cp-228", cpu=0, n=2)
             + STACK.format(task="cp-227", cpu=1, n=3, taker="put_swap_folio", caller="__remove_mapping")
             + STACK.format(task="cp-228", cpu=0, n=4, taker="zswap_frontswap_load", caller="__frontswap_load"))
    t = contention.parse_trace(trace)
    assert t["by_taker"] == {"swap_info:put_swap_folio": 1, "zswap_tree:zswap_frontswap_load": 1}
    assert t["by_cpu"] == {"1": 1, "0": 1}


def test_a_call_whose_stack_is_missing_counts_unattributed():
    t = contention.parse_trace(CALL.format(task="cp-1", cpu=0, n=1) + CALL.format(task="cp-1", cpu=0, n=2)
                               + STACK.format(task="cp-1", cpu=0, n=3, taker="zs_malloc", caller="zswap_store"))
    assert t["contended"] == 2 and t["by_taker"] == {"other:?": 1, "zswap_pool:zs_malloc": 1}


def test_asking_for_the_pass_changes_no_fragment_so_rebuilds_nothing():
    from kmatrix.guest_config import fragment
    assert fragment(extra=contention.KERNEL_OPTIONS) == fragment()
    assert "CONFIG_STACKTRACE=y" in fragment()


@pytest.mark.parametrize("online,want", [("0-1\n", 2), ("0\n", 1), ("0,2-3\n", 3)])
def test_the_cpus_a_guest_brought_online(tmp_path, online, want):
    from kmatrix import boot
    (tmp_path / "cpus-online").write_text(online)
    assert boot._guest_cpus(str(tmp_path)) == want
    assert boot._guest_cpus(str(tmp_path / "none")) is None
