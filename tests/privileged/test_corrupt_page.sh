# A page that comes back wrong is a hard failure naming the page, the expected and the found stamp.
# (--test-corrupt-page damages page 5 after swap-in, before the check: it tests the detector.)
source "$(dirname "$0")/lib.sh"
state >"$work/before"
"$bin" run --backend zswap --compressor lzo --pages 512 --repetitions 1 --no-floors --test-corrupt-page 5 \
  --out "$work/r.json" >"$work/out" 2>&1
rc=$?
[ $rc -eq 1 ] || { cat "$work/out"; fail "a corrupted page must make the run exit 1, got $rc"; }
grep -q "HARD FAILURE" "$work/out" || fail "no HARD FAILURE line"
grep -E "page 5 at 0x[0-9a-f]+: body corrupted.*expected \{index 5, generation [0-9]+.*found \{index 5" "$work/out" \
  || { cat "$work/out"; fail "the failure does not name page 5 with expected and found stamps"; }
$py -c "
import json,sys; r=json.load(open('$work/r.json'))
bad=[b for b in r['benchmarks'] if b['run_type']=='iteration' and b['swapbench']['kind']=='swapin']
assert bad and all(b['error_occurred'] and not b['swapbench']['valid'] and b['swapbench']['stamps']['failed']==1 for b in bad), bad
" || fail "the result does not carry the failure"
expect_state "$work/before" "after a failed run"
pass "corrupted page caught and named; result written; machine restored"
