# Without root, the benchmarks that change nothing still run; the privileged ones are skipped, each
# with its reason and fix, and nothing on the machine changes.
source "$(dirname "$0")/lib.sh"
state >"$work/before"
out=$(mktemp -d /tmp/swapbench-nobody.XXXXXX); chmod 777 "$out"
setpriv --reuid=65534 --regid=65534 --clear-groups env SWAPBENCH_STATE_DIR="$out/state" \
  "$bin" run --pages 512 --repetitions 1 --out "$out/r.json" >"$work/out" 2>&1
rc=$?
[ $rc -eq 0 ] || { cat "$work/out"; rm -rf "$out"; fail "non-root run exited $rc"; }
$py - "$out/r.json" <<'PY' || { rm -rf "$out"; fail "result checks"; }
import json, sys
r = json.load(open(sys.argv[1]))
ctx = r["context"]["swapbench"]
assert ctx["root"] is False
kinds = {b["swapbench"]["kind"] for b in r["benchmarks"] if b["run_type"] == "iteration"}
assert kinds == {"floor_firsttouch"}, kinds
assert all(b["swapbench"]["valid"] for b in r["benchmarks"] if b["run_type"] == "iteration")
assert ctx["skipped"] and all("root" in s["reason"] and s["fix"] for s in ctx["skipped"]), ctx["skipped"]
PY
grep -q "skipped .*needs root" "$work/out" || { cat "$work/out"; fail "the summary does not show the skips"; }
rm -rf "$out"
expect_state "$work/before" "after a non-root run"
pass "non-root: floors run, privileged sets skipped with reason and fix"
