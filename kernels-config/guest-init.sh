#!/bin/busybox sh
# /init of a swapbench guest. Runs inside QEMU only: mounts what the suite needs, loads the modules
# in the order the host resolved, runs the suite with the host's arguments swapping on /dev/vda,
# optionally traces the swap path with ftrace in a second, separate pass (tracing inflates every
# fault, so the timed run is never traced), writes everything to /dev/vdb as a tar the host
# unpacks, and powers off. Settings come from /etc/swapbench/* (a small cpio the host appends).
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "swapbench-guest: up $(cut -d' ' -f1 /proc/uptime)"
setting() { cat "/etc/swapbench/$1" 2>/dev/null; }
# Guest seconds since boot on each step's line: a crash's printk time then says which step it hit.
up() { cut -d' ' -f1 /proc/uptime; }
if [ "$(setting mode)" = probe ]; then poweroff -f; fi
# cgroup v2 with the memory controller for the workload's cgroup (6.12 has no v1 at all).
mount -t cgroup2 cgroup2 /sys/fs/cgroup && echo +memory > /sys/fs/cgroup/cgroup.subtree_control
for m in $(cat /modules/order); do
  insmod "/modules/$m.ko" 2>/tmp/insmod.err || echo "swapbench-guest: insmod $m: $(cat /tmp/insmod.err)"
done
i=0
while [ ! -b /dev/vdb ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -b /dev/vda ] || echo "swapbench-guest: no /dev/vda (virtio-blk missing?)"
# gate NAME CMD...: an emulator self-test, run before anything is measured. Its report and exit
# code go to /results/NAME-gate[-rc]; exit 77 is "does not apply here". Any other failure stops the
# guest at once: the host then reports an emulator fault, never a kernel result.
gate() {
  local name=$1
  shift
  "$@" >"/results/$name-gate" 2>&1
  echo $? >"/results/$name-gate-rc"
  echo "swapbench-guest: $name gate $(head -n 1 "/results/$name-gate")"
  case "$(cat "/results/$name-gate-rc")" in
    0|77) ;;
    *) echo 1 >/results/rc
       cd /results && tar -cf /dev/vdb . && sync
       echo "swapbench-guest: done"
       poweroff -f ;;
  esac
}
# The cmpxchg16b flags gate (x86-64 guests), before anything else runs: QEMU before 8.0 computes
# cmpxchg16b's flags under TCG from a stale state, which double-faults the kernel's SLUB at random.
# If it fails, nothing else runs and the host reports an emulator fault (kmatrix/gates.py).
# A capacity guest's /bin/swapbench is the sampler, which has no such verb: its QEMU is judged by
# version on the host.
if [ "$(uname -m)" = x86_64 ] && [ "$(setting mode)" != capacity ]; then
  gate cx16 /bin/swapbench cx16-selftest
fi
if [ "$(setting mode)" = capacity ]; then
  # capacity --validate (kmatrix/capacity.py): /bin/swapbench is swapbench-capacity in this guest,
  # given its arguments as they are; the pages came in the boot's archive.
  export SWAPBENCH_ACCELERATOR="$(setting accel)"
  ( /bin/swapbench $(setting args) --out /results/result.json; echo $? >/results/rc ) 2>&1 | tee /results/log
  dmesg >/results/dmesg
  cd /results && tar -cf /dev/vdb . && sync
  echo "swapbench-guest: done"
  poweroff -f
fi
if [ "$(setting mode)" = kallsyms ]; then
  # The count pass's function ranges: every symbol with its address, modules loaded as in a counted
  # boot (same order, nokaslr: the same addresses). Sorted here so the host reads it in one pass.
  sort /proc/kallsyms >/results/kallsyms
  echo 0 >/results/rc
  cd /results && tar -cf /dev/vdb . && sync
  echo "swapbench-guest: done"
  poweroff -f
fi
# The MTE gate (arm64 guests): before anything swaps, tags written to a PROT_MTE region must read
# back unchanged. If they do not, the emulator is at fault: nothing else runs, and the host reports
# an emulator fault, never a kernel result. Exit 77: MTE unavailable (the reason is in the file).
if [ "$(setting mte_gate)" = 1 ]; then
  gate mte /bin/swapbench mte-selftest
fi
export SWAPBENCH_ACCELERATOR="$(setting accel)"
args="$(setting args)"
echo "swapbench-guest: run at $(up) s: $args"
( /bin/swapbench run $args --swap-device /dev/vda --out /results/result.json; echo $? >/results/rc ) 2>&1 | tee /results/log
echo "swapbench-guest: timed run ended at $(up) s"

