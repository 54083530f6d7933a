# Bad input: a clear error naming the input and what would be accepted, exit 2, nothing changed.
source "$(dirname "$0")/lib.sh"
state >"$work/before"
check() {  # expected-substring args...
  local want=$1; shift
  "$bin" run "$@" --out "$work/x.json" >"$work/out" 2>&1
  local rc=$?
  [ $rc -eq 2 ] || { cat "$work/out"; fail "'$*' exited $rc, expected 2"; }
  grep -q -- "$want" "$work/out" || { cat "$work/out"; fail "'$*': message lacks '$want'"; }
  [ -f "$work/x.json" ] && fail "'$*' wrote a result"
  echo "ok: $* -> $(head -c 160 "$work/out" | tr '\n' ' ')"
}
check "compressor 'lz5'.*accepted names: lzo" --compressor lz5
check "cpu 99: no such CPU; this machine has CPUs 0.." --cpu 99
check "no_such_event" --events no_such_event
check "pages 0" --pages 0
check "MemAvailable is .* MiB" --pages 100000000
check "ratio must be in" --profile ratio99
check "backend 'tape'.*accepted: zswap, disk" --backend tape
check "pattern 'zigzag'.*accepted: seq, random, strided" --pattern zigzag
check "unknown suite 'huge'.*accepted: quick, full" --suite huge
expect_state "$work/before" "after bad input"
pass "bad input refused with clear errors, nothing changed"
