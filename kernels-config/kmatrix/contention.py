"""Lock contention in a guest: the contention pass's settings (guest-init.sh runs it after the timed
run) and its figures, read from what the guest wrote.

The source: the function tracer on the spin-lock slow path's entry point, with a kernel stack per
call. The slow path is entered only when the fast path's cmpxchg finds the lock taken, so each call
is one contended acquisition, however the kernel then waits. Chosen over the alternatives because:
- lock:contention_begin fires in queued_spin_lock_slowpath only on the MCS-queue path: a lone waiter
  that spins on the pending bit (every spin-lock wait with two CPUs) and a hypervisor guest's
  test-and-set path (virt_spin_lock: a PARAVIRT kernel under TCG or a hypervisor without PV
  spinlocks) never reach it;
- CONFIG_LOCK_STAT names every lock class, but needs LOCKDEP, which adds its bookkeeping to every
  acquisition and release of every lock: a different kernel from the one measured;
- the count pass counts one instruction stream, so not with several vCPUs (kmatrix/config.py).
What this perturbs: only contended acquisitions (an ftrace call and a stack walk each); an
uncontended lock takes its patched-out call site as always. What it cannot tell apart: locks taken
in one function (si->lock and a swap cluster lock in the same swapfile.c function), and a lock whose
taker the compiler inlined into its caller is named by that caller."""
import os
import re

# The slow path's entry point, by configuration: native without PARAVIRT_SPINLOCKS, native_ under
# it (the one a guest without PV spinlocks runs), __pv_ with PV spinlocks enabled.
FUNCTIONS = ("queued_spin_lock_slowpath", "native_queued_spin_lock_slowpath", "__pv_queued_spin_lock_slowpath",
             "queued_read_lock_slowpath", "queued_write_lock_slowpath")

# Frames that take a lock for their caller, and the tracer's own trampoline (6.12 names it, 6.1
# prints its bare address): skipped to find the function that wanted the lock.
_WRAPPERS = re.compile(r"^(\[FTRACE TRAMPOLINE\]|0x[0-9a-f]+|_raw_(spin|read|write)_(try)?lock\w*|do_raw_spin_lock\w*|"
                       r"__raw_spin_lock\w*|\w*queued_\w*_slowpath)$")
# The zswap tree: 6.1 takes tree->lock in these; 6.12's tree is an xarray, taken by these xa_
# functions on behalf of a zswap_ caller.
_TREE_61 = {"zswap_frontswap_store", "zswap_frontswap_load", "zswap_frontswap_invalidate_page",
            "zswap_frontswap_invalidate_area", "zswap_writeback_entry", "zswap_entry_put"}
_XA = {"xa_store", "xa_erase", "xa_cmpxchg", "__xa_store", "__xa_erase", "__xa_cmpxchg", "xa_store_range"}
# mm/swapfile.c (6.1 and 6.12): functions that take si->lock, a swap cluster lock, swap_lock or
# swap_avail_lock.
_SWAP_INFO = {"scan_swap_map_slots", "scan_swap_map_try_ssd_cluster", "get_swap_pages", "get_swap_page_of_type",
              "swap_info_get_cont", "_swap_info_get", "swap_info_get", "__swap_entry_free", "__swap_entries_free",
              "swap_entry_free", "swap_entry_range_free", "swapcache_free_entries", "cluster_swap_free_nr",
              "put_swap_folio", "put_swap_page", "swap_swapcount", "__swap_count", "swp_swapcount",
              "page_swapcount", "swap_page_trans_huge_swapped", "__swap_duplicate", "__try_to_reclaim_swap",
              "alloc_swap_scan_cluster", "cluster_alloc_swap_entry", "swap_do_scheduled_discard",
              "swap_reclaim_full_clusters", "swap_reclaim_work", "swap_discard_work", "add_swap_count_continuation",
              "swap_offset_available_and_locked", "cluster_reclaim_range", "swap_free_nr", "swap_free",
              "split_swap_cluster", "free_swap_and_cache", "free_swap_and_cache_nr", "lock_cluster_or_swap_info",
              "swap_range_free", "del_from_avail_list", "add_to_avail_list", "__swp_swapcount", "folio_free_swap"}
# The compressed pool and zswap's LRU (zsmalloc's and zbud's own locks, list_lru).
_POOL = {"zs_malloc", "zs_free", "zs_map_object", "zs_compact", "zbud_alloc", "zbud_free", "zbud_reclaim_page",
         "z3fold_alloc", "z3fold_free", "zbud_zpool_malloc", "zbud_zpool_free", "z3fold_zpool_malloc",
         "z3fold_zpool_free", "zs_zpool_malloc", "zs_zpool_free", "list_lru_add", "list_lru_del", "list_lru_walk_one", "zswap_lru_add",
         "zswap_lru_del"}
