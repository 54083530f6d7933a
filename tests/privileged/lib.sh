# Shared by the privileged tests: they run the real binary as root on this machine and check that
# everything the suite borrows is given back.
set -uo pipefail
bin=${1:?usage: test_x.sh path/to/swapbench}
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (fix: run ./swapbench test as root)"; exit 77; }
work=$(mktemp -d /tmp/swapbench-test.XXXXXX)
trap '[ -n "${KEEP_WORK:-}" ] || rm -rf "$work"' EXIT
py=/usr/bin/python3

# Everything a run may change: swap areas, zswap parameters, the sysctls, cgroups and mounts.
state() {
  echo "== swaps"; tail -n +2 /proc/swaps | awk '{print $1, $2, $5}'
  echo "== zswap"; for f in /sys/module/zswap/parameters/*; do echo "$(basename "$f")=$(cat "$f")"; done
  echo "== sysctl"; echo "page-cluster=$(cat /proc/sys/vm/page-cluster) swappiness=$(cat /proc/sys/vm/swappiness)"
  echo "== cgroups"; find /sys/fs/cgroup -maxdepth 2 -type d -name 'swapbench*' | sort
  echo "== mounts"; awk '$3=="debugfs"||$3=="tracefs"||$3=="cgroup"||$3=="cgroup2"{print $2, $3}' /proc/mounts | sort
  echo "== files"; find /var/tmp /var/lib/swapbench/swap -maxdepth 1 -name "swapbench*" 2>/dev/null | sort
  echo "== loops"; losetup -a 2>/dev/null | sort
  # Every zram device with what would show it was touched (zram0, the machine's own, included).
  echo "== zram"; for d in /sys/block/zram*; do
    [ -e "$d/diskseq" ] && echo "$(basename "$d") diskseq=$(cat "$d/diskseq") initstate=$(cat "$d/initstate")" \
      "disksize=$(cat "$d/disksize") comp=$(cat "$d/comp_algorithm")"
  done
  # The lock file, the boot values and the swap files' folder stay by design (they describe no
  # change; the swap files in it are listed above); a journal, its
  # temporary or a retired.log left behind is a run the suite did not finish giving back.
  echo "== state"; ls /var/lib/swapbench 2>/dev/null | grep -v -x -e lock -e boot-values.json -e swap || true
}

statedir=/var/lib/swapbench

# Waits until the machine is as in $1 (a crash's restore runs after the process ends), at most $2 s.
wait_for_state() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    state >"$work/now"
    diff -q "$1" "$work/now" >/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# A journal as a killed run of this boot (or of the boot given as $2) would leave it: header, then
# the entry lines from stdin. Refuses to overwrite a real one.
plant_journal() {  # $1 = pid to name, [$2 = boot id]
  [ -e $statedir/journal ] && fail "a journal already exists in $statedir: restore it first"
  mkdir -p $statedir
  { echo "{\"swapbench_journal\":2,\"pid\":$1,\"boot_id\":\"${2:-$(cat /proc/sys/kernel/random/boot_id)}\"}"; cat; } \
    >$statedir/journal
}

# run_suite RESULT ARGS...: "$bin" run ARGS --out RESULT, output in $work/out. Another reclaimer on
# this machine (a DAMON pageout scheme, seen on a cloud VM) can push a set's machine-wide count a few
# pages above its region's (seen: zswpout 8193 and pswpout 8200 of 8192); the suite marks such a set
# invalid and names the reclaimer (workloads/proof/reclaimers.h). When every invalid set is that, and only
# then, the run is repeated once, saying so: these tests are about the suite, not the neighbour. A
# second disturbance, or any other invalid set, reaches the test's checks, which fail on it.
run_suite() {
  local result=$1
  shift
  "$bin" run "$@" --out "$result" >"$work/out" 2>&1 || return $?
  $py - "$result" <<'PY' || return 0
import json, sys
r = json.load(open(sys.argv[1]))
bad = [b["swapbench"]["invalid_reason"] or "" for b in r["benchmarks"]
       if b.get("run_type") == "iteration" and not b["swapbench"]["valid"]]
sys.exit(0 if bad and all("another reclaimer pages memory out" in x for x in bad) else 1)
PY
  echo "note: another reclaimer disturbed a set's counts (below); running once more"
  grep "another reclaimer" "$work/out" | head -3
  "$bin" run "$@" --out "$result" >"$work/out" 2>&1
}

fail() { echo "FAIL: $*"; exit 1; }

# Guest tests whose subject is the suite run the matrix with --retry-crash. Its exit $1 (output in
# $2) passes if 0, or if 1 and every finding it printed is a stock kernel's crash whose boot, booted
# again, gave a result: that crash is printed here and stays in the result (failed_boots). Any failed
# boot keeps the test's folder (KEEP_WORK), where the matrix saved its console.
matrix_passed_or_retried() {
  grep '^infrastructure failure, retried' "$2"   # booted again fine: never the kernel's, said all the same
  [ "$1" -eq 0 ] && return 0
  KEEP_WORK=1
  grep '^HARD FAILURE\|^INFRASTRUCTURE FAILURE' "$2" >"$work/findings"
  [ "$1" -eq 1 ] && [ -s "$work/findings" ] && ! grep -qv 'the kernel crashed: .*; its retry booted fine' "$work/findings" \
    || return 1
  echo "NOTE: a stock kernel crashed and was booted again (in the result's failed_boots; consoles kept in $work):"
  cat "$work/findings"
}
pass() { echo "PASS: $*"; }

expect_state() {  # $1 = file with the state before
  state >"$work/after"
  diff -u "$1" "$work/after" >"$work/diff" || { cat "$work/diff"; fail "machine state differs from before ($2)"; }
}

# Waits until a run has borrowed the machine (its cgroup exists), at most $1 seconds.
wait_for_borrow() {
  local i
  for ((i = 0; i < $1 * 10; i++)); do
    find /sys/fs/cgroup -maxdepth 2 -type d -name 'swapbench*' | grep -q . && return 0
    sleep 0.1
  done
  return 1
}
