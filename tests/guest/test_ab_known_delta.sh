# The A/B loop end to end: Debian's 6.12 source built twice, without and with a
# patch adding exactly 16 instructions to zswap_load; booted A B under QEMU with the count pass; the
# comparison must find +16 per call in zswap_load and nothing else per call. Also: a patch that does
# not apply is exit 2 naming it, before anything is built; --max-instructions-delta 0 turns the +16
# into exit 1. A cold cache builds one kernel (about 5 minutes here), a warm one reuses it.
source "$(dirname "$0")/../privileged/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
export SWAPBENCH_BIN="$bin" PYTHONPATH="$top/kernels-config:$top"
state >"$work/before"
if ! $py -c 'from kmatrix import plugin, defs; plugin.ensure_plugin(defs.cache_dir())' >"$work/plugin" 2>&1; then
  cat "$work/plugin"; echo "SKIP: the QEMU plugin cannot be built here (see above)"; exit 77
fi
patches="$top/kernels-config/patches"

printf -- '--- a/mm/zswap.c\n+++ b/mm/zswap.c\n@@ -1,2 +1,2 @@ nothing_here(void)\n-this line is not in zswap.c\n+nor this\n and this context is not either\n' >"$work/bad.patch"
$py -m kmatrix ab --source debian-6.12-source --patch "$patches/zswap-load-known-delta-6.12.patch" \
  --patch "$work/bad.patch" --out "$work/never" >"$work/bad.out" 2>&1
rc=$?
[ $rc -eq 2 ] || { cat "$work/bad.out"; fail "a patch that does not apply: exit $rc, expected 2"; }
grep -q "bad.patch" "$work/bad.out" && grep -qi "hunk" "$work/bad.out" || { cat "$work/bad.out"; fail "the failing patch and hunk are not named"; }
[ -e "$work/never" ] && fail "a run folder was made for a patch that does not apply"
echo "ok: $(grep -m1 bad.patch "$work/bad.out" | cut -c1-160)"

$py -m kmatrix ab --source debian-6.12-source --patch "$patches/zswap-load-known-delta-6.12.patch" \
  --suite swapin --backend zswap --compressor lzo --pages 512 --boots 1 --repetitions 2 --count-boots 2 \
  --max-instructions-delta 0 --out "$work/ab" >"$work/ab.out" 2>&1
rc=$?
[ $rc -eq 1 ] || { tail -40 "$work/ab.out"; fail "ab with --max-instructions-delta 0: exit $rc, expected 1 (B adds 16)"; }
[ -f "$work/ab/patches/B/01-zswap-load-known-delta-6.12.patch" ] || fail "the patch is not kept in the run folder"
$py - "$work/ab/swapin/compare.json" <<'PY' || { tail -40 "$work/ab.out"; fail "known delta checks"; }
import json, sys
rows = [r for r in json.load(open(sys.argv[1]))["exact"]["rows"] if r["set"] == "swapin/zswap/lzo/ratio2/random"]
per_call = {r["metric"].split(".")[1]: r for r in rows if r["metric"].endswith(".instructions_per_call")}
assert per_call["zswap_load"]["delta"] == 16 and per_call["zswap_load"]["verdict"].startswith("more"), per_call["zswap_load"]
others = {f: r["delta"] for f, r in per_call.items() if f != "zswap_load" and r["delta"] is not None}
assert others and all(d == 0 for d in others.values()), others
print("zswap_load +16 per call; unchanged:", sorted(others))
PY
expect_state "$work/before" "after the A/B run"
pass "ab: the known delta found exactly where it is and nowhere else; a bad patch refused before any build"
