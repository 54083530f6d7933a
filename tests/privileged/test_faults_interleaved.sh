# The faults suite: read and write faults as two page-interleaved arms of one loop (zswap and disk),
# small. Checks the properties of the loop (balanced arms, every page of every arm through the path,
# stamps intact after the write arm's stores) and that compare pairs the arms of one file; the
# machine is given back. No timing is asserted.
source "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
state >"$work/before"
"$bin" run --suite faults --compressor lzo --pages 256 --repetitions 6 --out "$work/f.json" >"$work/out" 2>&1 \
  || { rc=$?; cat "$work/out"; fail "run --suite faults exited $rc"; }
expect_state "$work/before" "after the faults suite"
$py - "$work/f.json" <<'PY' || fail "faults result checks"
import json, sys
d = json.load(open(sys.argv[1]))
its = [b for b in d["benchmarks"] if b["run_type"] == "iteration"]
names = {b["name"] for b in its}
assert names == {"swapin/zswap/lzo/ratio2/random/interleaved", "swapin/disk/none/ratio2/random/interleaved"}, names
for b in its:
    sb = b["swapbench"]
    assert sb["valid"], (b["name"], sb["invalid_reason"])
    arms = sb["interleaved"]["arms"]
    assert [(a["label"], a["write_fault"], a["pages"]) for a in arms] == [("", False, 128), ("write", True, 128)], arms
    assert sb["stamps"]["failed"] == 0 and sb["stamps"]["checked"] == 256
    v = sb["deltas"]["vmstat"]
    if sb["backend"] == "zswap":
        assert v["zswpin"] == 256 and v["pswpin"] == 0, v
    else:
        assert v["pswpin"] == 256 and v["zswpin"] == 0, v
    assert len(sb["interleaved"]["paired"]) == 1 and sb["interleaved"]["paired"][0]["label"] == "write"
PY
PYTHONPATH="$top" $py -m analysis compare "$work/f.json" --json "$work/c.json" >"$work/cmp" 2>&1
rc=$?
[ "$rc" -le 1 ] || { cat "$work/cmp"; fail "compare of one faults file exited $rc"; }
$py - "$work/c.json" <<'PY' || { cat "$work/cmp"; fail "paired comparison checks"; }
import json, sys
c = json.load(open(sys.argv[1]))
assert c["schema"] == "swapbench-compare-paired/1"
assert sorted((r["set"].split("/")[1], r["arm"], r["reps"]) for r in c["rows"]) == [("disk", "write", 6), ("zswap", "write", 6)]
PY
pass "faults suite: read and write arms interleaved in one loop on zswap and disk, balanced, proven per page, stamps intact; compare paired them; machine restored"
