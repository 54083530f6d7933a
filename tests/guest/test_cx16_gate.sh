# The cmpxchg16b flags gate in x86-64 guests: under the QEMU the suite fetches (bookworm-backports'
# 10.0) the gate passes and every boot's result says so; under the host's own Debian 12 QEMU 7.2
# (its TCG computes cmpxchg16b's flags from a stale lazy state) the guest's /init stops at the gate
# and the matrix refuses the boot as an emulator fault naming the bug, the version and the fix,
# writing no result. Debian 6.1, one short boot each, no count pass, no ftrace.
source "$(dirname "$0")/../privileged/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
export SWAPBENCH_BIN="$bin" PYTHONPATH="$top/kernels-config:$top"
state >"$work/before"
host_qemu=/usr/bin/qemu-system-x86_64
[ -x "$host_qemu" ] || { echo "SKIP: no $host_qemu to show the gate failing (fix: apt-get install qemu-system-x86)"; exit 77; }
"$host_qemu" --version | grep -q "version 7\." ||
  { echo "SKIP: the host's QEMU is not 7.x ($("$host_qemu" --version | head -1)): nothing here has the bug"; exit 77; }
common=(--kernels debian-6.1 --accel tcg --backend zswap --compressor lz4 --pages 256 --repetitions 1 --boots 1
        --no-count --no-ftrace --timeout 400)

$py -m kmatrix matrix "${common[@]}" --out "$work/res" >"$work/out" 2>&1
rc=$?
[ $rc -eq 0 ] || { tail -40 "$work/out"; fail "matrix under the fetched QEMU exited $rc"; }
$py - "$work"/res/*.json <<'PY' || { tail -20 "$work/out"; fail "gate record checks"; }
import json, sys
m = json.load(open(sys.argv[1]))["context"]["swapbench"]["matrix"]
assert "version 10." in m["qemu"], m["qemu"]
for b in m["boots"]:
    g = b["cx16_gate"]
    assert g["passed"] and g["report"].startswith("cx16-selftest: pass: flags after cmpxchg16b 0x"), g
print(m["qemu"], "-", m["boots"][0]["cx16_gate"]["report"])
PY
pass "the fetched QEMU passes the cmpxchg16b gate, recorded in the result"

# The host's QEMU 7.2 (installed, never used for guests otherwise) must fail it. SWAPBENCH_QEMU_X86_64
# names a program root alone can change: /usr/bin is.
if SWAPBENCH_QEMU_X86_64="$host_qemu" $py -m kmatrix matrix "${common[@]}" --out "$work/q72res" >"$work/q72" 2>&1; then
  fail "QEMU 7.2 passed the cmpxchg16b gate"
fi
grep -q "emulator fault, not a kernel result: QEMU emulator version 7\.2.* fails the cmpxchg16b flags gate" "$work/q72" ||
  { tail -20 "$work/q72"; fail "no emulator fault naming QEMU 7.2 and the gate"; }
grep -q "cx16-selftest: FAIL: flags after cmpxchg16b 0x.*set (expected clear)" "$work/q72" ||
  { tail -20 "$work/q72"; fail "the gate's report does not name the wrong flags"; }
grep -q "QEMU's TCG cmpxchg16b flags bug.*fix: QEMU >= 8.0" "$work/q72" || { tail -5 "$work/q72"; fail "no bug name or fix"; }
[ -z "$(ls "$work/q72res"/*.json 2>/dev/null)" ] || fail "a result was written despite the emulator fault"
pass "QEMU 7.2 fails the gate: $(grep -o 'flags after cmpxchg16b 0x[0-9a-f]*: [^;]*' "$work/q72" | head -1)"
expect_state "$work/before" "after both matrices"
