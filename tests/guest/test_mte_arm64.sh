# arm64 MTE in a Debian 6.12 arm64 guest (qemu-system-aarch64 10.0 from bookworm-backports, TCG):
# the MTE gate passes, the mte suite's tagged sets come back from zswap, zram and disk with every granule's
# tag and every stamp right (0 tag errors), labelled aarch64 / tcg. Two negative checks: a wrong tag
# put in after swap-in is named (page, granule, expected, found) and the guest suite exits 1; bookworm's
# QEMU 7.2, which corrupts tags, fails the gate as an emulator fault with no result written.
# The first run also has the count pass (one counted boot, the plugin built for QEMU 10.0): it must
# count the MTE functions by what they do, not just say a number (below).
# Through the front door, which cross-builds the suite (build-aarch64/) and fetches what arm64 needs.
source "$(dirname "$0")/../privileged/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
pgrep -f qemu-system >"$work/qemu-before" || true
state >"$work/before"
# lz4: the compressor both zswap and zram offer in Debian's 6.12 arm64 (its zram has no lzo).
base=(--kernels debian-6.12-arm64 --suite mte --compressor lz4 --pages 512 --boots 1 --no-ftrace --timeout 400)
common=("${base[@]}" --repetitions 1 --no-count)

# Two repetitions: per-call counts must repeat exactly from one to the next.
"$top/swapbench" matrix "${base[@]}" --repetitions 2 --count-boots 1 --out "$work/res" >"$work/out" 2>&1 ||
  { tail -40 "$work/out"; fail "mte matrix failed"; }
