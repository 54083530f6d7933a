# zswap (lzo) and disk swap-in sets come out valid, with the counter deltas that prove their path,
# every page's stamp verified, and the machine given back.
source "$(dirname "$0")/lib.sh"
state >"$work/before"
run_suite "$work/r.json" --backend zswap,disk --compressor lzo --pages 2048 --repetitions 2 \
  || { rc=$?; cat "$work/out"; fail "run exited $rc"; }
expect_state "$work/before" "after a normal run"
$py - "$work/r.json" <<'PY' || fail "result checks"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["context"]["json_schema_version"] == 1 and r["context"]["swapbench"]["schema_version"] == 1
sets = [b for b in r["benchmarks"] if b["run_type"] == "iteration"]
seen = set()
for b in sets:
    s = b["swapbench"]; d = s["deltas"]["vmstat"]; n = s["pages"]
    assert s["valid"], (b["name"], s["invalid_reason"])
    if s["kind"] == "swapin":
        seen.add(s["backend"])
        if s["backend"] == "zswap":
            assert d["zswpin"] == n and d["pswpin"] == 0, (b["name"], d)
        else:
            assert d["pswpin"] == n and d["zswpin"] == 0, (b["name"], d)
        assert s["resident_before"] == 0
    if s["kind"] == "swapout":
        key = "zswpout" if s["backend"] == "zswap" else "pswpout"
        assert d[key] == n, (b["name"], d)
    if s["kind"] != "floor_firsttouch":
        assert s["stamps"]["checked"] == n and s["stamps"]["failed"] == 0, s["stamps"]
    lat = s["latency_ns"]
    assert 0 < lat["min"] <= lat["p50"] <= lat["p99"] <= lat["max"], lat
    assert sum(c for _, _, c in s["histogram"]["buckets"]) == n
assert seen == {"zswap", "disk"}, seen
# Each repetition executed one REPORT marker: numbered from 0 in execution order (exact-contract.md).
order = sorted(sets, key=lambda b: b["swapbench"]["started_s"])
assert [b["swapbench"]["count_report"] for b in order] == list(range(len(sets))), "count_report out of order"
assert {b["swapbench"]["kind"] for b in sets} == {"swapin", "swapout", "floor_swapcache", "floor_firsttouch"}
print("checked", len(sets), "sets")
PY
# Google Benchmark's own compare.py must still read the result (the layout promise).
compare=/usr/share/benchmark/compare.py
if [ -f $compare ]; then
  $py $compare benchmarks "$work/r.json" "$work/r.json" >"$work/cmp" 2>&1 || { cat "$work/cmp"; fail "compare.py cannot read the result"; }
  grep -q "swapin/zswap/lzo/ratio2/random" "$work/cmp" || { cat "$work/cmp"; fail "compare.py output lacks the sets"; }
else
  fail "compare.py missing: apt-get install libbenchmark-tools"
fi
pass "zswap and disk swap-in sets valid with the right deltas; machine restored"