# The swap cache's xarray (and __remove_mapping, which takes a mapping's i_pages: the swap cache's
# or a file's).
_SWAP_CACHE = {"add_to_swap_cache", "delete_from_swap_cache", "__delete_from_swap_cache",
               "clear_shadow_from_swap_cache", "__remove_mapping"}
GROUPS = ("zswap_tree", "swap_info", "zswap_pool", "swap_cache", "other")
# vmstat events of the pass's swap operations: the denominator of contentions per 1,000 operations.
SWAP_EVENTS = ("zswpout", "zswpin", "pswpout", "pswpin", "zswpwb")


# What the pass needs of a kernel built by ab: the function tracer with dynamic patching (an
# untraced call site stays a NOP) and kernel stacks. guest-config.toml's trace group has them all,
# so asking for them changes no fragment (and rebuilds nothing); named here so that a group that
# loses one stops the build (an option asked and missing) instead of skipping the pass in the guest.
KERNEL_OPTIONS = {"FTRACE": "y", "FUNCTION_TRACER": "y", "DYNAMIC_FTRACE": "y", "STACKTRACE": "y"}
# The pass's load: each loader writes and reads back 48 MiB, 3 times, in a cgroup limited to half
# the loaders' total, so about half of every pass goes out and comes back: with two loaders about
# 140,000 zswap stores and loads, a minute of guest time under TCG here (a 6.12 probe with 2 vCPUs).
LOADER_BYTES = 48 << 20
LOOPS = 3
# lzo: the compressor every guest kernel accepts, and the cheapest to emulate after lz4.
COMPRESSOR = "lzo"


def settings(workers, loops, bytes_each, limit_bytes, compressor):
    """The guest's settings of the contention pass (initramfs.build_boot writes one file each)."""
    return {"contention": " ".join(FUNCTIONS), "contention_workers": str(workers),
            "contention_loops": str(loops), "contention_bytes": str(bytes_each),
            "contention_limit": str(limit_bytes), "contention_compressor": compressor}


