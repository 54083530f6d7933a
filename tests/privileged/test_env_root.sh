#!/usr/bin/env bash
# Issue 19 item 7: environment variables naming a program, a library or a folder a root run writes
# into. `SWAPBENCH_CAPACITY_BIN=/tmp/evil.sh ./swapbench capacity --pid P` ran the script as root.
# Each attack below points a variable at something another user (nobody) can change, or that sits
# directly in /tmp, as root: the evil program touches a marker; the marker must not appear, the
# verb exits 2 naming the variable, and nothing on the machine changes. As nobody the same variable
# is taken (the program runs with nobody's rights only). README.md "Environment variables".
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
top=$(cd "$here/../.." && pwd)
cap="$(dirname "$bin")/swapbench-capacity"

state >"$work/before"
# The attacker's folder, and the marker folder every evil program writes into.
# Inside a root folder nobody may enter (not directly in /tmp), so that what is refused is nobody's
# ownership, not /tmp.
outer=$(mktemp -d /tmp/swapbench-env.XXXXXX)
chmod 0755 "$outer"
evil="$outer/nobody"
mkdir -m 0755 "$evil"
chown nobody: "$evil"
loose=/tmp/swapbench-evil.$$.sh   # a program directly in /tmp, made by root, as in the issue
trap 'kill $victim 2>/dev/null; rm -rf "$outer" "$loose"; [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"' EXIT
marks="$evil/marks"
mkdir "$marks"
chmod 0777 "$marks"

# evil_program PATH NAME: a script that leaves $marks/NAME when it runs (and says who ran it).
evil_program() {
  printf '#!/bin/sh\nid -un >%s/%s\nexit 0\n' "$marks" "$2" >"$1"
  chmod 0755 "$1"
}
evil_program "$loose" loose
evil_program "$evil/evil.sh" nobody-owned
chown nobody: "$evil/evil.sh"
mkdir -m 0755 "$work/open"
evil_program "$work/open/evil.sh" world-writable
chmod 0777 "$work/open/evil.sh"
evil_program "$evil/rootfile.sh" in-nobody-folder   # root's file in nobody's folder: nobody can swap it
ln -s "$loose" "$work/link.sh"

sleep 600 &
victim=$!
attacks=0
# refused NAME MARKER VAR CMD...: CMD (as root) exits 2, its one line names VAR, MARKER is absent.
refused() {
  local name=$1 mark=$2 var=$3
  shift 3
  (cd "$top" && "$@") >"$work/out" 2>"$work/err"
  local rc=$?
  [ $rc -eq 2 ] || { cat "$work/out" "$work/err"; fail "$name: exit $rc, not 2"; }
  grep -q "$var" "$work/err" || { cat "$work/err"; fail "$name: the message does not name $var"; }
  [ ! -e "$marks/$mark" ] || fail "$name: the evil program ran (as $(cat "$marks/$mark"))"
  expect_state "$work/before" "$name"
  attacks=$((attacks + 1))
  pass "$name: $(tail -1 "$work/err" | cut -c1-160)"
}
pycap=(env PYTHONPATH="$top" SWAPBENCH_BIN="$bin" /usr/bin/python3 -m analysis capacity)

# The attack as the issue wrote it, through the front door.
refused "capacity-front-door" loose SWAPBENCH_CAPACITY_BIN \
  env SWAPBENCH_CAPACITY_BIN="$loose" "$top/swapbench" capacity --pid $victim --sample 64
refused "capacity-validate" loose SWAPBENCH_CAPACITY_BIN \
  env SWAPBENCH_CAPACITY_BIN="$loose" "${pycap[@]}" --pid $victim --sample 64 --validate
refused "capacity-nobody-owned" nobody-owned SWAPBENCH_CAPACITY_BIN \
  env SWAPBENCH_CAPACITY_BIN="$evil/evil.sh" "${pycap[@]}" --pid $victim
refused "capacity-world-writable" world-writable SWAPBENCH_CAPACITY_BIN \
  env SWAPBENCH_CAPACITY_BIN="$work/open/evil.sh" "${pycap[@]}" --pid $victim
refused "capacity-in-nobody-folder" in-nobody-folder SWAPBENCH_CAPACITY_BIN \
  env SWAPBENCH_CAPACITY_BIN="$evil/rootfile.sh" "${pycap[@]}" --pid $victim
refused "capacity-symlink" loose SWAPBENCH_CAPACITY_BIN \
  env SWAPBENCH_CAPACITY_BIN="$work/link.sh" "${pycap[@]}" --pid $victim
# The sampler beside SWAPBENCH_BIN, when SWAPBENCH_BIN is another user's.
cp "$evil/evil.sh" "$evil/swapbench-capacity"; chown nobody: "$evil/swapbench-capacity"
refused "capacity-beside-bin" nobody-owned SWAPBENCH_BIN \
  env -u SWAPBENCH_CAPACITY_BIN PYTHONPATH="$top" SWAPBENCH_BIN="$evil/evil.sh" /usr/bin/python3 -m analysis capacity --pid $victim
refused "calibrate-bin" nobody-owned SWAPBENCH_BIN \
  env PYTHONPATH="$top" SWAPBENCH_BIN="$evil/evil.sh" SWAPBENCH_RESULTS_DIR="$work/results" /usr/bin/python3 -m analysis calibrate
