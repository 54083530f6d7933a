// What a privileged run borrows from the machine, and what the borrowed machine then offers.
// Every change goes through the guards of workloads/system/ (journalled, restored at exit).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "bench/plan.h"
#include "bench/writeback.h"
#include "workloads/system/guards.h"
#include "workloads/system/memcg.h"
#include "workloads/system/session.h"
#include "workloads/system/swap_area.h"
#include "workloads/system/zram.h"
#include "workloads/system/zswap.h"

namespace swapbench {

constexpr const char* kDebugfs = "/sys/kernel/debug";

// Members are destroyed in reverse order: the cgroup first, the session (which restores anything
// left and releases the lock) last.
struct Borrowed {
  SysOps ops;
  std::unique_ptr<Session> session;
  std::unique_ptr<DebugfsGuard> debugfs;
  std::unique_ptr<SwapAreaGuard> swap;  // null when the run has only zram sets
  std::unique_ptr<ZswapGuard> zswap;
  CompressorProbe compressors;
  // zram sets: one device per compressor (zram fixes it once a device holds data), made and
  // configured when borrowing; what a device offers, or why there are none.
  std::vector<std::unique_ptr<ZramGuard>> zram;
  std::vector<std::string> zram_offered;
  std::string zram_reason;
  ZramGuard* zram_for(const std::string& compressor) const;
  std::unique_ptr<ValueGuard> page_cluster, swappiness;
  std::unique_ptr<Memcg> memcg;
  std::string memcg_reason;
  std::vector<WritebackMechanism> writeback;  // every mechanism, usable or not (with why)
};

// Takes the lock, restores a dead run's leftovers, then borrows what the plan needs. Throws
// SystemError (everything already borrowed is given back by the destructors).
std::unique_ptr<Borrowed> borrow(const Plan& p);
Capabilities capabilities(const Borrowed& b);

// Only the swap area of the set's backend is on while it runs (the run's swap file for zswap and
// disk, the compressor's zram device for zram), so no page of the set can land on another: the
// kernel fills the highest priority first, but 6.15+ also keeps allocating from the area a CPU
// used last. Returns the zram device the set swaps to, or null.
ZramGuard* use_swap_for(Borrowed& b, Backend backend, const std::string& compressor);

// zswpwb where vmstat has it (6.8+), else debugfs written_back_pages: both count every page zswap
// wrote back, machine-wide.
uint64_t written_back_now();

}  // namespace swapbench