def pass_settings(vcpus, compressors=None):
    """The pass's settings for a guest of `vcpus` CPUs: one loader per vCPU; the first compressor
    asked (matrix/ab --compressor), else COMPRESSOR."""
    first = (compressors or "").split(",")[0].strip() or COMPRESSOR
    return settings(vcpus, LOOPS, LOADER_BYTES, vcpus * LOADER_BYTES // 2, first)


def group(frames):
    """The lock group of one contended acquisition from its stack (innermost first), and the
    function that wanted the lock (the first frame past the lock's own wrappers)."""
    rest = [f for f in frames if not _WRAPPERS.match(f)]
    if not rest:
        return "other", "?"
    taker = rest[0]
    if taker in _TREE_61 or (taker in _XA and len(rest) > 1 and rest[1].startswith("zswap_")):
        return "zswap_tree", taker
    if taker in _SWAP_INFO:
        return "swap_info", taker
    if taker in _POOL:
        return "zswap_pool", taker
    if taker in _SWAP_CACHE:
        return "swap_cache", taker
    return "other", taker


_ENTRIES = re.compile(r"entries-in-buffer/entries-written:\s*(\d+)/(\d+)")
_EVENT = re.compile(r"^\s*(\S.*?)-(\d+)\s+\[(\d+)\].*?\s(\d+\.\d+):\s+(\S+)\s+<-")
_STACK = re.compile(r"^\s*(\S.*?)-(\d+)\s+\[(\d+)\].*:\s+<stack trace>")


def parse_trace(text):
    """Contended acquisitions in the function tracer's output (func_stack_trace on): totals, per
    group, per taker and per guest CPU; lost: entries the ring buffer dropped (the counts are then a
    lower bound). The buffer is per CPU and printed merged by time, and a stack is stamped after its
    call: another CPU's lines can come between a call and its stack, so each stack is paired with
    the last call on its own CPU."""
    out = {"contended": 0, "by_group": {g: 0 for g in GROUPS}, "by_taker": {}, "by_cpu": {}, "lost_entries": 0}
    pending = {}  # CPU -> whether a call there waits for its stack
    frames, owner = None, None

    def count(cpu, stack):
        g, taker = group(stack or [])
        out["contended"] += 1
        out["by_group"][g] += 1
        key = f"{g}:{taker}"
        out["by_taker"][key] = out["by_taker"].get(key, 0) + 1
        out["by_cpu"][cpu] = out["by_cpu"].get(cpu, 0) + 1

    def flush():
        if owner is not None and pending.pop(owner, False):
            count(owner, frames)

    for line in text.splitlines():
        if line.startswith(" => "):
            if frames is not None:
                frames.append(line[4:].strip().split("+", 1)[0])
            continue
        flush()
        frames, owner = None, None
        m = _ENTRIES.search(line)
        if m:
            out["lost_entries"] = int(m.group(2)) - int(m.group(1))
            continue
        st = _STACK.match(line)
        if st:
            owner, frames = str(int(st.group(3))), []
            continue
        e = _EVENT.match(line)
        if e and e.group(5) in FUNCTIONS:
            cpu = str(int(e.group(3)))
            if pending.get(cpu):
                count(cpu, None)  # its stack was lost
            pending[cpu] = True
    flush()
    for cpu, waiting in pending.items():
        if waiting:
            count(cpu, None)
    return out


def vmstat(text):
    out = {}
    for line in text.splitlines():
        k, _, v = line.partition(" ")
        if v.strip().isdigit():
            out[k] = int(v)
    return out


def figures(trace_text, before, after, seconds, workers):
    """The pass's figures: contentions per 1,000 swap operations (total and per group) and swap
    operations per second of guest time (emulated under TCG)."""
    t = parse_trace(trace_text)
    b, a = vmstat(before), vmstat(after)
    ops = {k: a[k] - b.get(k, 0) for k in SWAP_EVENTS if k in a}
    total = sum(ops.values())
    per_k = (lambda n: round(1000.0 * n / total, 3)) if total else (lambda n: None)
    return {"source": "ftrace function tracer on the spin-lock slow path, a kernel stack per call",
            "workers": workers, "seconds": round(seconds, 3), "swap_ops": ops, "swap_ops_total": total,
            "swap_ops_per_second": round(total / seconds, 1) if seconds > 0 else None,
            "contended": t["contended"], "contended_per_1000_ops": per_k(t["contended"]),
            "by_group": {g: {"contended": n, "per_1000_ops": per_k(n)} for g, n in t["by_group"].items()},
            "by_taker": dict(sorted(t["by_taker"].items(), key=lambda kv: -kv[1])),
            "by_cpu": t["by_cpu"], "lost_entries": t["lost_entries"],
            "complete": t["lost_entries"] == 0}


def read(out_dir, workers):
    """The pass's figures from a boot's unpacked results folder; {"skipped": why} when the guest
    could not run it; None when the boot had no pass."""
    def text(name):
        with open(os.path.join(out_dir, name), errors="replace") as f:
            return f.read()
    if os.path.exists(os.path.join(out_dir, "contention-skip")):
        return {"skipped": text("contention-skip").strip()}
    if not os.path.exists(os.path.join(out_dir, "contention-functions")):
        return None
    if not os.path.exists(os.path.join(out_dir, "trace-contention")):
        return {"skipped": "the pass wrote no trace (it did not finish: see the boot's console)"}
    seconds = float(text("contention-ended").split()[0]) - float(text("contention-started").split()[0])
    f = figures(text("trace-contention"), text("contention-vmstat-before"), text("contention-vmstat-after"),
                seconds, workers)
    f["functions_traced"] = text("contention-functions").split()
    return f


def _spread(values):
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    mid = len(values) // 2
    median = values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2
    return {"median": median, "min": values[0], "max": values[-1], "n": len(values)}


def summary(per_boot, accelerator, vcpus):
    """The kernel's figures over its boots' passes (median, min, max per figure), or None when no
    boot ran one. Operations per second are guest time: emulated under TCG, never compared with a
    native figure."""
    ran = [f for f in per_boot if f and "skipped" not in f]
    skipped = [f["skipped"] for f in per_boot if f and "skipped" in f]
    if not ran and not skipped:
        return None
    out = {"source": ran[0]["source"] if ran else None, "boots": len(ran), "skipped": skipped, "vcpus": vcpus,
           "accelerator": accelerator, "timing": "emulated" if accelerator == "tcg" else "real",
           "contended_per_1000_ops": _spread([f["contended_per_1000_ops"] for f in ran]),
           "swap_ops_per_second": _spread([f["swap_ops_per_second"] for f in ran]),
           "per_1000_ops": {g: _spread([f["by_group"][g]["per_1000_ops"] for f in ran]) for g in GROUPS},
           "complete": all(f["complete"] for f in ran)}
    return out


def describe(name, lc):
    """One line of the matrix summary for a kernel's lock_contention block."""
    if not lc["boots"]:
        return f"lock contention {name}: not measured ({'; '.join(lc['skipped'])})"
    med = lambda s: "-" if s is None else f"{s['median']:g}"  # noqa: E731
    g = lc["per_1000_ops"]
    return (f"lock contention {name} ({lc['vcpus']} vCPUs, {lc['boots']} boots, {lc['timing']} time): "
            f"{med(lc['contended_per_1000_ops'])} contended acquisitions per 1,000 swap operations (zswap tree "
            f"{med(g['zswap_tree'])}, swap-info locks {med(g['swap_info'])}), {med(lc['swap_ops_per_second'])} "
            "swap operations per second (medians over boots)")
