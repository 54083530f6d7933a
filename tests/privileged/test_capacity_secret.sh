#!/usr/bin/env bash
# Issue 19 item 6: `capacity --pid P --sample 256 --validate` copies P's pages to validate them; a
# SIGTERM or kill -9 once left them in /tmp/swapbench-capacity-*/pages.raw (683 hits of a secret).
# A helper process holds a random secret in its pages (it never touches a file); capacity runs on
# it and ends normally, by SIGTERM or kill -9 of the Python front or of the C++ sampler, at several
# points. After each: no file under /tmp, /var/tmp, the state folder or the test's results, nor
# stdout or stderr, holds the secret; the machine is given back (by the sampler itself, or by
# `swapbench restore` after a kill -9 of the sampler, as documented).
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
cap="$(dirname "$bin")/swapbench-capacity"
top=$(cd "$here/../.." && pwd)
[ -d /sys/module/zswap ] || { echo "SKIP: no zswap in this kernel (fix: a kernel with CONFIG_ZSWAP)"; exit 77; }

state >"$work/before"
secret="swapbench-secret-$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')"
mkdir -p "$work/results"

# 4096 pages, each the secret and the page's number over and over (compressible, not same-filled),
# in one anonymous mapping. The secret arrives on stdin: no file and no command line holds it.
printf '%s' "$secret" | $py -c '
import mmap, sys, time
s = sys.stdin.read().encode()
m = mmap.mmap(-1, 4096 * 4096)
for i in range(4096):
    unit = s + b" page %d " % i
    m[i * 4096:(i + 1) * 4096] = (unit * (4096 // len(unit) + 1))[:4096]
print("ready", flush=True)
time.sleep(900)' >"$work/helper.log" &
helper=$!
trap 'kill $helper 2>/dev/null; [ -z "${old:-}" ] || rm -rf "$old"; [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"' EXIT
for _ in $(seq 100); do grep -q ready "$work/helper.log" && break; sleep 0.1; done
grep -q ready "$work/helper.log" || fail "the helper did not start"

attacks=0
# Files holding the secret, outside the helper's memory. Special files are skipped (a FIFO would
# block); a file that vanishes while it is read is no hit.
hits() {
  grep -rlaF --devices=skip -- "$secret" /tmp /var/tmp /var/lib/swapbench "$work/results" 2>/dev/null | sort -u
}

# The search must be able to fail: a file holding the secret is found (then removed).
printf 'x%sx' "$secret" >"$work/results/control"
[ "$(hits)" = "$work/results/control" ] || fail "the search for the secret does not find it in $work/results/control"
rm -f "$work/results/control"

start() {  # capacity in the background; $front its PID, its output in $work/out.$1
  (cd "$top" && exec env SWAPBENCH_CAPACITY_BIN="$cap" PYTHONPATH="$top" SWAPBENCH_RESULTS_DIR="$work/results" \
     $py -m analysis capacity --pid $helper --sample 256 --seed 5 --validate --bootstrap 10 \
     --json "$work/results/pred.$1.json") >"$work/out.$1" 2>&1 &
  front=$!
}

sampler_of() {  # the sampler the front started (its child), waiting up to 10 s for it
  local s
  for _ in $(seq 100); do
    s=$(pgrep -P "$1" | head -1)
    [ -n "$s" ] && { echo "$s"; return 0; }
    sleep 0.1
  done
  return 1
}

finish() {  # $1 = name, $2 = restore (1: the sampler was killed with the machine borrowed)
  local found
  found=$(hits; grep -laF -- "$secret" "$work"/out.* 2>/dev/null)
  [ -z "$found" ] || fail "$1: the secret is in: $found"
  if [ "$2" = 1 ]; then
    "$bin" restore >"$work/restore.$1" 2>&1 || { cat "$work/restore.$1"; fail "$1: restore failed"; }
  fi
  wait_for_state "$work/before" 30 || expect_state "$work/before" "$1"
  [ -z "$(hits)" ] || fail "$1: the secret is in: $(hits)"
  attacks=$((attacks + 1))
  pass "$1: no page contents left on disk or in the output"
}

# 1. Ends normally: the prediction and the validation printed, nothing left. Its validation's
#    length sets "midway" below: half of it after the machine was borrowed. A folder an earlier
#    version left (/tmp/swapbench-capacity-*/pages.raw, what the issue found) is removed by it.
old=$(mktemp -d /tmp/swapbench-capacity-XXXXXXXX)
printf 'x%sx' "$secret" >"$old/pages.raw"
start normal
wait_for_borrow 60 || fail "normal: the validation never borrowed the machine"
t0=$(date +%s.%N)
wait $front; rc=$?
midway=$(echo "$t0 $(date +%s.%N)" | awk '{printf "%.2f", ($2 - $1) / 2}')
[ $rc -eq 0 ] || { cat "$work/out.normal"; fail "capacity --validate failed ($rc)"; }
grep -q "validation:" "$work/out.normal" || { cat "$work/out.normal"; fail "no validation printed"; }
[ ! -e "$old" ] || { rm -rf "$old"; fail "normal: an earlier version's page folder was left in place"; }
grep -q "removing $old: an earlier capacity left another process's pages there" "$work/out.normal" || \
  fail "normal: the earlier version's page folder was removed without saying so"
# The sample held the helper's pages (4096 of its present pages hold the secret): what was
# validated, and what a leak would have left, is the secret.
$py -c 'import json, sys; s = json.load(open(sys.argv[1]))["sources"][0]; sys.exit(s["sampled_pages"] < 200)' \
  "$work/results/pred.normal.json" || fail "normal: fewer than 200 of the helper's pages sampled"
finish normal 0

# 2. SIGTERM to the front while its sampler reads the pages, and while it validates (the machine
#    borrowed: zswap, then zram): it passes the signal on, waits, and says so in one line.
for when in sampling borrowed midway; do
  start "term-$when"
  case $when in
    sampling) sleep 0.3 ;;
    borrowed) wait_for_borrow 60 || fail "term-$when: the validation never borrowed the machine" ;;
    midway) wait_for_borrow 60 && sleep "$midway" ;;
  esac
  kill -0 $front 2>/dev/null || fail "term-$when: capacity ended before the signal (the test's timing)"
  kill -TERM $front
  wait $front; rc=$?
  [ $rc -ne 0 ] || [ $when = sampling ] || fail "term-$when: exit 0 after SIGTERM"
  finish "term-$when" 0
