// What a privileged run borrows from the machine, and what the borrowed machine then offers.
// Every change goes through the guards of workloads/system/ (journalled, restored at exit).
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bench/plan.h"
#include "bench/writeback.h"
#include "workloads/system/guards.h"
#include "workloads/system/memcg.h"
#include "workloads/system/session.h"
#include "workloads/system/swap_area.h"
#include "workloads/system/zswap.h"

namespace swapbench {

constexpr const char* kDebugfs = "/sys/kernel/debug";

// What a backend borrows for itself (bench/backends/): its file alone knows the type.
struct BackendState {
  virtual ~BackendState() = default;
};

// Members are destroyed in reverse order: the cgroup first, the session (which restores anything
// left and releases the lock) last.
struct Borrowed {
  SysOps ops;
  std::unique_ptr<Session> session;
  std::unique_ptr<DebugfsGuard> debugfs;
  std::unique_ptr<SwapAreaGuard> swap;  // null when no backend of the run swaps to the swap file
  std::unique_ptr<ZswapGuard> zswap;
  CompressorProbe compressors;
  std::map<Backend, std::unique_ptr<BackendState>> backend_state;
  std::unique_ptr<ValueGuard> page_cluster, swappiness;
  std::unique_ptr<Memcg> memcg;
  std::string memcg_reason;
  std::vector<WritebackMechanism> writeback;  // every mechanism, usable or not (with why)
};

// Takes the lock, restores a dead run's leftovers, then borrows what the plan needs. Throws
// SystemError (everything already borrowed is given back by the destructors).
std::unique_ptr<Borrowed> borrow(const Plan& p);
Capabilities capabilities(const Borrowed& b);

// zswpwb where vmstat has it (6.8+), else debugfs written_back_pages: both count every page zswap
// wrote back, machine-wide.
uint64_t written_back_now();

}  // namespace swapbench
