# zram sets: swap-in and swap-out through zram devices the run makes (one per compressor a device
# offers), valid by vmstat and by the device's own counters, every stamp checked, zswap off under
# them; in a mixed run each set stays on its own swap area; a compressor zram does not offer is
# exit 2 naming those it does; a SIGKILLed run's devices are removed by ./swapbench restore; zram0
# and every device the suite did not create are left as they were (lib.sh state: diskseq, size).
source "$(dirname "$0")/lib.sh"
[ -e /sys/class/zram-control/hot_add ] || { echo "SKIP: no zram here (fix: modprobe zram)"; exit 77; }
state >"$work/before"

run_suite "$work/z.json" --backend zram --pages 1024 --repetitions 2 \
  || { rc=$?; cat "$work/out"; fail "zram run exited $rc"; }
expect_state "$work/before" "after a zram run"
$py - "$work/z.json" <<'PY' || fail "zram result checks"
import json, sys
r = json.load(open(sys.argv[1]))
z = r["context"]["swapbench"]["zram"]
offered = z["offered"]
assert offered and z["available"], z
assert sorted(d["comp_algorithm"] for d in z["devices"]) == sorted(offered), z["devices"]
assert all(d["device"] != "/dev/zram0" for d in z["devices"]), "the machine's own zram0 was used"
assert "swap_area" not in r["context"]["swapbench"], "a zram-only run needs no swap file"
seen = set()
for b in (b for b in r["benchmarks"] if b["run_type"] == "iteration"):
    s = b["swapbench"]
    assert s["valid"], (b["name"], s["invalid_reason"])
    if s["backend"] != "zram":
        continue
    n, vm, dev, zr = s["pages"], s["deltas"]["vmstat"], s["deltas"]["zram"], s["zram"]
    seen.add((s["kind"], s["compressor"]))
    assert s["path"] == "zram" and s["zswap_params"]["enabled"] == "N", (b["name"], s["path"], s["zswap_params"])
    assert zr["comp_algorithm"] == s["compressor"], zr
    assert vm.get("zswpin", 0) == 0 and vm.get("zswpout", 0) == 0, vm
    if s["kind"] == "swapin":
        assert vm["pswpin"] == n and dev["stat.read_sectors"] == 8 * n, (b["name"], vm, dev)
        assert s["resident_before"] == 0
    else:
        assert vm["pswpout"] == n and dev["stat.write_sectors"] == 8 * n, (b["name"], vm, dev)
    # The region's footprint in the device: every page stored, compressed smaller (ratio2 pages).
    assert zr["orig_data_size"] == 4096 * n, zr
    assert 0 < zr["compr_data_size"] < zr["orig_data_size"] and zr["mem_used_total"] > 0, zr
    assert zr["same_pages"] == 0 and zr["huge_pages"] == 0, zr
    assert s["stamps"]["checked"] == n and s["stamps"]["failed"] == 0, s["stamps"]
assert seen == {(k, c) for k in ("swapin", "swapout") for c in offered}, seen
print("zram sets valid for", ", ".join(offered))
PY
pass "zram swap-in and swap-out valid on every offered compressor; machine restored"

# Mixed: each set on its own area (the swap file for zswap and disk, a zram device for zram).
run_suite "$work/m.json" --backend zswap,disk,zram --compressor lzo --pages 1024 --repetitions 2 --no-floors \
  || { rc=$?; cat "$work/out"; fail "mixed run exited $rc"; }
expect_state "$work/before" "after a mixed run"
$py - "$work/m.json" <<'PY' || fail "mixed result checks"
import json, sys
r = json.load(open(sys.argv[1]))
paths = set()
for b in (b for b in r["benchmarks"] if b["run_type"] == "iteration"):
    s = b["swapbench"]; vm = s["deltas"]["vmstat"]; n = s["pages"]
    assert s["valid"], (b["name"], s["invalid_reason"])
    paths.add(s["path"])
    if s["kind"] == "swapin" and s["backend"] == "disk":
        assert vm["pswpin"] == n and vm["zswpin"] == 0 and "zram" not in s["deltas"], (b["name"], s["deltas"])
    if s["kind"] == "swapin" and s["backend"] == "zswap":
        assert vm["zswpin"] == n and vm["pswpin"] == 0, (b["name"], vm)
assert paths == {"zswap", "disk", "zram"}, paths
PY
pass "a mixed run: zswap, disk and zram sets each valid on its own swap area"

"$bin" run --backend zram --compressor zstd --pages 256 --repetitions 1 --out "$work/never.json" >"$work/out" 2>&1
rc=$?
offered=$($py -c 'import json,sys; print(", ".join(json.load(open(sys.argv[1]))["context"]["swapbench"]["zram"]["offered"]))' "$work/z.json")
if [[ " ${offered//,/} " == *" zstd "* ]]; then
  echo "note: zram offers zstd here; the refusal is not tested"
else
  [ $rc -eq 2 ] || { cat "$work/out"; fail "--compressor zstd (not offered) exited $rc, expected 2"; }
  grep -q "zram here does not offer it; a zram device offers: $offered" "$work/out" || { cat "$work/out"; fail "no list of what zram offers"; }
  [ -f "$work/never.json" ] && fail "a refused run wrote a result"
  expect_state "$work/before" "after a refused compressor"
  pass "a compressor zram does not offer: exit 2 naming those it does"
fi

# check: the zram row names what a device offers (read from a device it makes and removes at once).
"$bin" check >"$work/check" 2>&1 || { rc=$?; cat "$work/check"; fail "check exited $rc"; }
grep -qE "^  zram +ok +.*offered: ${offered//, / }$" "$work/check" || { cat "$work/check"; fail "check's zram row lacks the offered compressors"; }
grep -qE "^  swapin/zram, swapout/zram +ok" "$work/check" || { cat "$work/check"; fail "check does not say zram sets can run"; }
expect_state "$work/before" "after check"
pass "check lists zram with what it offers; its probe device is gone"

# SIGKILL mid-run: the devices stay; ./swapbench restore removes exactly them.
"$bin" run --backend zram --pages 8192 --repetitions 50 --out "$work/never.json" >"$work/out" 2>&1 &
pid=$!
wait_for_borrow 60 || { kill -9 $pid; cat "$work/out"; fail "the zram run never borrowed the machine"; }
sleep 1
kill -9 $pid; wait $pid 2>/dev/null
state >"$work/killed"
"$bin" restore >"$work/restore" 2>&1; rc=$?  # first, so a failure below leaves the machine given back
diff "$work/before" "$work/killed" >"$work/diff"
grep -q '^> zram[1-9]' "$work/diff" || { cat "$work/diff"; fail "SIGKILL left no zram device: this test proves nothing"; }
[ $rc -eq 0 ] || { cat "$work/restore"; fail "restore exited $rc"; }
grep -q "removed zram device /dev/zram" "$work/restore" || { cat "$work/restore"; fail "restore did not remove the zram devices"; }
expect_state "$work/before" "after SIGKILL + swapbench restore"
pass "SIGKILL + restore: the run's zram devices removed, zram0 untouched"
