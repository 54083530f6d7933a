# capacity --validate in a guest: one Debian 6.1 boot (the kernel with the most to validate: zsmalloc,
# zbud and z3fold as zswap's allocators; lzo, lzo-rle, lz4, zstd, deflate; zram). A constructed
# file of 768 pages (zero, same-filled, digit text, half-random and random pages: every class and
# the rejections) is sampled whole, carried into the guest and pushed through each; the kernel's
# counts must equal the 6.1 model's exactly and each pool be within its allocator's stated error (1%).
# The host is not touched (the guest swaps on its own disk) and no QEMU is left.
source "$(dirname "$0")/../privileged/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
export SWAPBENCH_BIN="$bin" PYTHONPATH="$top/kernels-config:$top"
state >"$work/before"
pgrep -f qemu-system >"$work/qemu-before" || true
$py - "$work/pages.bin" <<'PY'
import random, sys
r = random.Random(14)
pages = [bytes(4096)] * 96 + [bytes([0xA5]) * 4096] * 32  # zero; same-filled (one repeated word)
for i in range(320):  # text: lines of digits, compressing to a few hundred bytes to ~2 KB
    pages.append("".join(f"{r.randrange(10**r.randrange(2, 12))},{i}\n" for _ in range(500)).encode()[:4096].ljust(4096, b"\n"))
for i in range(192):  # half random: 1.5-3 KB, where zbud's pairing and z3fold's thirds differ
    k = r.randrange(1024, 3072)
    pages.append(r.randbytes(k) + bytes(4096 - k))
pages += [r.randbytes(4096) for _ in range(128)]  # incompressible: rejected by every allocator on 6.1
r.shuffle(pages)
open(sys.argv[1], "wb").write(b"".join(pages))
PY
start=$(date +%s)
$py -m kmatrix capacity --file "$work/pages.bin" --all --bootstrap 0 --validate --kernels debian-6.1 \
  --guest-timeout 300 --json "$work/pred.json" >"$work/out" 2>&1 || { rc=$?; tail -60 "$work/out"; fail "capacity exited $rc"; }
echo "capacity --validate in the 6.1 guest took $(( $(date +%s) - start )) s"
expect_state "$work/before" "after the 6.1 capacity guest"
pgrep -f qemu-system >"$work/qemu-after" || true
diff -q "$work/qemu-before" "$work/qemu-after" >/dev/null || fail "QEMU left: $(cat "$work/qemu-after")"
$py - "$work/pred.json" <<'PY' || { cat "$work/out"; fail "validation checks"; }
import json, sys
v = json.load(open(sys.argv[1]))["validation"]
(g,) = v["guests"]
assert "skipped" not in g, g.get("skipped")
assert g["kernel"] == "debian-6.1" and g["release"].startswith("6.1.") and g["model_kernel_version"] == [6, 1], g["release"]
assert g["accelerator"] in ("tcg", "kvm") and g["measured_in"] == f"guest ({g['accelerator']})"
seen = {(r["compressor"], r["allocator"]) for r in g["rows"]}
want = {(c, a) for c in ("lzo", "lzo-rle", "lz4", "zstd", "deflate") for a in ("zsmalloc", "zbud", "z3fold")}
assert seen == want, (want - seen, g["zpool_refused"], g["refused"])
for r in g["rows"]:
    f = r["figures"]
    assert r["resident_after_pageout"] == 0 and not r["foreign_pages_swapped_meanwhile"], r
    assert r["counts_exact"], (r["compressor"], r["allocator"], f)
    assert f["same_pages"]["measured"] == 128 and f["rejected_pages"]["measured"] >= 128, f
    assert r["pool_within_tolerance"], (r["compressor"], r["allocator"], r["pool_error"], r["pool_tolerance"])
zram = {r["compressor"]: r for r in g["zram_rows"]}
assert {"lzo", "lz4", "zstd"} <= set(zram), (set(zram), g["zram_skipped"])
for c, r in zram.items():
    assert r["counts_exact"] and r["bytes_within_tolerance"], (c, r["figures"], r["errors"])
print("6.1 guest: " + ", ".join(f"{r['compressor']}/{r['allocator']} {100 * r['pool_error']:+.2f}%" for r in g["rows"]))
print("zram: " + ", ".join(f"{c} {100 * r['errors']['mem_used_bytes']:+.2f}%" for c, r in zram.items()))
PY
pass "6.1 guest: counts exact, pools within the stated error for zsmalloc, zbud and z3fold, zram exact"
