// The counters every standard workload (usemem, swap-w, a kernel build) records around itself, in
// the terms mm-list cover letters use: vmstat swap deltas, the workload cgroup's zswap and swap
// usage, PSI memory stall time, per-order mTHP swap counters, and the configuration they ran under.
// Every reader takes a SysOps so unit tests read a fixture tree; nothing here writes.
// A counter the kernel does not have is recorded as absent (null, with the reason), never as 0:
// "zswpwb 0" on a kernel without zswpwb would claim writeback was looked for and not found.
#pragma once
#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "workloads/measure/kstat.h"
#include "workloads/system/memcg.h"
#include "workloads/system/sysroot.h"

namespace swapbench {

// The vmstat swap counters a workload result always names, present or not.
extern const std::vector<std::string> kWorkloadVmstatKeys;

// One PSI file (/proc/pressure/memory, a v2 cgroup's memory.pressure): the cumulative stall
// totals in microseconds. Unavailable with the reason where the file is missing, or the kernel
// was booted with psi=0 (then reading it fails with EOPNOTSUPP).
struct PsiReading {
  bool available = false;
  std::string reason;
  std::optional<int64_t> some_us, full_us;
};
// Parses "some avg10=0.00 avg60=0.00 avg300=0.00 total=123" lines; a line without total= is skipped.
PsiReading parse_psi(std::istream& in);
PsiReading read_psi(const SysOps& ops, const std::string& abs);

// Per-order mTHP counters: "64kB.swpout" -> value, for every file under
// /sys/kernel/mm/transparent_hugepage/hugepages-<size>/stats/ (whichever the kernel has).
Stats read_mthp_stats(const SysOps& ops);

// A file's text and the errno of reading it (0: read). PSI fails on read, not on open, so an
// ifstream would see an empty file where the kernel said "not supported".
int read_text(const std::string& path, std::string& out);

struct WorkloadSnapshot {
  Stats vmstat;  // kstat's read_vmstat: only the keys the kernel has
  Stats zswap_debugfs;
  Stats memcg_stat;                 // the workload cgroup's memory.stat
  std::optional<int64_t> swap_bytes;  // its swap usage where the cgroup version reports one
  PsiReading psi_system, psi_cgroup;
  Stats mthp;
};

// `cgroup_abs`: the workload cgroup's folder ("" when there is none); `debugfs_abs`: where
// debugfs is mounted ("" to skip zswap's debugfs counters).
WorkloadSnapshot snapshot_workload(const SysOps& ops, const std::string& cgroup_abs, MemcgVersion v,
                                   const std::string& debugfs_abs = "");

// The file a cgroup version reports the cgroup's swap usage in ("" where it has none).
std::string swap_usage_file(MemcgVersion v);

// The counters block of a result: deltas after - before, gauges (zswap pool, swap usage) as read
// at `after`. results/SCHEMA.md documents every key.
nlohmann::json workload_counters(const WorkloadSnapshot& before, const WorkloadSnapshot& after, MemcgVersion v);

// What the workload ran under: zswap's parameters, vm.page-cluster, the swap devices, THP, the
// kernel release. A value that cannot be read is null.
nlohmann::json config_header(const SysOps& ops);

}  // namespace swapbench