done

# 3. kill -9 of the front while it validates: its sampler finishes alone; nothing on disk.
start kill-front
wait_for_borrow 60 || fail "kill-front: no borrow"
sampler=$(sampler_of $front) || fail "kill-front: no sampler"
kill -KILL $front
wait $front 2>/dev/null
for _ in $(seq 600); do kill -0 "$sampler" 2>/dev/null || break; sleep 0.1; done
finish kill-front 0

# 4. SIGTERM and kill -9 of the sampler itself while it validates.
for sig in TERM KILL; do
  start "sampler-$sig"
  wait_for_borrow 60 || fail "sampler-$sig: no borrow"
  sampler=$(sampler_of $front) || fail "sampler-$sig: no sampler"
  sleep 1
  kill -$sig "$sampler"
  wait $front; rc=$?
  [ $rc -ne 0 ] || fail "sampler-$sig: the front exited 0 although its sampler was killed"
  # One line from the front at most, naming what happened.
  [ "$(grep -c '^swapbench capacity:' "$work/out.sampler-$sig")" -le 1 ] || { cat "$work/out.sampler-$sig"; fail "sampler-$sig: more than one line"; }
  finish "sampler-$sig" $([ $sig = KILL ] && echo 1 || echo 0)
done

kill $helper 2>/dev/null
pass "$attacks ends of capacity --validate (normal, SIGTERM x3, kill -9 of the front, SIGTERM and kill -9 of the sampler): no secret on disk or in the output, machine restored"
