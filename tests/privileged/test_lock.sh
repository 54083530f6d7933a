# Two runs never change global state at once: the second is refused, naming the first's PID, and
# a second state folder (SWAPBENCH_STATE_DIR) is no way around the lock for a root run.
source "$(dirname "$0")/lib.sh"
state >"$work/before"
"$bin" run --backend zswap --compressor lzo --pages 16384 --repetitions 50 --out "$work/a.json" >"$work/a" 2>&1 &
pid=$!
wait_for_borrow 60 || { kill -9 $pid; cat "$work/a"; fail "the first run never started"; }
"$bin" run --backend zswap --compressor lzo --pages 256 --repetitions 1 --out "$work/b.json" >"$work/b" 2>&1
rc=$?
SWAPBENCH_STATE_DIR="$work/state" "$bin" run --backend zswap --compressor deflate --pages 256 --repetitions 1 \
  --out "$work/c.json" >"$work/c" 2>&1
rc_env=$?
kill -TERM $pid; wait $pid
[ $rc -ne 0 ] || fail "the second run was not refused"
grep -q "another swapbench run (PID $pid)" "$work/b" || { cat "$work/b"; fail "the refusal does not name PID $pid"; }
[ -f "$work/b.json" ] && fail "a refused run wrote a result"
[ $rc_env -ne 0 ] || { cat "$work/c"; fail "a root run with SWAPBENCH_STATE_DIR was not refused"; }
grep -q "unset SWAPBENCH_STATE_DIR" "$work/c" || { cat "$work/c"; fail "the refusal does not say what to do"; }
[ -e "$work/state" ] && fail "the refused run made a state folder"
[ -f "$work/c.json" ] && fail "the run refused for its state folder wrote a result"
expect_state "$work/before" "after the refused runs and the first run's SIGTERM"
pass "second concurrent run refused by the lock; SWAPBENCH_STATE_DIR refused for root"
