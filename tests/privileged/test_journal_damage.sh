# The journal cannot be stuck or mislead: damage is named by line and never "nothing to restore";
# what can never be undone is shown once with its command and retired; no run starts on top of an
# earlier run's unrestored changes; a stale header from another boot does not make a later run's
# changes be skipped after a SIGKILL; a value unlike its boot value is warned about.
source "$(dirname "$0")/lib.sh"
state >"$work/before"
[ -e $statedir/journal ] && fail "an earlier run left $statedir/journal: ./swapbench restore first"
[ -e $statedir/retired.log ] && cp -p $statedir/retired.log "$work/retired.keep"
put_back_retired() { if [ -e "$work/retired.keep" ]; then cp -p "$work/retired.keep" $statedir/retired.log; else rm -f $statedir/retired.log; fi; }
# On any failure below: a planted journal is restored (or retired) and retired.log put back as found.
trap '[ -e $statedir/journal ] && "$bin" restore >/dev/null 2>&1; put_back_retired; rm -rf "$work"' EXIT
small=(run --backend zswap --compressor lzo --pages 256 --repetitions 1 --no-floors --out "$work/s.json")

mkdir -p $statedir; printf 'garbage\n' >$statedir/journal
"$bin" restore >"$work/r1" 2>&1 && { cat "$work/r1"; fail "restore of a garbage journal exited 0"; }
grep -q "nothing to restore" "$work/r1" && { cat "$work/r1"; fail "a garbage journal reported as nothing to restore"; }
grep -q "line 1 is not a swapbench entry (not a JSON object)" "$work/r1" || { cat "$work/r1"; fail "the damaged line is not named"; }
grep -q "garbage" "$work/r1" && { cat "$work/r1"; fail "a line that is not swapbench's was echoed"; }
"$bin" restore >"$work/r2" 2>&1 || { cat "$work/r2"; fail "the second restore still fails: not retired"; }
grep -q "nothing to restore" "$work/r2" || { cat "$work/r2"; fail "the second restore said more than nothing"; }
put_back_retired
echo "ok: garbage journal named by line, retired after being shown once"

# An entry of the suite's own kind the kernel refuses to take back (EINVAL): only such entries are
# replayed at all (another path would be refused unread, tests/privileged/test_state_trust.sh).
pc=/proc/sys/vm/page-cluster
echo '{"id":1,"op":"write","path":"'$pc'","original":"nonsense","extra":"","boot":"'"$(cat /proc/sys/kernel/random/boot_id)"'"}' \
  | plant_journal 4242
"$bin" "${small[@]}" >"$work/run1" 2>&1 && fail "a run started on top of an entry that cannot be undone"
grep -q "echo nonsense > $pc" "$work/run1" || { cat "$work/run1"; fail "the refusal lacks the manual command"; }
grep -q "./swapbench restore" "$work/run1" || { cat "$work/run1"; fail "the refusal does not say how to proceed"; }
"$bin" restore >"$work/r3" 2>&1 && { cat "$work/r3"; fail "restore exited 0 with an entry it could not undo"; }
grep -q "FAILED: .*by hand: echo nonsense > $pc" "$work/r3" || { cat "$work/r3"; fail "restore lacks the manual command"; }
"$bin" restore >"$work/r4" 2>&1 || { cat "$work/r4"; fail "the impossible entry fails forever"; }
grep -q FAILED "$work/r4" && { cat "$work/r4"; fail "FAILED shown twice"; }
"$bin" "${small[@]}" >"$work/run2" 2>&1 || { cat "$work/run2"; fail "a run after the retirement failed"; }
put_back_retired
expect_state "$work/before" "after an impossible entry"
echo "ok: an impossible entry refuses the run, is shown once by restore with its command, then retired"

echo '{"id":1,"op":"create_file","path":"/etc/passwd/swapbench-1.swap","original":"","extra":"1:2:3","boot":"'"$(cat /proc/sys/kernel/random/boot_id)"'"}' \
  | plant_journal 4243
cp -p /etc/passwd "$work/passwd"
"$bin" restore >"$work/r5" 2>&1 || { cat "$work/r5"; fail "a swap file under /etc/passwd (ENOTDIR) made restore fail"; }
cmp -s /etc/passwd "$work/passwd" || fail "/etc/passwd changed"
echo "ok: --swap-dir /etc/passwd's leftover entry is seen as gone"

old_boot=00000000-1111-2222-3333-444444444444
echo '{"id":1,"op":"write","path":"/proc/sys/vm/swappiness","original":"30","extra":"","boot":"'$old_boot'"}' \
  | plant_journal 4244 $old_boot
"$bin" run --backend zswap,disk --compressor lzo --pages 16384 --repetitions 50 --out "$work/never.json" >"$work/run3" 2>&1 &
pid=$!
wait_for_borrow 60 || { kill -9 $pid; cat "$work/run3"; fail "the run never borrowed the machine"; }
grep -q "skipped (the machine rebooted since" "$work/run3" || { cat "$work/run3"; fail "the old boot's entry was not skipped"; }
head -1 $statedir/journal | grep -q "\"pid\":$pid" || fail "the run wrote under another header: $(head -1 $statedir/journal)"
kill -9 $pid; wait $pid 2>/dev/null
"$bin" restore >"$work/r6" 2>&1 || { rc=$?; cat "$work/r6"; fail "restore after SIGKILL exited $rc"; }
grep -q "rebooted since" "$work/r6" && { cat "$work/r6"; fail "this boot's changes were skipped as rebooted"; }
expect_state "$work/before" "after a stale header, a run and its SIGKILL"
echo "ok: a run after a stale header gets its own, and is restored in full after SIGKILL"

was=$(cat /proc/sys/vm/swappiness)
"$bin" "${small[@]}" >"$work/run4" 2>&1 || { rc=$?; cat "$work/run4"; fail "run exited $rc"; }
echo $((was + 1)) >/proc/sys/vm/swappiness
"$bin" "${small[@]}" >"$work/run5" 2>&1
rc=$?
now=$(cat /proc/sys/vm/swappiness)
echo "$was" >/proc/sys/vm/swappiness
[ $rc -eq 0 ] || { cat "$work/run5"; fail "run exited $rc"; }
grep -q "swappiness is $((was + 1)), but was $was when swapbench first saw it this boot" "$work/run5" \
  || { cat "$work/run5"; fail "no warning about a value unlike the boot value"; }
[ "$now" = $((was + 1)) ] || fail "the value found ($((was + 1))) was not the one given back ($now)"
expect_state "$work/before" "after the boot-value warning"
pass "journal damage named, impossible entries retired once, stale headers harmless, boot values compared"