funcs="$(setting ftrace)"
if [ -n "$funcs" ]; then
  t=/sys/kernel/tracing
  mount -t tracefs tracefs $t 2>/dev/null
  : >/results/ftrace-functions
  for f in $funcs; do
    grep -qx "$f" $t/available_filter_functions && echo "$f" >>/results/ftrace-functions
  done
  # The baseline: the first getppid entry point this kernel lets ftrace trace.
  grep -E 'getppid' $t/available_filter_functions >/results/ftrace-baseline-candidates
  for f in __x64_sys_getppid __arm64_sys_getppid __do_sys_getppid __ia32_sys_getppid; do
    if grep -qx "$f" $t/available_filter_functions; then echo "$f" >/results/ftrace-baseline; break; fi
  done
  cat /results/ftrace-baseline >>/results/ftrace-functions 2>/dev/null
  echo nop >$t/current_tracer
  cat /results/ftrace-functions >$t/set_ftrace_filter
  echo 32768 >$t/buffer_size_kb
  echo 1 >$t/options/funcgraph-tail
  echo function_graph >$t/current_tracer
  : >$t/trace
  echo "swapbench-guest: ftrace pass at $(up) s on $(tr '\n' ' ' </results/ftrace-functions)"
  ( /bin/swapbench run $(setting ftrace_args) --swap-device /dev/vda --out /results/ftrace-run.json; echo $? >/results/ftrace-rc ) >/results/ftrace-log 2>&1
  # The empty-call baseline: getppid does next to nothing, so its traced duration is the tracer's own cost.
  /bin/swapbench getppid-loop 20000
  echo 0 >$t/tracing_on
  cp $t/trace /results/trace
  echo nop >$t/current_tracer
  # A second traced pass for the writeback path alone (its functions only), so the swap-in
  # distributions above stay swap-in only.
  wbf="$(setting ftrace_wb)"
  if [ -n "$wbf" ]; then
    : >/results/ftrace-wb-functions
    for f in $wbf; do
      grep -qx "$f" $t/available_filter_functions && echo "$f" >>/results/ftrace-wb-functions
    done
    cat /results/ftrace-baseline >>/results/ftrace-wb-functions 2>/dev/null
    cat /results/ftrace-wb-functions >$t/set_ftrace_filter
    echo function_graph >$t/current_tracer
    : >$t/trace
    echo 1 >$t/tracing_on
    echo "swapbench-guest: ftrace writeback pass at $(up) s on $(tr '\n' ' ' </results/ftrace-wb-functions)"
    ( /bin/swapbench run $(setting ftrace_wb_args) --swap-device /dev/vda --out /results/ftrace-wb-run.json; echo $? >/results/ftrace-wb-rc ) >/results/ftrace-wb-log 2>&1
    /bin/swapbench getppid-loop 20000
    echo 0 >$t/tracing_on
    cp $t/trace /results/trace-writeback
    echo nop >$t/current_tracer
  fi
fi
# The lock contention pass (kmatrix/contention.py), after the timed run and never during it: the
# spin-lock slow path's entry point traced with a kernel stack per call. The slow path is entered
# only when the fast path's cmpxchg finds the lock taken, so each call is one contended acquisition,
# whichever way the kernel then waits (pending bit, MCS queue, or a hypervisor guest's test-and-set);
# the caller chain tells which lock it was. Nothing else is traced, so an uncontended lock costs what
# it always does. The load: `contention_workers` loaders in one memory cgroup below their total,
# each writing compressible pages to its own tmpfs file and reading them back, so stores, loads and
# swap-slot allocation and freeing meet on one swap device and one zswap tree.
contention_pass() {
  local t=/sys/kernel/tracing n i
  mount -t tracefs tracefs $t 2>/dev/null
  : >/results/contention-functions
  for f in $(setting contention); do
    grep -qx "$f" $t/available_filter_functions && echo "$f" >>/results/contention-functions
  done
  if [ ! -s /results/contention-functions ]; then
    echo "none of $(setting contention) is in available_filter_functions" >/results/contention-skip
    return
  fi
  swapon /dev/vda 2>/dev/null || { mkswap /dev/vda >/dev/null && swapon /dev/vda; } \
    || { echo "swapon /dev/vda failed" >/results/contention-skip; return; }
  echo "$(setting contention_compressor)" >/sys/module/zswap/parameters/compressor
  echo 1 >/sys/module/zswap/parameters/enabled
  mkdir -p /sys/fs/cgroup/contention /tmp/contention
  mount -t tmpfs tmpfs /tmp/contention
  # Compressible, not zero-filled (6.12 keeps zero pages out of zswap), made once outside the
  # cgroup: a pipe in the loop would add the pipe's own wait-queue lock to what is measured.
  yes "swapbench contention loader" | head -c "$(setting contention_bytes)" >/tmp/contention-template
  echo "$(setting contention_limit)" >/sys/fs/cgroup/contention/memory.max
  echo nop >$t/current_tracer
  cat /results/contention-functions >$t/set_ftrace_filter
  echo 16384 >$t/buffer_size_kb
  echo 1 >$t/options/func_stack_trace
  : >$t/trace
  echo function >$t/current_tracer
  # The ftrace pass before this one ends with tracing off.
  echo 1 >$t/tracing_on
  cat /proc/vmstat >/results/contention-vmstat-before
  up >/results/contention-started
  echo "swapbench-guest: contention pass at $(up) s: $(setting contention_workers) loaders, $(setting contention_loops) loops"
  n=$(setting contention_workers)
  i=0
  while [ $i -lt "$n" ]; do
    sh -c 'echo $$ >/sys/fs/cgroup/contention/cgroup.procs; j=0
      while [ $j -lt "$2" ]; do
        cp /tmp/contention-template /tmp/contention/load$1
        cat /tmp/contention/load$1 >/dev/null; j=$((j + 1))
      done; rm -f /tmp/contention/load$1' loader $i "$(setting contention_loops)" &
    i=$((i + 1))
  done
  wait
  echo 0 >$t/tracing_on
  cat /proc/vmstat >/results/contention-vmstat-after
  echo "$(up)" >/results/contention-ended
  cp $t/trace /results/trace-contention
  echo 0 >$t/options/func_stack_trace
  echo nop >$t/current_tracer
  swapoff /dev/vda 2>/dev/null
  rm -f /tmp/contention-template
  echo "swapbench-guest: contention pass ended at $(up) s"
}
[ -n "$(setting contention)" ] && contention_pass

cut -d' ' -f1 /proc/uptime >/results/uptime
cat /sys/devices/system/cpu/online >/results/cpus-online
dmesg >/results/dmesg
cd /results && tar -cf /dev/vdb . && sync
echo "swapbench-guest: done"
poweroff -f
