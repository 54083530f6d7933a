# A guest with two vCPUs: Debian 6.12 booted with -smp 2 (TCG here: one host thread per vCPU), the
# quick suite's swap-in and swap-out through zswap inside with two threads, every set valid and every
# stamp checked, the guest kernel with both CPUs online, then the lock contention pass: contended
# spin-lock acquisitions traced on both vCPUs, the zswap tree's among them, none lost. The count pass is refused with
# --smp 2 (exit 2, before anything boots), and so are --contention with one vCPU and --threads 2
# with the count pass.
source "$(dirname "$0")/../privileged/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
export SWAPBENCH_BIN="$bin" PYTHONPATH="$top/kernels-config:$top"
state >"$work/before"
pgrep -f qemu-system >"$work/qemu-before" || true

$py -m kmatrix matrix --kernels debian-6.12 --smp 2 --out "$work/refused" >"$work/refused.out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "give --no-count" "$work/refused.out" \
  || { cat "$work/refused.out"; fail "--smp 2 with the count pass: exit $rc, want 2 naming --no-count"; }
$py -m kmatrix matrix --kernels debian-6.12 --no-count --contention --out "$work/refused" >"$work/refused.out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "give --smp 2 or more" "$work/refused.out" \
  || { cat "$work/refused.out"; fail "--contention with one vCPU: exit $rc, want 2"; }
$py -m kmatrix matrix --kernels debian-6.12 --threads 2 --out "$work/refused" >"$work/refused.out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "give --no-count, or --threads 1" "$work/refused.out" \
  || { cat "$work/refused.out"; fail "--threads 2 with the count pass: exit $rc, want 2"; }
[ ! -e "$work/refused" ] || fail "a refused matrix made its --out folder"

$py -m kmatrix matrix --kernels debian-6.12 --suite quick --backend zswap --compressor lzo --pages 256 \
  --repetitions 1 --boots 1 --no-count --no-ftrace --smp 2 --threads 2 --contention --timeout 600 --retry-crash \
  --out "$work/res" >"$work/out" 2>&1
rc=$?
matrix_passed_or_retried $rc "$work/out" || { tail -60 "$work/out"; fail "matrix --smp 2 exited $rc (consoles kept in $work/res)"; }
expect_state "$work/before" "after the matrix"
pgrep -f qemu-system >"$work/qemu-after" || true
diff -q "$work/qemu-before" "$work/qemu-after" >/dev/null || fail "a QEMU process is left: $(cat "$work/qemu-after")"
$py - "$work"/res/*.json <<'PY' || { tail -30 "$work/out"; fail "result checks"; }
import json, sys
assert len(sys.argv[1:]) == 1, sys.argv
d = json.load(open(sys.argv[1]))
sb = d["context"]["swapbench"]
boots = sb["matrix"]["boots"]
assert len(boots) == 1, boots
b = boots[0]
assert "-smp 2" in " ".join(b["qemu_command"]) and b["vcpus"] == 2, b["qemu_command"]
assert b["guest_cpus"] == 2, b.get("guest_cpus")   # both CPUs online in the guest kernel
kinds = set()
for e in d["benchmarks"]:
    s = e["swapbench"]
    assert s["valid"], (e["name"], s["invalid_reason"])
    if s["kind"] != "floor_firsttouch":
        assert s["stamps"]["checked"] == s["pages"] == 256 and s["stamps"]["failed"] == 0, (e["name"], s["stamps"])
    kinds.add(s["kind"])
    if s["kind"] in ("swapin", "swapout"):   # --threads 2: one thread per vCPU, each its own slice
        assert e["name"].endswith("/threads:2") and e["threads"] == 2, (e["name"], e.get("threads"))
        per = s["threads"]["per_thread"]
        assert len(per) == 2 and sum(t["pages"] for t in per) == 256 and not any(t["error"] for t in per), per
assert {"swapin", "swapout"} <= kinds, kinds
f = b["lock_contention"]
assert "skipped" not in f, f
assert f["swap_ops"]["zswpout"] > 0 and f["swap_ops"]["zswpin"] > 0, f["swap_ops"]
assert f["contended"] > 0 and f["complete"], (f["contended"], f["lost_entries"])
assert set(f["by_cpu"]) == {"0", "1"}, f["by_cpu"]               # waits on both vCPUs
assert f["by_group"]["zswap_tree"]["contended"] > 0, f["by_group"]
lc = sb["lock_contention"]
assert lc["boots"] == 1 and lc["timing"] == ("emulated" if sb["accelerator"] == "tcg" else "real"), lc
print("lock contention:", f["contended_per_1000_ops"], "per 1000 swap ops;",
      {g: v["per_1000_ops"] for g, v in f["by_group"].items()}, f["swap_ops_per_second"], "ops/s")
PY
pass "6.12 with 2 vCPUs: every set valid, both CPUs online, contention traced on both; host untouched, no QEMU left"
