# Every signal whose default action ends the process restores the machine first and exits with
# 128+signal; SIGPIPE (`run | head`) does not end a run with the machine changed; a crash (here a
# SIGSEGV sent from outside) reports itself, dies of its signal, and a restore started for it gives the
# machine back.
source "$(dirname "$0")/lib.sh"
ulimit -c 0
state >"$work/before"
long=(run --backend zswap --compressor lzo --pages 16384 --repetitions 50 --out "$work/never.json")

for sig in USR1 USR2 QUIT ALRM XCPU RTMIN+3; do
  "$bin" "${long[@]}" >"$work/out" 2>&1 &
  pid=$!
  wait_for_borrow 60 || { kill -9 $pid; cat "$work/out"; fail "SIG$sig: the run never borrowed the machine"; }
  kill -s "$sig" $pid; wait $pid; rc=$?
  want=$((128 + $(kill -l "$sig")))
  [ $rc -eq $want ] || { cat "$work/out"; fail "SIG$sig: exit status $rc, expected $want"; }
  grep -q "restoring the machine before exiting" "$work/out" || { cat "$work/out"; fail "SIG$sig: no restore said"; }
  expect_state "$work/before" "after SIG$sig"
  echo "ok: SIG$sig -> $rc, machine restored"
done

"$bin" run --backend zswap --compressor lzo --pages 256 --repetitions 1 --no-floors --out "$work/p.json" \
  2>"$work/perr" | head -c 1 >/dev/null
rc=${PIPESTATUS[0]}
[ $rc -ne 141 ] || { cat "$work/perr"; fail "SIGPIPE ended the run (141)"; }
expect_state "$work/before" "after run | head"
echo "ok: run | head -> $rc (not 141), machine restored"

"$bin" "${long[@]}" >"$work/segv" 2>&1 &
pid=$!
wait_for_borrow 60 || { kill -9 $pid; cat "$work/segv"; fail "SIGSEGV: the run never borrowed the machine"; }
kill -s SEGV $pid; wait $pid; rc=$?
[ $rc -eq 139 ] || { cat "$work/segv"; fail "SIGSEGV: exit status $rc, expected 139 (death by the signal)"; }
wait_for_state "$work/before" 60 || { cat "$work/segv"; expect_state "$work/before" "60 s after a SIGSEGV"; }
grep -q "crashed" "$work/segv" || { cat "$work/segv"; fail "SIGSEGV: the crash and its restore are not said"; }
# The crash report comes first and says the signal was sent, not a fault (so no address to chase).
grep -q "crash report: SIGSEGV .*(SI_USER: sent by a process (kill), not a fault) from PID $$" "$work/segv" &&
  grep -q "^swapbench:   #0 " "$work/segv" && grep -q "end of crash report" "$work/segv" \
  || { cat "$work/segv"; fail "SIGSEGV: no crash report (signal, sender, backtrace)"; }
echo "ok: SIGSEGV -> 139, restored by the restore it started"
[ -f "$work/never.json" ] && fail "an interrupted run must not leave a result"
pass "terminating signals restore and exit 128+sig; SIGPIPE does not end a run; a crash is restored"
