# Issue 19, items 2-5, on the machine's own state folder, each attack as the issue reproduced it: a
# lock that is a link (its target kept), a journal writing any path, a journal of nobody's (0666),
# a header without boot_id, a journal linked to a secret (in no log, not on stderr), nobody holding
# the lock; and a folder others may write to or own. The folder is left as a normal run leaves it:
# root:root 0700 (the unit tests in tests/unit/test_state_dir.cpp cover the same on a fixture).
source "$(dirname "$0")/lib.sh"
state >"$work/before"
[ -e $statedir/journal ] && fail "an earlier run left $statedir/journal: ./swapbench restore first"
[ -L $statedir ] && fail "$statedir is a link: not this test's to touch"
[ -e $statedir/retired.log ] && cp -p $statedir/retired.log "$work/retired.keep"
put_back_retired() { if [ -e "$work/retired.keep" ]; then cp -p "$work/retired.keep" $statedir/retired.log; else rm -f $statedir/retired.log; fi; }
# Whatever fails below: nothing planted stays, the folder is root's 0700 again, retired.log as found.
cleanup() {
  [ -n "${holder:-}" ] && kill "$holder" 2>/dev/null
  for f in lock journal retired.log; do [ -L $statedir/$f ] && rm -f $statedir/$f; done
  if [ -d $statedir ]; then chown root:root $statedir; chmod 0700 $statedir; fi
  [ -e $statedir/journal ] && ! "$bin" restore >/dev/null 2>&1 && rm -f $statedir/journal
  put_back_retired
  rm -rf "$work"
}
trap cleanup EXIT
small=(run --backend zswap --compressor lzo --pages 256 --repetitions 1 --no-floors --out "$work/s.json")
folder() { stat -c '%a %U:%G' $statedir; }
boot=$(cat /proc/sys/kernel/random/boot_id)
was=$(cat /proc/sys/vm/swappiness)

# What an older swapbench left: the folder 0755, the lock 0644 (anyone could open and hold it).
mkdir -p $statedir; chmod 0755 $statedir; touch $statedir/lock; chmod 0644 $statedir/lock
"$bin" "${small[@]}" >"$work/run0" 2>&1 || { rc=$?; cat "$work/run0"; fail "a run on an older swapbench's folder exited $rc"; }
[ "$(folder)" = "700 root:root" ] || fail "the folder is $(folder) after a run, not 700 root:root"
[ "$(stat -c %a $statedir/lock)" = 600 ] || fail "the lock is $(stat -c %a $statedir/lock) after a run, not 600"
echo "ok: a run makes the folder root:root 0700 and its files 0600"

# Item 5: runuser -u nobody -- flock -x /var/lib/swapbench/lock sleep 15
runuser -u nobody -- flock -x $statedir/lock sleep 15 >"$work/nobody" 2>&1 &
holder=$!
sleep 1
if kill -0 $holder 2>/dev/null; then fail "nobody holds $statedir/lock"; fi
wait $holder; rc=$?; holder=
[ $rc -ne 0 ] || fail "nobody's flock exited 0"
grep -q "Permission denied" "$work/nobody" || { cat "$work/nobody"; fail "nobody's flock failed for another reason"; }
"$bin" restore >"$work/r5" 2>&1 || { rc=$?; cat "$work/r5"; fail "restore exited $rc after nobody tried the lock"; }
"$bin" "${small[@]}" >"$work/run5" 2>&1 || { rc=$?; cat "$work/run5"; fail "a run exited $rc after nobody tried the lock"; }
echo "ok: nobody cannot open the lock, so cannot block run or restore"

# Item 2: ln -s /tmp/vp /var/lib/swapbench/lock, then a plain run.
echo precious >"$work/vp"
rm -f $statedir/lock; ln -s "$work/vp" $statedir/lock
"$bin" "${small[@]}" >"$work/run2" 2>&1 && fail "a run took a lock that is a link"
grep -q "$statedir/lock is a symbolic link: refused, never followed" "$work/run2" || { cat "$work/run2"; fail "the refusal does not say why"; }
"$bin" restore >"$work/r2" 2>&1 && fail "restore took a lock that is a link"
[ "$(cat "$work/vp")" = precious ] || fail "the lock's link target was changed: $(cat "$work/vp")"
[ -f "$work/s.json" ] && [ "$work/s.json" -nt "$work/vp" ] && fail "the refused run wrote a result"
rm $statedir/lock
echo "ok: a lock that is a link is refused and its target kept"

# Item 3: a journal line `write PATH VALUE` to a path the suite never changes.
echo untouched >"$work/victim"
{ echo '{"id":1,"op":"write","path":"'"$work/victim"'","original":"PWNED","extra":"","boot":"'$boot'"}'
  echo "write $work/victim PWNED"; } | plant_journal 4245
