# SIGINT (and SIGTERM) in the middle of a boot: the matrix stops, says so, and leaves no QEMU.
source "$(dirname "$0")/../privileged/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
export SWAPBENCH_BIN="$bin" PYTHONPATH="$top/kernels-config:$top"
state >"$work/before"
for sig in INT TERM; do
  pgrep -f qemu-system >"$work/qemu-before" || true
  $py -m kmatrix matrix --kernels debian-6.12 --backend zswap --compressor lzo --pages 512 --repetitions 1 \
    --boots 1 --no-ftrace --out "$work/res-$sig" >"$work/out-$sig" 2>&1 &
  pid=$!
  for ((i = 0; i < 600; i++)); do
    grep -q "swapbench-guest: up" "$work/out-$sig" && break
    sleep 0.1
  done
  grep -q "swapbench-guest: up" "$work/out-$sig" || { kill -9 $pid; cat "$work/out-$sig"; fail "the guest never came up"; }
  kill -$sig $pid
  wait $pid
  rc=$?
  [ $rc -eq 130 ] || { cat "$work/out-$sig"; fail "SIG$sig: exit $rc, expected 130"; }
  grep -q "interrupted" "$work/out-$sig" || fail "SIG$sig: no 'interrupted' message"
  sleep 0.5
  pgrep -f qemu-system >"$work/qemu-after" || true
  diff -q "$work/qemu-before" "$work/qemu-after" >/dev/null || fail "SIG$sig left QEMU: $(cat "$work/qemu-after")"
  [ -z "$(ls "$work/res-$sig" 2>/dev/null)" ] || fail "SIG$sig: a partial result was written"
done
expect_state "$work/before" "after interrupted matrices"
pass "SIGINT and SIGTERM mid-boot: exit 130, no QEMU left, no partial result, host untouched"