refused "matrix-qemu" loose SWAPBENCH_QEMU_AARCH64 \
  env PYTHONPATH="$top/kernels-config:$top" SWAPBENCH_BIN="$bin" SWAPBENCH_QEMU_AARCH64="$loose" \
  /usr/bin/python3 -m kmatrix matrix --kernels debian-6.12
refused "matrix-qemu-x86" loose SWAPBENCH_QEMU_X86_64 \
  env PYTHONPATH="$top/kernels-config:$top" SWAPBENCH_BIN="$bin" SWAPBENCH_QEMU_X86_64="$loose" \
  /usr/bin/python3 -m kmatrix matrix --kernels debian-6.12
refused "matrix-bin-aarch64" nobody-owned SWAPBENCH_BIN_AARCH64 \
  env PYTHONPATH="$top/kernels-config:$top" SWAPBENCH_BIN="$bin" SWAPBENCH_BIN_AARCH64="$evil/evil.sh" \
  /usr/bin/python3 -m kmatrix matrix --kernels debian-6.12
refused "matrix-kernel-cache" none SWAPBENCH_KERNEL_CACHE \
  env PYTHONPATH="$top/kernels-config:$top" SWAPBENCH_BIN="$bin" SWAPBENCH_KERNEL_CACHE="$evil" \
  /usr/bin/python3 -m kmatrix matrix --kernels debian-6.12
refused "history-results-dir" none SWAPBENCH_RESULTS_DIR \
  env PYTHONPATH="$top" SWAPBENCH_RESULTS_DIR="$evil" /usr/bin/python3 -m analysis history
# The C++ binary: folders a root run writes into, named by the environment, checked before anything.
refused "run-results-dir" none SWAPBENCH_RESULTS_DIR env SWAPBENCH_RESULTS_DIR="$evil" "$bin" run --pages 64 --repetitions 1
refused "run-out-twin" none SWAPBENCH_OUT env SWAPBENCH_OUT=/tmp/swapbench-out.$$.json "$bin" run --pages 64 --repetitions 1
refused "run-swap-dir-twin" none SWAPBENCH_SWAP_DIR env SWAPBENCH_SWAP_DIR="$evil" "$bin" run --pages 64 --repetitions 1
[ ! -e /tmp/swapbench-out.$$.json ] || fail "run-out-twin: the result was written"

# PATH: a program the root run starts by name, first found in nobody's folder. The C++ binary's
# mkswap, and the front door's own programs (cmake), are the system's; the run goes on.
for p in mkswap cmake cpio tar find; do evil_program "$evil/$p" "path-$p"; chown nobody: "$evil/$p"; done
PATH="$evil:$PATH" "$bin" run --backend zswap --compressor lzo --pages 64 --repetitions 1 --no-floors \
  --out "$work/path.json" >"$work/out" 2>&1 || { cat "$work/out"; fail "the run with nobody's folder first on PATH failed"; }
[ ! -e "$marks/path-mkswap" ] || fail "path-mkswap: nobody's mkswap ran as root"
expect_state "$work/before" "path-mkswap"
attacks=$((attacks + 1)); pass "path-mkswap: the system's mkswap ran, not the one first on PATH"
PATH="$evil:$PATH" "$top/swapbench" list >"$work/out" 2>"$work/err" || { cat "$work/err"; fail "front door with nobody's PATH folder"; }
[ ! -e "$marks/path-cmake" ] || fail "path-cmake: nobody's cmake ran as root"
grep -q "PATH folders others can change are not searched: $evil" "$work/err" || { cat "$work/err"; fail "path-cmake: not said"; }
attacks=$((attacks + 1)); pass "path-cmake: the front door left nobody's PATH folder out and said so"

# PYTHONPATH: a module named like one the analysis imports (numpy), in nobody's folder.
printf 'import os\nopen("%s/pythonpath", "w").write(str(os.getuid()))\nraise ImportError("evil")\n' "$marks" >"$evil/numpy.py"
chown nobody: "$evil/numpy.py"
PYTHONPATH="$evil" "$top/swapbench" history "$work/none" >"$work/out" 2>"$work/err"
[ ! -e "$marks/pythonpath" ] || fail "pythonpath: nobody's numpy.py was imported as root"
grep -q "PYTHONPATH not passed on" "$work/err" || { cat "$work/err"; fail "pythonpath: not said"; }
attacks=$((attacks + 1)); pass "pythonpath: nobody's module not imported by a root run, and said so"

# As nobody, the variable is taken: the program runs, with nobody's rights.
(cd / && runuser -u nobody -- env PYTHONPATH="$top" SWAPBENCH_CAPACITY_BIN="$evil/evil.sh" \
  /usr/bin/python3 -m analysis capacity --file /etc/hostname) >"$work/out" 2>&1
[ "$(cat "$marks/nobody-owned" 2>/dev/null)" = nobody ] || { cat "$work/out"; fail "as nobody, nobody's own sampler did not run as nobody"; }
pass "as nobody: SWAPBENCH_CAPACITY_BIN is taken (the program runs as nobody)"

expect_state "$work/before" "the end"
pass "$attacks attacks through the environment refused as root; the machine as found"