"$bin" restore >"$work/r3" 2>&1 && { cat "$work/r3"; fail "restore of a foreign write exited 0"; }
[ "$(cat "$work/victim")" = untouched ] || fail "the victim was written: $(cat "$work/victim")"
grep -q "line 2 is not a swapbench entry (a write to a path swapbench never changes)" "$work/r3" || { cat "$work/r3"; fail "line 2 not named"; }
grep -q "line 3 is not a swapbench entry (not a JSON object)" "$work/r3" || { cat "$work/r3"; fail "line 3 not named"; }
grep -q PWNED "$work/r3" $statedir/retired.log && fail "a foreign line was echoed"
[ "$(stat -c %a $statedir/retired.log)" = 600 ] || fail "retired.log is $(stat -c %a $statedir/retired.log)"
"$bin" restore >"$work/r3b" 2>&1 || { cat "$work/r3b"; fail "the refused lines were not retired"; }
put_back_retired
echo "ok: a write to any other path is refused by line, never written, never echoed"

# Item 3: a journal owned by nobody, mode 0666.
echo '{"id":1,"op":"write","path":"/proc/sys/vm/swappiness","original":"'$((was + 7))'","extra":"","boot":"'$boot'"}' \
  | plant_journal 4246
chown nobody:nogroup $statedir/journal; chmod 0666 $statedir/journal
"$bin" restore >"$work/r4" 2>&1 && { cat "$work/r4"; fail "restore of nobody's journal exited 0"; }
grep -q "journal belongs to nobody" "$work/r4" || { cat "$work/r4"; fail "the refusal does not say why"; }
[ "$(cat /proc/sys/vm/swappiness)" = "$was" ] || { echo "$was" >/proc/sys/vm/swappiness; fail "nobody's journal was replayed"; }
[ -e $statedir/journal ] || fail "nobody's journal was removed (retired) instead of left for a human"
"$bin" "${small[@]}" >"$work/run4" 2>&1 && fail "a run started beside nobody's journal"
rm $statedir/journal
echo "ok: a journal of nobody's, 0666, is neither read nor retired, and no run starts beside it"

# Item 3: a header without boot_id (and an entry without boot).
mkdir -p $statedir
{ echo '{"swapbench_journal":2,"pid":4247}'
  echo '{"id":1,"op":"write","path":"/proc/sys/vm/swappiness","original":"'$((was + 7))'","extra":""}'; } >$statedir/journal
"$bin" restore >"$work/r6" 2>&1 && { cat "$work/r6"; fail "restore of a journal without a boot exited 0"; }
[ "$(cat /proc/sys/vm/swappiness)" = "$was" ] || { echo "$was" >/proc/sys/vm/swappiness; fail "an entry of an unknown boot was replayed"; }
grep -q "the boot it was made in is unknown" "$work/r6" || { cat "$work/r6"; fail "the refusal does not say why"; }
grep -q "by hand: echo $((was + 7)) > /proc/sys/vm/swappiness" "$work/r6" || { cat "$work/r6"; fail "no command by hand"; }
"$bin" restore >"$work/r6b" 2>&1 || { cat "$work/r6b"; fail "it was not retired after being shown once"; }
put_back_retired
echo "ok: a header without boot_id replays nothing, says so with the command, once"

# Item 4: a journal linked to a 0600 file holding a shadow-style line.
secret='root:$6$Zx9Qw$S3cr3tHashNobodyMaySee:19700:0:99999:7:::'
printf '%s\n' "$secret" >"$work/shadow"; chmod 0600 "$work/shadow"
ln -s "$work/shadow" $statedir/journal
"$bin" restore >"$work/r7.out" 2>"$work/r7.err" && fail "restore through a journal link exited 0"
grep -q "journal is a symbolic link: refused, never followed" "$work/r7.out" "$work/r7.err" || { cat "$work/r7.out" "$work/r7.err"; fail "not refused as a link"; }
grep -q S3cr3tHash "$work/r7.out" "$work/r7.err" && fail "the secret reached the output"
[ -e $statedir/retired.log ] && grep -q S3cr3tHash $statedir/retired.log && fail "the secret reached retired.log"
rm $statedir/journal
echo "ok: a secret behind a journal link reaches no log and no terminal"

# The folder itself: writable by others, or someone else's, is refused with the fix.
chmod 0777 $statedir
"$bin" "${small[@]}" >"$work/run8" 2>&1 && fail "a run used a folder anyone may write to"
grep -q "chmod 0700 $statedir" "$work/run8" || { cat "$work/run8"; fail "the refusal lacks the fix"; }
"$bin" check >"$work/check8" 2>&1
grep -E "^  state folder +NO .*writable by group and others" "$work/check8" || { cat "$work/check8"; fail "check does not say the folder is unsafe"; }
chmod 0700 $statedir
chown nobody $statedir
"$bin" restore >"$work/r9" 2>&1 && fail "restore used nobody's folder"
grep -q "belongs to nobody" "$work/r9" || { cat "$work/r9"; fail "the refusal does not say why"; }
chown root:root $statedir
"$bin" check >"$work/check9" 2>&1
grep -E "^  state folder +ok +$statedir root:root 0700: root's alone; lock 0600" "$work/check9" || { cat "$work/check9"; fail "check does not show the folder as safe"; }
echo "ok: a folder others may write to, or someone else's, is refused with the fix; check says which"

[ "$(folder)" = "700 root:root" ] || fail "the folder is left $(folder)"
expect_state "$work/before" "after the state folder attacks"
pass "state folder: links refused, foreign entries refused unechoed, nobody locked out (7 attacks)"
