# Where a result goes (issue 9, defect 1): a device, FIFO or symlink given as --out is written
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
