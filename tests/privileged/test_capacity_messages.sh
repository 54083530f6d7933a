#!/usr/bin/env bash
# Issue 19 item 10: capacity's messages, through the Python front as a user meets them. Each refusal
# exits 2 with one line naming the input and the real reason: a 0-byte --file (was exit 0 with nan
# ratios), a folder that is not a cgroup but holds a file named cgroup.procs (was accepted), a
# kernel thread (was "the process ended"), PID 1 as root (was "run as root"), and the sampler's
# refusals (were two lines: its own and "the sampler refused its input (above)").
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
top=$(cd "$here/../.." && pwd)
cap="$(dirname "$bin")/swapbench-capacity"
state >"$work/before"
attacks=0

capacity() { (cd "$top" && SWAPBENCH_CAPACITY_BIN="$cap" PYTHONPATH="$top" $py -m analysis capacity "$@") \
               >"$work/out" 2>"$work/err"; }
# one_line NAME RC TEXT: the verb exited RC with exactly one line on stderr holding TEXT, no nan.
one_line() {
  local name=$1 want=$2 text=$3 rc=$4
  [ "$rc" -eq "$want" ] || { cat "$work/out" "$work/err"; fail "$name: exit $rc, not $want"; }
  [ "$(wc -l <"$work/err")" -eq 1 ] || { cat "$work/err"; fail "$name: $(wc -l <"$work/err") lines on stderr, not one"; }
  grep -qF -- "$text" "$work/err" || { cat "$work/err"; fail "$name: the message lacks '$text'"; }
  ! grep -qw nan "$work/out" || fail "$name: nan printed"
  attacks=$((attacks + 1))
  pass "$name: $(cat "$work/err")"
}

: >"$work/empty"
capacity --file "$work/empty"; one_line "0-byte --file" 2 "$work/empty is empty: nothing to estimate" $?

mkdir "$work/fakecg"; echo $$ >"$work/fakecg/cgroup.procs"
capacity --cgroup "$work/fakecg"; one_line "--cgroup not a cgroup" 2 "$work/fakecg: not a cgroup" $?

capacity --pid 2; one_line "--pid 2 (kthreadd)" 2 "--pid 2 is a kernel thread (kthreadd): it has no user pages" $?

# PID 1 as root: sampled, or refused with the real reason, never "run as root" (this is root).
capacity --pid 1 --sample 64; rc=$?
if [ $rc -eq 0 ]; then
  attacks=$((attacks + 1)); pass "--pid 1 as root: sampled"
else
  one_line "--pid 1 as root" 2 "although it runs as root with CAP_SYS_PTRACE" $rc
  ! grep -q "run as root" "$work/err" || fail "--pid 1 as root: told to run as root"
fi

capacity --pid 999999999; one_line "no such process" 2 "--pid 999999999: no such process" $?
head -c 200 /etc/services >"$work/core"
capacity --core "$work/core"; one_line "non-ELF core" 2 "not an ELF file" $?
capacity --file "$work"; one_line "a folder as --file" 2 "not a regular file" $?

# The same classes one step on: a process whose only pages are swapped out or absent, and a file
# of zero pages read whole, are "nothing to estimate", never nan.
head -c 4096 /dev/zero >"$work/zeros"
capacity --file "$work/zeros" --all --bootstrap 10
[ $? -eq 0 ] && ! grep -qw nan "$work/out" || { cat "$work/out" "$work/err"; fail "a file of zero pages printed nan"; }
attacks=$((attacks + 1)); pass "a page of zeros: figures without nan"

expect_state "$work/before" "capacity's refusals"
pass "$attacks capacity messages: exit 2, one line, the real reason; nothing changed"
