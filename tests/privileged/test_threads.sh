# --threads 2 really swaps: swap-in and swap-out on zswap (lzo) and disk, and writeback, each set's
# threads pinned apart, with per-thread and aggregate figures that add up, the proof over every
# thread's pages valid, every page's stamp checked, and the machine given back. Three threads on
# this machine's CPUs say whether they shared one; bad counts are refused before anything changes.
source "$(dirname "$0")/lib.sh"
state >"$work/before"
for bad in 0 -2 x 65; do
  "$bin" run --suite swapin --threads "$bad" --out "$work/bad.json" >"$work/out" 2>&1
  rc=$?
  [ $rc -eq 2 ] && grep -q -- "--threads" "$work/out" || { cat "$work/out"; fail "--threads $bad: exit $rc, want 2 naming it"; }
done
expect_state "$work/before" "after refused counts"
run_suite "$work/r.json" --backend zswap,disk --compressor lzo --pages 2048 --repetitions 2 --threads 2 \
  || { rc=$?; cat "$work/out"; fail "threaded run exited $rc"; }
expect_state "$work/before" "after a threaded run"
"$bin" run --suite writeback --compressor lzo --pages 2048 --repetitions 1 --threads 2 --out "$work/wb.json" \
  >"$work/out" 2>&1 || { rc=$?; cat "$work/out"; fail "threaded writeback run exited $rc"; }
expect_state "$work/before" "after a threaded writeback run"
run_suite "$work/r3.json" --suite swapin --backend zswap --compressor lzo --pages 999 --repetitions 1 --threads 3 \
  || { rc=$?; cat "$work/out"; fail "three-thread run exited $rc"; }
expect_state "$work/before" "after a three-thread run"
$py - "$work/r.json" "$work/wb.json" "$work/r3.json" "$(nproc)" <<'PY' || fail "result checks"
import json, sys
pus = int(sys.argv[4])

def check(path, threads, kinds):
    r = json.load(open(path))
    sets = [b for b in r["benchmarks"] if b["run_type"] == "iteration"]
    seen = set()
    for b in sets:
        s = b["swapbench"]; n = s["pages"]; d = s["deltas"]["vmstat"]
        assert s["valid"], (b["name"], s["invalid_reason"])
        if s["kind"].startswith("floor_"):  # one thread: name and fields as ever
            assert "threads:" not in b["name"] and b["threads"] == 1 and "threads" not in s, b["name"]
            continue
        seen.add(s["kind"])
        assert b["name"].endswith("/threads:%d" % threads) and b["threads"] == threads, b["name"]
        t = s["threads"]; per = t["per_thread"]; agg = t["aggregate"]
        assert t["count"] == threads and len(per) == threads, t
        assert [p["index"] for p in per] == list(range(threads))
        # The slices cover the region once: contiguous, in order, every page timed once.
        assert per[0]["first_page"] == 0 and sum(p["pages"] for p in per) == n == agg["pages"], t
        for a, b2 in zip(per, per[1:]):
            assert b2["first_page"] == a["first_page"] + a["pages"], per
        assert max(p["pages"] for p in per) - min(p["pages"] for p in per) <= 1, per
        for p in per:
            assert p["error"] is None and p["elapsed_ns"] > 0 and p["ops_per_s"] > 0, p
            assert p["pages"] == p["slice_pages"] and p["stamps_failed"] == 0, p
            assert 0 < p["latency_ns"]["p50"] <= p["latency_ns"]["p99"], p
            assert p["binding"]["cpu_bound"], p["binding"]
        cpus = t["placement"]["cpus"]
        assert [p["binding"]["cpu"] for p in per] == cpus, (per, cpus)
        assert t["placement"]["cpus_shared"] == (threads > pus), t["placement"]
        if threads <= pus:
            assert len(set(cpus)) == threads, cpus
        assert agg["span_ns"] >= max(p["elapsed_ns"] for p in per) and agg["ops_per_s"] > 0, agg
        assert b["iterations"] == n, b["iterations"]
        assert sum(c for _, _, c in s["histogram"]["buckets"]) == n  # every thread's samples, merged
        assert s["stamps"]["checked"] == n and s["stamps"]["failed"] == 0, s["stamps"]
        # The proof over the sum of every thread's pages.
        if s["kind"] == "swapin":
            key = "zswpin" if s["backend"] == "zswap" else "pswpin"
            assert d[key] == n, (b["name"], d)
        elif s["kind"] == "swapout":
            assert d["zswpout" if s["backend"] == "zswap" else "pswpout"] == n, (b["name"], d)
        else:
            assert d["pswpin"] + d["zswpin"] == n and s["writeback"]["written_back"] > 0, (d, s["writeback"])
    assert seen == kinds, seen
    print(path.rsplit("/", 1)[1], len(sets), "sets checked")

check(sys.argv[1], 2, {"swapin", "swapout"})
check(sys.argv[2], 2, {"writeback"})
check(sys.argv[3], 3, {"swapin"})
PY
# A page of thread 1's slice damaged after swap-in: a hard failure (exit 1) that names thread 1.
"$bin" run --suite swapin --backend zswap --compressor lzo --pages 512 --repetitions 1 --threads 2 \
  --test-corrupt-page 300 --out "$work/bad.json" >"$work/out" 2>&1
rc=$?
[ $rc -eq 1 ] || { cat "$work/out"; fail "a corrupted page in a threaded set must exit 1, got $rc"; }
expect_state "$work/before" "after a failed threaded run"
$py - "$work/bad.json" <<'PY' || { cat "$work/out"; fail "the failure does not name thread 1"; }
import json, sys
b = [b for b in json.load(open(sys.argv[1]))["benchmarks"] if b["run_type"] == "iteration"][0]
s = b["swapbench"]
assert b["error_occurred"] and not s["valid"] and "wrong pages by thread: thread 1: 1" in b["error_message"], b["error_message"]
assert [p["stamps_failed"] for p in s["threads"]["per_thread"]] == [0, 1], s["threads"]["per_thread"]
PY
pass "threaded swap-in, swap-out and writeback valid, per-thread and aggregate figures add up; machine restored"