grep -q "mte gate mte-selftest: pass" "$work/out" || { tail -20 "$work/out"; fail "no passed MTE gate on the console"; }
$py - "$work"/res/*.json <<'PY' || { tail -30 "$work/out"; fail "mte result checks"; }
import json, sys
d = json.load(open(sys.argv[1]))
sb = d["context"]["swapbench"]
assert sb["matrix"]["arch"] == "aarch64" and sb["kernel"]["machine"] == "aarch64", sb["matrix"]
assert sb["accelerator"] == "tcg" and "10.0" in sb["matrix"]["qemu"], (sb["accelerator"], sb["matrix"]["qemu"])
assert sb["matrix"]["mte_gate"]["passed_in_every_boot"], sb["matrix"]["mte_gate"]
seen = {}
for b in d["benchmarks"]:
    s = b["swapbench"]
    assert s["valid"], (b["name"], s["invalid_reason"])
    assert s["stamps"]["failed"] == 0 and s["stamps"]["checked"] == s["pages"], s["stamps"]
    seen[(s["kind"], s["backend"], s["variant"])] = s
    if s["variant"] == "mte-tagged":
        t = s["mte_tags"]
        assert t["granules_checked"] == s["pages"] * 4096 // 16 and t["granules_wrong"] == 0, t
    else:
        assert s["variant"] == "untagged" and "mte_tags" not in s, b["name"]
want = {(k, be, v) for k in ("swapin", "swapout") for be in ("zswap", "zram", "disk") for v in ("untagged", "mte-tagged")}
assert set(seen) == want, sorted(seen)
print("tagged sets: " + ", ".join(f"{k}/{be} {seen[(k, be, 'mte-tagged')]['mte_tags']['granules_checked']} granules, 0 wrong"
                                  for k, be, v in sorted(want) if v == "mte-tagged"))
PY
pass "6.12 arm64: gate passed, tagged swap-in/out through zswap, zram and disk with every tag and stamp right"

# The count pass on arm64. What the kernel does decides the counts: the page's tags are copied (the
# assembly loops mte_restore_page_tags / mte_save_page_tags) once per tagged page and never for an
# untagged one, while mte_restore_tags / mte_save_tags run for every page (they look the page up and
# return early when it has no tags). Per-call counts repeat exactly between repetitions; a function
# 6.12 inlines (arch_swap_invalidate_page) is reported absent, not as zero calls.
$py - "$work"/res/*.json <<'PY' || { tail -30 "$work/out"; fail "arm64 instruction counts"; }
import json, sys
d = json.load(open(sys.argv[1]))
ctx = d["context"]["swapbench"]["exact"]
# the plugin was built for exactly the QEMU that booted the guest (the backports 10.0, not the host's 7.2)
assert ctx["plugin_qemu_version"] == d["context"]["swapbench"]["matrix"]["qemu"], (ctx["plugin_qemu_version"],)
assert "version 10." in ctx["plugin_qemu_version"], ctx["plugin_qemu_version"]
copy = {"swapin": "mte_restore_page_tags", "swapout": "mte_save_page_tags"}
lookup = {"swapin": "mte_restore_tags", "swapout": "mte_save_tags"}
per_fault = {}
for b in d["benchmarks"]:
    s = b["swapbench"]
    x = s["exact"]
    kind, tagged = s["kind"], s["variant"] == "mte-tagged"
    assert x["repetitions"] == b["repetitions"] == 2 and not x["missing"], (b["name"], x["repetitions"], x["missing"])
    assert "arch_swap_invalidate_page" in x["functions_absent"] and "arch_swap_invalidate_page" not in x["functions"]
    for r in x["per_repetition"]:
        assert r["ops"] == s["pages"], (b["name"], r["ops"])
        f = r["functions"]
        assert f[copy[kind]]["calls"] == (s["pages"] if tagged else 0), (b["name"], copy[kind], f[copy[kind]])
        assert f[lookup[kind]]["calls"] == s["pages"], (b["name"], lookup[kind], f[lookup[kind]])
        want = "arch_swap_restore" if kind == "swapin" else "arch_prepare_to_swap"
        assert f[want]["calls"] == s["pages"], (b["name"], want, f[want])
    for name in (copy[kind], lookup[kind], "arch_swap_restore", "arch_prepare_to_swap"):
        v = x["functions"][name]
        assert v["spread_per_call"] in (0, None), (b["name"], name, v)
    if kind == "swapin":
        per_fault[(s["backend"], tagged)] = x["kernel_instructions_per_op"]["median"]
        if tagged:
            assert x["functions"][copy[kind]]["instructions_per_call"] > 0
# The tag copy shows in the whole fault where the path is quiet (zswap, zram; disk I/O's spread
# between repetitions is larger than the copy).
for be in ("zswap", "zram"):
    assert per_fault[(be, True)] > per_fault[(be, False)], (be, per_fault)
print("; ".join(f"{be} {per_fault[(be, False)]:.0f} -> {per_fault[(be, True)]:.0f}" for be in ("zswap", "zram", "disk")))
PY
pass "6.12 arm64 counted: tags copied once per tagged page and never for untagged ones, per-call counts identical"

# The saved tags' memory, measured: per page, the tagged sets' slab gain over the untagged ones' is
# one 128-byte kmalloc object (the tag storage; within 4 objects of the region's 512 for other
# kernel activity) plus a share of the xarray's nodes (576-byte radix_tree_node, 64 entries each:
# about 9 B/page, well under 32).
$py - "$work"/res/*.json <<'PY' || { tail -30 "$work/out"; fail "saved-tag memory"; }
import json, sys
m = json.load(open(sys.argv[1]))["context"]["swapbench"]["mte_tag_memory"]
assert m["readings_without_shrink"] == 0 and not m["skipped"], m
assert set(m["per_backend"]) == {"zswap/lz4", "zram/lz4", "disk"}, sorted(m["per_backend"])
for be, v in m["per_backend"].items():
    k = v["kmalloc_128_bytes"]["bytes_per_page"]
    assert 127 <= k <= 129, (be, v["kmalloc_128_bytes"])
    assert 0 < v["radix_tree_node_bytes"]["bytes_per_page"] < 32, (be, v["radix_tree_node_bytes"])
print("; ".join(f"{be} {v['saved_tags_bytes_per_page']:.1f} B/page" for be, v in sorted(m["per_backend"].items())))
PY
pass "6.12 arm64: saved tags measured at one 128-byte object plus xarray nodes per swapped page"

# The THP case: with --thp the region is PROT_MTE transparent huge pages. 6.12 swaps them out whole
# to zram (a non-rotational device: swap clusters; thp_swpout at the push-out, nothing split), they
# come back page by page, and every tag must be right. zswap and disk here split them (6.12's zswap
# stores no large folio; whole-THP swap entries need a non-rotational block device, and the virtio
# disk is rotational): recorded, not asserted.
"$top/swapbench" matrix "${common[@]}" --pages 1024 --thp --out "$work/thp" >"$work/thp-out" 2>&1 ||
  { tail -30 "$work/thp-out"; fail "mte --thp matrix failed"; }
$py - "$work"/thp/*.json <<'PY' || { tail -30 "$work/thp-out"; fail "PROT_MTE THPs through zram"; }
import json, sys
d = json.load(open(sys.argv[1]))
s = next(b["swapbench"] for b in d["benchmarks"] if b["name"] == "swapin/zram/lz4/ratio2/random/mte-tagged")
v = s["pushout_vmstat"]
assert v["thp_swpout"] == s["pages"] // 512 and v["thp_split_page"] == 0 and v["thp_swpout_fallback"] == 0, v
assert s["valid"] and s["mte_tags"]["granules_wrong"] == 0 and s["mte_tags"]["granules_checked"] == s["pages"] * 256, s["mte_tags"]
print(f"{v['thp_swpout']} PROT_MTE THPs out whole to zram, {s['mte_tags']['granules_checked']} granules back right")
PY
pass "6.12 arm64: PROT_MTE THPs swapped out whole through zram and back with every tag right"

# Tagged writeback: the mte-writeback suite stores tagged pages in zswap, has every writeback
# mechanism 6.12 offers write them to disk, faults them back from disk, and checks every tag.
"$top/swapbench" matrix "${common[@]}" --suite mte-writeback --backend zswap --out "$work/wb" >"$work/wb-out" 2>&1 ||
  { tail -30 "$work/wb-out"; fail "mte-writeback matrix failed"; }
$py - "$work"/wb/*.json <<'PY' || { tail -30 "$work/wb-out"; fail "tagged writeback"; }
import json, sys
d = json.load(open(sys.argv[1]))
tagged = [b["swapbench"] for b in d["benchmarks"] if b["swapbench"].get("tagging") == "mte-tagged"]
untagged = [b["swapbench"] for b in d["benchmarks"] if b["swapbench"].get("tagging") == "untagged"]
mechs = sorted(s["writeback"]["mechanism"] for s in tagged)
assert mechs and mechs == sorted(s["writeback"]["mechanism"] for s in untagged), (mechs, len(untagged))
for s in tagged:
    w, t = s["writeback"], s["mte_tags"]
    assert s["valid"] and s["path"] == "writeback", (w["mechanism"], s["invalid_reason"], s["path"])
    assert w["region_written_back"] > 0 and s["deltas"]["vmstat"]["pswpin"] > 0, (w, s["deltas"]["vmstat"])
    assert t["granules_checked"] == s["pages"] * 256 and t["granules_wrong"] == 0, t
print(", ".join(f"{s['writeback']['mechanism']} {s['writeback']['region_written_back']} written back" for s in tagged))
PY
pass "6.12 arm64: tagged pages written back from zswap to disk by every mechanism and faulted back with every tag right"

# A wrong tag after swap-in (granule 6 of page 5, set to 0) must be named and make the run exit 1;
# the result is kept, with the tagged set invalid and the mismatch in its mte_tags.
if "$top/swapbench" matrix "${common[@]}" --backend zswap --test-corrupt-page 5 --out "$work/neg" >"$work/neg-out" 2>&1; then
  fail "a wrong tag was not caught (matrix exit 0)"
fi
grep -q "HARD FAILURE: debian-6.12-arm64 boot 1: the suite found pages that came back wrong" "$work/neg-out" ||
  { tail -30 "$work/neg-out"; fail "no hard failure reported for the wrong tag"; }
$py - "$work"/neg/*.json <<'PY' || { tail -30 "$work/neg-out"; fail "the wrong tag is not named by page, granule, expected and found"; }
import json, re, sys
d = json.load(open(sys.argv[1]))
tagged = [b["swapbench"] for b in d["benchmarks"] if b["swapbench"]["variant"] == "mte-tagged" and b["swapbench"]["kind"] == "swapin"]
assert tagged, "no tagged swap-in set"
for s in tagged:
    t = s["mte_tags"]
    assert t["granules_wrong"] == 1 and t["pages_wrong"] == 1, t
    assert re.fullmatch(r"page 5 granule 6 \(offset 0x5060\): expected tag 0x[1-9a-f], found 0x0", t["first_failures"][0]), t
    assert not s["valid"] and "came back with a wrong tag: page 5 granule 6" in s["invalid_reason"], s["invalid_reason"]
    assert s["stamps"]["failed"] == 0, s["stamps"]  # the tag alone was damaged, and the tag check alone caught it
print("named:", tagged[0]["mte_tags"]["first_failures"][0])
PY
pass "a wrong tag is a hard failure naming page 5, granule 6, the expected and the found tag"

# Bookworm's QEMU 7.2 (unpacked here, never installed) must fail the gate: an emulator fault, no result.
mkdir -p "$work/q72" && chown _apt "$work/q72" 2>/dev/null
(cd "$work/q72" && apt-get download -q qemu-system-arm >/dev/null 2>&1 && dpkg-deb -x qemu-system-arm_*.deb root) ||
  fail "could not fetch bookworm's qemu-system-arm for the negative gate check"
# apt-get download needed the folder to be _apt's; a root run starts only a program root alone can
# change (SWAPBENCH_QEMU_AARCH64 and every folder above it), so it goes back to root.
chown root:root "$work/q72"
if SWAPBENCH_QEMU_AARCH64="$work/q72/root/usr/bin/qemu-system-aarch64" "$top/swapbench" matrix "${common[@]}" \
    --backend zswap --out "$work/q72res" >"$work/q72-out" 2>&1; then
  fail "QEMU 7.2 passed the MTE gate"
fi
grep -q "emulator fault, not a kernel result: under QEMU emulator version 7.2" "$work/q72-out" ||
  { tail -20 "$work/q72-out"; fail "no emulator fault naming QEMU 7.2"; }
grep -qE "mte-selftest: FAIL: [0-9]+ of 16384 granules" "$work/q72-out" || fail "the gate's count is missing"
[ -z "$(ls -A "$work/q72res" 2>/dev/null)" ] || fail "a result was written despite the emulator fault"
pass "QEMU 7.2 fails the MTE gate: $(grep -oE '[0-9]+ of 16384 granules' "$work/q72-out" | head -1) wrong, no result"

expect_state "$work/before" "after the arm64 guests"
pgrep -f qemu-system >"$work/qemu-after" || true
diff -q "$work/qemu-before" "$work/qemu-after" >/dev/null || fail "QEMU left: $(cat "$work/qemu-after")"
