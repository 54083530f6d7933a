# Shared by the privileged tests: they run the real binary as root on this machine and check that
# everything the suite borrows is given back.
set -uo pipefail
bin=${1:?usage: test_x.sh path/to/swapbench}
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (fix: run ./swapbench test as root)"; exit 77; }
work=$(mktemp -d /tmp/swapbench-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
py=/usr/bin/python3

# Everything a run may change: swap areas, zswap parameters, the sysctls, cgroups and mounts.
state() {
  echo "== swaps"; tail -n +2 /proc/swaps | awk '{print $1, $2, $5}'
  echo "== zswap"; for f in /sys/module/zswap/parameters/*; do echo "$(basename "$f")=$(cat "$f")"; done
  echo "== sysctl"; echo "page-cluster=$(cat /proc/sys/vm/page-cluster) swappiness=$(cat /proc/sys/vm/swappiness)"
  echo "== cgroups"; find /sys/fs/cgroup -maxdepth 2 -type d -name 'swapbench*' | sort
  echo "== mounts"; awk '$3=="debugfs"||$3=="tracefs"||$3=="cgroup"||$3=="cgroup2"{print $2, $3}' /proc/mounts | sort
  echo "== files"; ls /var/tmp | grep swapbench || true
}

fail() { echo "FAIL: $*"; exit 1; }
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
