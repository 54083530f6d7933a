# A small privileged run of every suite under a sanitizer build: quick, writeback, race,
# calibrate and a two-thread swapin under AddressSanitizer + UndefinedBehaviorSanitizer; the race
# (two threads: the faulting loop and the writeback pressure) and the two-thread swapin (--threads)
# under ThreadSanitizer. Any report ends the run with
# the sanitizer's exit code, and the machine must be back as it was after each run.
source "$(dirname "$0")/../privileged/lib.sh"
kind=${2:?usage: test_suites.sh path/to/swapbench address,undefined|thread}
# halt_on_error: the first report fails the test. The exit code 99 tells a sanitizer's report
# apart from the suite's own statuses (1 hard failure, 2 bad input).
export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:exitcode=99
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=99
export TSAN_OPTIONS=halt_on_error=1:exitcode=99:second_deadlock_stack=1
run=("$bin")
if [[ $kind == thread ]]; then
  # GCC 12's ThreadSanitizer refuses the address layout that 6.x kernels' large mmap randomisation
  # produces ("unexpected memory mapping"); without randomisation it maps its shadow where it expects.
  run=(setarch "$(uname -m)" -R "$bin")
  suites=("race --duration 2 --pages 512" "swapin --pages 512 --repetitions 1 --threads 2")
else
  suites=("quick --pages 256 --repetitions 2"
          "writeback --pages 512 --repetitions 1"
          "race --duration 2 --pages 512"
          "calibrate --pages 256 --repetitions 2"
          "swapin --pages 256 --repetitions 1 --threads 2")
fi
state >"$work/before"
for s in "${suites[@]}"; do
  read -ra args <<<"$s"
  name=${args[0]}
  "${run[@]}" run --suite "${args[@]}" --out "$work/$name.json" >"$work/$name.out" 2>&1
  rc=$?
  [ $rc -eq 0 ] || { tail -n 60 "$work/$name.out"; fail "suite $name under -fsanitize=$kind exited $rc"; }
  grep -q "runtime error\|ERROR: .*Sanitizer\|WARNING: ThreadSanitizer" "$work/$name.out" &&
    { cat "$work/$name.out"; fail "suite $name: a sanitizer report"; }
  [ -s "$work/$name.json" ] || fail "suite $name wrote no result"
  expect_state "$work/before" "after suite $name under -fsanitize=$kind"
  pass "suite $name under -fsanitize=$kind"
done
