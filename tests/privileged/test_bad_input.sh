# Bad input: a clear error naming the input and what would be accepted, exit 2, nothing changed.
source "$(dirname "$0")/lib.sh"
state >"$work/before"
check() {  # expected-substring args...
  local want=$1; shift
  timeout 120 "$bin" run "$@" --out "$work/x.json" >"$work/out" 2>&1
  local rc=$?
  [ $rc -eq 2 ] || { cat "$work/out"; fail "'$*' exited $rc, expected 2 (124: it hung)"; }
  grep -q -- "$want" "$work/out" || { cat "$work/out"; fail "'$*': message lacks '$want'"; }
  [ -f "$work/x.json" ] && fail "'$*' wrote a result"
  echo "ok: $* -> $(head -c 160 "$work/out" | tr '\n' ' ')"
}
check "compressor 'lz5'.*accepted names: lzo" --compressor lz5
check "cpu 99: no such CPU.*accepted: 0" --cpu 99
check "no_such_event" --events no_such_event
check "pages 0: out of range; accepted: 1.." --pages 0
check "MemAvailable is .* MiB" --pages 100000000
check "ratio must be in" --profile ratio99
check "backend 'tape'.*accepted: zswap, disk" --backend tape
check "pattern 'zigzag'.*accepted: seq, random, strided" --pattern zigzag
check "suite 'huge': unknown; accepted: quick, full.*recheck-model" --suite huge
# Values once found late or not at all: each is refused before anything changes.
check "pages -1: out of range" --pages -1
check "repetitions 0: out of range" --repetitions 0
check "repetitions -3: out of range" --repetitions -3
check "cpu -5: no such CPU" --cpu -5
check "duration 'nan'" --suite race --duration nan
check "duration applies only to the race suite" --duration 5
check "cpu 99: no such CPU" --suite recheck-model --cpu 99
check "pages does not apply to suite recheck-model" --suite recheck-model --pages 10
check "swap-dir /etc/passwd is not a folder" --swap-dir /etc/passwd
check "swap-dir /nonexistent-swapbench: No such file" --swap-dir /nonexistent-swapbench
check "swap-device /dev/null is not a block device" --swap-device /dev/null
check "give one" --swap-dir /var/tmp --swap-device /dev/vda
# Issue 19, item 9: a profile file is a regular, readable file of a page or more; /dev/zero was
# taken as endless zero "file" pages, and a FIFO hung the run.
check "profile file '/dev/zero' is a character device; accepted: a regular, readable file" --profile file:/dev/zero
check "profile file '$work' is a folder; accepted" --profile "file:$work"
: >"$work/empty"
check "profile file '$work/empty' is shorter than one page (empty)" --profile "file:$work/empty"
mkfifo "$work/profile-fifo"
check "profile file '$work/profile-fifo' is a FIFO" --profile "file:$work/profile-fifo"
# --out is checked before the run, not after it (where the results used to be lost).
checkout() {  # expected-substring out-path
  "$bin" run --pages 64 --repetitions 1 --out "$2" >"$work/out" 2>&1
  local rc=$?
  [ $rc -eq 2 ] || { cat "$work/out"; fail "--out $2 exited $rc, expected 2"; }
  grep -q -- "$1" "$work/out" || { cat "$work/out"; fail "--out $2: message lacks '$1'"; }
  echo "ok: --out $2 -> $(head -c 160 "$work/out" | tr '\n' ' ')"
}
checkout "does not exist" /nonexistent-swapbench/x.json
checkout "is a folder" "$work"
checkout "kernel interface" /sys/x.json
checkout "kernel interface" /proc/x.json
[ -e /nonexistent-swapbench ] && fail "a missing --out folder was created"
# A compressor the kernel refuses, asked by name: exit 2 naming the accepted ones (the kernel is
# asked, so zswap is borrowed for a moment and given back), not a run of only the disk sets.
refused=""
for c in lz4 zstd 842 lz4hc; do grep -qw "$c" /proc/crypto || { refused=$c; break; }; done
if [ -n "$refused" ]; then
  check "compressor $refused: this kernel refuses it.*it accepts: " --compressor "$refused" --pages 64 --repetitions 1
else
  echo "note: every compressor is in /proc/crypto here; the refused-compressor case is not exercised"
fi
expect_state "$work/before" "after bad input"
pass "bad input refused with clear errors, nothing changed"
