# Forced zswap writeback on this machine: every mechanism the kernel offers runs or is skipped with
# its reason; where one runs, zswpwb (or written_back_pages) rises, every written-back page comes
# back from disk with its stamp intact, and the machine is given back (max_pool_percent and
# shrinker_enabled included).
source "$(dirname "$0")/lib.sh"
state >"$work/before"
"$bin" run --suite writeback --compressor lzo --pages 2048 --repetitions 2 --out "$work/r.json" \
  >"$work/out" 2>&1 || { rc=$?; cat "$work/out"; fail "writeback run exited $rc"; }
expect_state "$work/before" "after the writeback suite"
$py - "$work/r.json" <<'PY' || { cat "$work/out"; fail "writeback result checks"; }
import json, sys
r = json.load(open(sys.argv[1]))
sets = [b for b in r["benchmarks"] if b["run_type"] == "iteration"]
skipped = [s for s in r["context"]["swapbench"]["skipped"] if s["benchmark"].startswith("writeback/")]
for s in skipped:
    assert s["reason"] and s["fix"], s
assert sets, "no writeback mechanism ran here: " + "; ".join(s["reason"] for s in skipped)
for b in sets:
    s = b["swapbench"]
    w = s["writeback"]
    assert s["kind"] == "writeback" and s["valid"], (b["name"], s["invalid_reason"])
    assert w["written_back"] > 0 and w["pages_per_second"] > 0, w
    d = s["deltas"]["vmstat"]
    # zswpwb is machine-wide: another cgroup's entries written back by the same worker are
    # reported apart (foreign_written_back); the region's share must match its disk reads exactly.
    assert w["region_written_back"] + w["foreign_written_back"] == w["written_back"], w
    assert d["pswpin"] == w["region_written_back"] and d["pswpin"] + d["zswpin"] == s["pages"], (d, w)
    assert s["stamps"]["checked"] == s["pages"] and s["stamps"]["failed"] == 0, s["stamps"]
print("checked", len(sets), "writeback sets;", len(skipped), "mechanisms skipped with reasons")
PY
pass "writeback forced, proven by the counters, pages intact; machine restored"
