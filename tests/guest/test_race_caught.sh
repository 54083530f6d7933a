# The writeback race caught, short form of the benchmark in the README: Debian's
# 6.12 source built with the race-window patch (A) and with race-window + no-recheck (B), the race
# suite booted A then B for a few seconds. A (the recheck in place) must come back clean with pages
# really written back; B must be caught: its kernel crashes (use-after-free of the zswap entry, seen
# within a second of guest time in every boot here) or pages come back stale or damaged. Either way
# ab exits 1 and ab.json names what was found; a crash keeps the guest's console.
source "$(dirname "$0")/../privileged/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
export SWAPBENCH_BIN="$bin" PYTHONPATH="$top/kernels-config:$top"
state >"$work/before"
patches="$top/kernels-config/patches"
$py -m kmatrix ab --source debian-6.12-source --patch-a "$patches/race-window-6.12.patch" \
  --patch "$patches/race-window-6.12.patch" --patch "$patches/no-recheck-6.12.patch" \
  --suite race --duration 5 --no-count --boots 1 --repetitions 1 --out "$work/ab" >"$work/ab.out" 2>&1
rc=$?
[ $rc -eq 1 ] || { tail -40 "$work/ab.out"; fail "race A/B: exit $rc, expected 1 (B has no recheck)"; }
$py - "$work/ab/ab.json" <<'PY' || { tail -40 "$work/ab.out"; fail "race verdict checks"; }
import json, os, sys
race = json.load(open(sys.argv[1]))["suites"]["race"]["race"]
a, b = race["A"], race["B"]
assert a["writebacks"] > 0 and a["operations"] > 0, a
assert a["stale_pages"] == 0 and a["damaged_pages"] == 0 and not a["crashes"], a
caught = b["stale_pages"] + b["damaged_pages"] + len(b["crashes"])
assert caught > 0, b
for c in b["crashes"]:
    assert os.path.getsize(c["console"]) > 0 and c["crash"]["what"], c
    print("B crashed:", c["crash"]["what"], "at", c["crash"]["rip"], "<".join(c["crash"]["call_trace"][:3]))
print(f"A: {a['operations']} cycles, {a['writebacks']} written back, 0 stale; "
      f"B: {b['stale_pages']} stale, {b['damaged_pages']} damaged, {len(b['crashes'])} crashes")
PY
expect_state "$work/before" "after the race A/B"
pass "race: the recheck's kernel clean with writeback racing, the kernel without it caught"
