#!/usr/bin/env bash
# capacity --validate on a small process: the pages of a Python heap sampled, pushed through zswap
# with every compressor this kernel accepts and through a fresh zram device per compressor zram
# offers; page counts must match the prediction exactly, zswap's pool and zram's compr_data_size
# and mem_used_total within 1%; the zram devices are emptied when the region goes and removed at
# the end (zram0 untouched); the machine must be given back as found. Bad input exits 2 and changes
# nothing.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
cap="$(dirname "$bin")/swapbench-capacity"
top=$(cd "$here/../.." && pwd)
[ -d /sys/module/zswap ] || { echo "SKIP: no zswap in this kernel (fix: a kernel with CONFIG_ZSWAP)"; exit 77; }

state >"$work/before"

# Bad input first: each exits 2, names the input, and nothing changes.
"$cap" --pid 999999999 >/dev/null 2>"$work/err"; [ $? -eq 2 ] && grep -q "999999999" "$work/err" || fail "missing pid: $(cat "$work/err")"
head -c 200 /etc/services >"$work/core"
"$cap" --core "$work/core" >/dev/null 2>"$work/err"; [ $? -eq 2 ] && grep -q "not an ELF" "$work/err" || fail "non-ELF core: $(cat "$work/err")"
"$cap" --file "$work" >/dev/null 2>"$work/err"; [ $? -eq 2 ] || fail "a folder as --file: $(cat "$work/err")"
"$cap" --validate "$work/core" >/dev/null 2>"$work/err"; [ $? -eq 2 ] || fail "a 200-byte pages file accepted by --validate"
# Another user's process, read without the right: the message names the process and what is needed.
setpriv --reuid=65534 --regid=65534 --clear-groups "$cap" --pid 1 --sample 10 >/dev/null 2>"$work/err"
[ $? -eq 2 ] && grep -q "pid 1: reading its memory needs ptrace" "$work/err" || fail "no permission: $(cat "$work/err")"
setpriv --reuid=65534 --regid=65534 --clear-groups "$cap" --validate "$work/core" >/dev/null 2>"$work/err"
[ $? -eq 2 ] && grep -q "run as root" "$work/err" || fail "--validate as a user: $(cat "$work/err")"
expect_state "$work/before" "after bad input"
pass "bad input: exit 2, named, nothing changed"

# A small process with a real heap: dicts, strings, floats, some zero pages.
$py -c '
import random, time, sys
random.seed(1)
d = {f"k{i}": [random.random(), str(i) * 3, {"n": i}] for i in range(120000)}
z = bytearray(8 << 20)
print("ready", flush=True); time.sleep(120)' >"$work/heap.log" &
heap=$!
trap 'kill $heap 2>/dev/null; [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"' EXIT
for _ in $(seq 100); do grep -q ready "$work/heap.log" && break; sleep 0.1; done

cd "$top" || fail "no repository at $top"
SWAPBENCH_CAPACITY_BIN="$cap" PYTHONPATH="$top" $py -m analysis capacity --pid $heap --sample 4096 --seed 3 --validate \
  --bootstrap 20 --json "$work/pred.json" >"$work/out" 2>&1 || { cat "$work/out"; fail "capacity --validate failed"; }
cat "$work/out" | tail -14
$py - "$work/pred.json" <<'PY' || fail "prediction and kernel disagree"
import json, sys
from analysis.capacity import validation
v = json.load(open(sys.argv[1]))["validation"]
assert v["rows"], "no compressor validated"
for r in v["rows"]:
    f = r["figures"]
    if validation.not_judged(r):
        print(f"{r['compressor']}: {validation.not_judged(r)}: not judged")
        continue
    assert r["counts_exact"], (r["compressor"], f)
    assert f["stored_pages"]["measured"] > 3000, f
    assert abs(r["pool_error"]) < 0.01, (r["compressor"], r["pool_error"])
    print(f"{r['compressor']}: counts exact, pool error {100 * r['pool_error']:+.3f}%")
if v.get("zram_skipped"):
    print(f"zram not validated: {v['zram_skipped']}")
else:
    assert v["zram_rows"], "zram offered compressors, but no zram run was compared"
for r in v["zram_rows"]:
    f = r["figures"]
    # A slot whose page is still in the swap cache stays allocated until reclaim drops the page
    # (unmapping frees it only when swap is over half full): the device may keep that many pages.
    # More than the swap cache holds is a real leftover.
    assert 0 <= r["left_after_free_bytes"] <= max(r["swap_cached_bytes_after_free"], 0), \
        ("the device kept more than the swap cache holds after the region was freed", r)
    if r["left_after_free_bytes"]:
        print(f"zram {r['compressor']}: {r['left_after_free_bytes']} bytes held by pages still in the swap cache")
    if validation.not_judged(r):
        print(f"zram {r['compressor']}: {validation.not_judged(r)}: not judged")
        continue
    assert r["counts_exact"], ("zram", r["compressor"], f)
    assert f["stored_pages"]["measured"] > 3000, f
    assert r["bytes_within_tolerance"], ("zram", r["compressor"], r["errors"])
    print(f"zram {r['compressor']}: counts exact, compr_data_size {100 * r['errors']['compr_data_bytes']:+.3f}%, "
          f"mem_used_total {100 * r['errors']['mem_used_bytes']:+.3f}%")
PY
kill $heap 2>/dev/null
expect_state "$work/before" "after --validate"
pass "capacity --validate: counts exact, zswap pool and zram bytes within 1%, machine restored"
