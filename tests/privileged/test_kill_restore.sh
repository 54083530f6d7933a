# A run killed with SIGKILL mid-way leaves the machine changed; `swapbench restore` gives it back.
# SIGTERM restores by itself. The next run's start restores a killed run's leftovers too.
source "$(dirname "$0")/lib.sh"
state >"$work/before"
long=(run --backend zswap,disk --compressor lzo --pages 16384 --repetitions 50 --out "$work/never.json")

"$bin" "${long[@]}" >"$work/out1" 2>&1 &
pid=$!
wait_for_borrow 60 || { kill -9 $pid; cat "$work/out1"; fail "the run never borrowed the machine"; }
sleep 1
kill -9 $pid; wait $pid 2>/dev/null
state >"$work/killed"
diff -q "$work/before" "$work/killed" >/dev/null && fail "SIGKILL left nothing changed: this test proves nothing"
grep -q swapbench "$work/killed" || fail "expected the killed run's swap area or cgroup to be left"
"$bin" restore >"$work/restore" 2>&1 || { rc=$?; cat "$work/restore"; fail "restore exited $rc"; }
grep -q "restored\|removed\|swapoff" "$work/restore" || { cat "$work/restore"; fail "restore reported nothing"; }
expect_state "$work/before" "after SIGKILL + swapbench restore"
[ -f "$work/never.json" ] && fail "a killed run must not leave a result"
pass "SIGKILL + restore"

"$bin" "${long[@]}" >"$work/out2" 2>&1 &
pid=$!
wait_for_borrow 60 || { kill -9 $pid; fail "second run never borrowed the machine"; }
sleep 1
kill -TERM $pid; wait $pid; rc=$?
[ $rc -eq 143 ] || { cat "$work/out2"; fail "SIGTERM exit status $rc, expected 143"; }
# A set that finishes while the signal thread restores was measured on a machine being given back:
# never "valid".
sed -n '/restoring the machine before exiting/,$p' "$work/out2" | grep -E "rep [0-9]+:.* valid$" &&
  { cat "$work/out2"; fail "a set measured during the restore was called valid"; }
expect_state "$work/before" "after SIGTERM"
pass "SIGTERM restores by itself"

"$bin" "${long[@]}" >"$work/out3" 2>&1 &
pid=$!
wait_for_borrow 60 || { kill -9 $pid; fail "third run never borrowed the machine"; }
kill -9 $pid; wait $pid 2>/dev/null
"$bin" run --backend zswap --compressor lzo --pages 256 --repetitions 1 --no-floors --out "$work/small.json" \
  >"$work/out4" 2>&1 || { cat "$work/out4"; fail "the next run failed"; }
grep -q "restoring what an earlier run (PID $pid)" "$work/out4" || { cat "$work/out4"; fail "next start did not restore PID $pid's leftovers"; }
expect_state "$work/before" "after SIGKILL + next run"
pass "the next run's start restores a killed run"
