// The workload's memory cgroup. Only the region is charged to it (the process enters the cgroup
// to fault the region in and leaves again), so reclaiming the cgroup pushes exactly the region's
// swap-cache pages out, not the suite's own heap.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "workloads/measure/kstat.h"
#include "workloads/system/guards.h"

namespace swapbench {

enum class MemcgVersion { None, V1, V2 };
inline std::string to_string(MemcgVersion v) { return v == MemcgVersion::V1 ? "v1" : v == MemcgVersion::V2 ? "v2" : "none"; }

struct MemcgInfo {
  MemcgVersion version = MemcgVersion::None;
  std::string mount;   // where the memory controller's hierarchy is mounted
  std::string reason;  // why there is none usable, with a hint
  std::string name() const { return to_string(version); }
};

// Prefers v2 where its root offers the memory controller to children; else v1.
MemcgInfo detect_memcg(const SysOps& ops);
// cgroup.procs of the cgroup this process is in now (for the given hierarchy).
std::string own_cgroup_procs(const SysOps& ops, const MemcgInfo& info);

class Memcg {
 public:
  Memcg(Journal& j, SysOps& ops, const MemcgInfo& info, const std::string& name);
  const std::string& dir() const { return guard_->dir(); }
  const MemcgInfo& info() const { return info_; }
  void enter() { guard_->enter(); }
  void leave() { guard_->leave(); }
  // Asks the kernel to reclaim the cgroup's memory (v1 memory.force_empty, v2 memory.reclaim).
  // Returns "" or the kernel's refusal (EBUSY/EAGAIN when pages are still under writeback).
  std::string reclaim(uint64_t bytes);
  Stats stat() const;
  // A control file of the suite's own cgroup (memory.zswap.max, ...): gone with the cgroup, so no
  // journal entry is needed to give it back.
  bool has(const std::string& file) const;
  void set(const std::string& file, const std::string& value);
  std::string get(const std::string& file) const;

 private:
  SysOps& ops_;
  MemcgInfo info_;
  std::unique_ptr<CgroupGuard> guard_;
};

}  // namespace swapbench
