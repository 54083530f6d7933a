# A small usemem really swaps: 2 workers x 64 MiB under a 64 MiB cgroup limit, on zswap (lzo) and on
# disk; then a small swap-w (seq and random) on zswap. Each repetition is valid by its proof (zswap: stores and pages held; disk: pswpout and no
# zswap stores), carries its counters and configuration, checked every page, and the machine is
# given back (the cgroup gone, zswap and the sysctls as they were).
source "$(dirname "$0")/lib.sh"
state >"$work/before"
run_suite "$work/r.json" --suite usemem --workers 2 --worker-bytes 64M --loops 2 --repetitions 2 \
  || { rc=$?; cat "$work/out"; fail "run exited $rc"; }
expect_state "$work/before" "after a usemem run"
$py - "$work/r.json" <<'PY' || { cat "$work/out"; fail "result checks"; }
import json, sys
r = json.load(open(sys.argv[1]))
sets = [b for b in r["benchmarks"] if b["run_type"] == "iteration"]
seen = set()
for b in sets:
    s = b["swapbench"]; w = s["workload"]; c = s["counters"]; d = c["vmstat"]
    assert s["kind"] == "usemem" and s["valid"], (b["name"], s["invalid_reason"])
    seen.add(s["backend"])
    assert w["workers"] == 2 and w["worker_bytes"] == 64 << 20 and w["loops"] == 2, w
    assert w["cgroup_limit_bytes"] == 64 << 20, w
    assert w["bytes_written"] == 2 * 2 * (64 << 20), w
    assert w["real_s"] > 0 and w["user_s"] > 0 and w["sys_s"] > 0 and w["throughput_bytes_per_s"] > 0, w
    assert all(p["pages_checked"] == (64 << 20) // 4096 and p["pages_bad"] == 0 for p in w["per_worker"]), w
    for k in ("pswpin", "pswpout", "zswpin", "zswpout"):
        assert isinstance(d[k], int), (k, d)
    if s["backend"] == "zswap":
        assert d["zswpout"] > 0 and d["zswpin"] > 0, d
        assert c["zswap_stored_pages"] > 0, c
    else:
        assert d["pswpout"] > 0 and d["pswpin"] > 0 and d["zswpout"] == 0, d
    assert "available" in c["psi"]["system"] and "available" in c["psi"]["cgroup"], c["psi"]
    if not c["psi"]["system"]["available"]:
        assert c["psi"]["system"]["reason"], c["psi"]
    assert c["memcg"]["version"] in ("v1", "v2"), c["memcg"]
    cfg = s["config"]
    assert cfg["kernel_release"] and cfg["page_cluster"] is not None and cfg["swap_devices"], cfg
    assert cfg["zswap"]["enabled"] in ("Y", "N"), cfg
assert seen == {"zswap", "disk"}, seen
assert len(sets) == 4, len(sets)
print("checked", len(sets), "usemem repetitions")
PY
grep -q "real .*±.* MiB/s" "$work/out" || { cat "$work/out"; fail "the summary lacks mean ± stdev of the workload figures"; }
# swap-w: each worker writes once, sequentially and at random, under 2/3 of the total; both valid.
run_suite "$work/w.json" --suite swap-w --backend zswap --workers 2 --worker-bytes 48M --repetitions 1 \
  || { rc=$?; cat "$work/out"; fail "swap-w run exited $rc"; }
expect_state "$work/before" "after a swap-w run"
$py - "$work/w.json" <<'PY' || { cat "$work/out"; fail "swap-w result checks"; }
import json, sys
r = json.load(open(sys.argv[1]))
sets = [b for b in r["benchmarks"] if b["run_type"] == "iteration"]
assert sorted(b["name"].split("/")[-1] for b in sets) == ["random", "seq"], [b["name"] for b in sets]
for b in sets:
    s = b["swapbench"]; w = s["workload"]
    assert s["kind"] == "swap_w" and s["valid"], (b["name"], s["invalid_reason"])
    assert w["loops"] == 1 and w["cgroup_limit_bytes"] == (2 * (48 << 20) * 2 // 3) // 4096 * 4096, w
    assert s["counters"]["vmstat"]["zswpout"] > 0, s["counters"]["vmstat"]
print("checked", len(sets), "swap-w sets")
PY
pass "usemem on zswap and disk, swap-w seq and random on zswap: swapped, proven, counters recorded, every page checked; machine restored"
