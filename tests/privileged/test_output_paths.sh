# Where a result goes: a device, FIFO or symlink given as --out is written
# through, never replaced by a regular file; a write that fails keeps the result under results/;
# a closed stdout (`| head`) neither kills the run nor leaves the machine changed.
source "$(dirname "$0")/lib.sh"
state >"$work/before"
export SWAPBENCH_RESULTS_DIR="$work/results"
small=(run --backend zswap --compressor lzo --pages 64 --repetitions 1 --no-floors)

"$bin" "${small[@]}" --out /dev/full >"$work/out" 2>&1
rc=$?
[ -c /dev/full ] || { mknod -m 666 /dev/full c 1 7; fail "/dev/full is no longer a character device (recreated)"; }
[ $rc -eq 1 ] || { cat "$work/out"; fail "--out /dev/full exited $rc, expected 1 (the write fails)"; }
grep -q "No space left on device" "$work/out" || { cat "$work/out"; fail "the ENOSPC is not reported"; }
ls "$work"/results/*-unsaved-*.json >/dev/null 2>&1 || { cat "$work/out"; fail "the result was lost, not saved under results/"; }
pass "--out /dev/full: stays a device, exit 1, the result saved as *-unsaved-*.json"

"$bin" "${small[@]}" --out /dev/null >"$work/out" 2>&1 || { rc=$?; cat "$work/out"; fail "--out /dev/null exited $rc"; }
[ -c /dev/null ] || { mknod -m 666 /dev/null c 1 3; fail "/dev/null is no longer a character device (recreated)"; }
pass "--out /dev/null: written through, still a device"

echo old >"$work/target.json"
ln -s "$work/target.json" "$work/link.json"
"$bin" "${small[@]}" --out "$work/link.json" >"$work/out" 2>&1 || { rc=$?; cat "$work/out"; fail "--out symlink exited $rc"; }
[ -L "$work/link.json" ] || fail "the symlink was replaced"
$py -c 'import json,sys; json.load(open(sys.argv[1]))' "$work/target.json" || fail "the symlink's target holds no result"
pass "--out symlink: the link stays, its target holds the result"

mkfifo "$work/fifo"
cat "$work/fifo" >"$work/from-fifo" &
reader=$!
"$bin" "${small[@]}" --out "$work/fifo" >"$work/out" 2>&1 || { rc=$?; cat "$work/out"; kill $reader; fail "--out FIFO exited $rc"; }
wait $reader
[ -p "$work/fifo" ] || fail "the FIFO was replaced"
$py -c 'import json,sys; json.load(open(sys.argv[1]))' "$work/from-fifo" || fail "the reader got no result"
pass "--out FIFO: written through to its reader"

# Issue 19, item 9: a symlink to nothing and a FIFO nobody reads are bad input before the run (they
# were found after the sets ran, or hung for ever), and a reader that stops reading is waited for
# aloud, then given up on with the result saved.
unsaved_before=$(ls "$work"/results/*-unsaved-*.json 2>/dev/null | wc -l)
ln -s "$work/nowhere/r.json" "$work/dangling.json"
timeout 120 "$bin" "${small[@]}" --out "$work/dangling.json" >"$work/out" 2>&1
rc=$?
[ $rc -eq 2 ] || { cat "$work/out"; fail "--out a dangling symlink exited $rc, expected 2 before the run"; }
grep -q "dangling.json is a symlink to nothing ($work/nowhere/r.json); remove it or name its target" "$work/out" \
  || { cat "$work/out"; fail "the dangling symlink is not named"; }
grep -q " sets x " "$work/out" && { cat "$work/out"; fail "sets ran before the dangling symlink was refused"; }
[ -L "$work/dangling.json" ] && [ ! -e "$work/nowhere" ] || fail "the dangling symlink or its target changed"
pass "--out a dangling symlink: exit 2 up front, nothing run"

mkfifo "$work/noreader"
timeout 60 "$bin" "${small[@]}" --out "$work/noreader" >"$work/out" 2>&1
rc=$?
[ $rc -eq 2 ] || { cat "$work/out"; fail "--out a FIFO without a reader exited $rc, expected 2 at once (124: it hung)"; }
grep -q "noreader is a FIFO with no reader; start its reader first" "$work/out" || { cat "$work/out"; fail "not said"; }
grep -q " sets x " "$work/out" && { cat "$work/out"; fail "sets ran before the FIFO was refused"; }
[ -p "$work/noreader" ] || fail "the FIFO was replaced"
[ "$(ls "$work"/results/*-unsaved-*.json 2>/dev/null | wc -l)" -eq "$unsaved_before" ] || fail "a refused run wrote a result"
pass "--out a FIFO without a reader: exit 2 at once, nothing run"

# The reader opens the FIFO, shrinks its buffer to one page and never reads: the result cannot fit.
mkfifo "$work/stalled"
$py - "$work/stalled" <<'PY' &
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_NONBLOCK)
fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, 4096)
time.sleep(600)
PY
stalled=$!
sleep 1
"$bin" "${small[@]}" --out "$work/stalled" >"$work/out" 2>&1 &
runner=$!
for _ in $(seq 1 180); do grep -q "waiting for the reader of $work/stalled" "$work/out" && break; sleep 1; done
grep -q "waiting for the reader of $work/stalled to take the result (4096 of [0-9]* bytes written); giving up after 600 s" "$work/out" \
  || { kill $runner $stalled; cat "$work/out"; fail "a reader that takes nothing is waited on silently"; }
kill $stalled; wait $stalled 2>/dev/null
wait $runner
rc=$?
[ $rc -eq 1 ] || { cat "$work/out"; fail "the stalled reader's run exited $rc, expected 1"; }
grep -q "saved as .*-unsaved-.*json instead" "$work/out" || { cat "$work/out"; fail "the result was not saved"; }
pass "--out a FIFO whose reader stops: said after 10 s; when the reader goes, exit 1 and the result saved"

# Issue 19, same class as item 2: a symlink another user planted where root's result goes. Followed,
# it replaced a root 0600 file with the result (mode 0644). As root it is refused before the run,
# and the file it points at keeps its content and mode; the same for analysis's outputs.
top=$(cd "$(dirname "$0")/../.." && pwd)
chmod 0711 "$work"  # nobody may reach its own folder inside, nothing else
mkdir "$work/nobodys" && chown nobody "$work/nobodys"
echo "root:secret-hash:19000::::::" >"$work/rootfile" && chmod 0600 "$work/rootfile"
runuser -u nobody -- ln -s "$work/rootfile" "$work/nobodys/res.json"
"$bin" "${small[@]}" --out "$work/nobodys/res.json" >"$work/out" 2>&1
rc=$?
[ $rc -eq 2 ] || { cat "$work/out"; fail "--out through nobody's symlink exited $rc, expected 2"; }
grep -q "another user's link" "$work/out" || { cat "$work/out"; fail "the refusal does not say why"; }
grep -q "secret-hash" "$work/rootfile" && [ "$(stat -c %a "$work/rootfile")" = 600 ] \
  || fail "the file behind nobody's link was changed: $(stat -c %a "$work/rootfile") $(head -c 60 "$work/rootfile")"
PYTHONPATH="$top" $py -m analysis compare "$top/analysis/tests/fixtures/quick-a.json" "$top/analysis/tests/fixtures/quick-a.json" \
  --json "$work/nobodys/res.json" >"$work/out" 2>&1
rc=$?
[ $rc -eq 2 ] || { cat "$work/out"; fail "compare --json through nobody's symlink exited $rc, expected 2"; }
grep -q "secret-hash" "$work/rootfile" || fail "compare --json wrote through nobody's link"
ln -s "$work/target.json" "$work/rootlink.json"
"$bin" "${small[@]}" --out "$work/rootlink.json" >"$work/out" 2>&1 || { rc=$?; cat "$work/out"; fail "--out root's own symlink exited $rc"; }
pass "--out (run, compare --json) through another user's symlink: exit 2, its target untouched; root's own link still followed"

# `true` exits at once: the summary, written seconds later, meets a pipe with no reader (EPIPE),
# as `| head -3` does once head has its lines. (head itself can race: a short summary may fit in the
# pipe's buffer before head exits.)
"$bin" "${small[@]}" --out "$work/piped.json" 2>"$work/err" | true
rc=${PIPESTATUS[0]}
[ $rc -eq 141 ] && fail "SIGPIPE killed the run (exit 141)"
[ -s "$work/piped.json" ] || { cat "$work/err"; fail "a closed stdout lost the result"; }
grep -q "could not be written to standard output" "$work/err" || { cat "$work/err"; fail "the closed stdout is not reported"; }
expect_state "$work/before" "after runs into devices, a FIFO, a symlink and a closed pipe"
pass "stdout closed early: exit $rc (not 141), result written, machine restored"
