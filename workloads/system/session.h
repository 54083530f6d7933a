// A privileged session: the run lock, the journal (with leftovers of a killed run restored first),
// and a thread that turns SIGINT/SIGTERM/SIGHUP into a full restore before the process exits.
#pragma once
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "workloads/system/journal.h"
#include "workloads/system/lock.h"

namespace swapbench {

// /var/lib, not /run: the swap file a killed run leaves must still be found after a reboot.
// SWAPBENCH_STATE_DIR overrides it (tests).
std::string state_dir();

class Session {
 public:
  explicit Session(SysOps& ops, const std::string& dir = state_dir());
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  Journal& journal() { return *journal_; }
  SysOps& ops() { return ops_; }
  const std::vector<std::string>& recovered() const { return recovered_; }

 private:
  SysOps& ops_;
  std::unique_ptr<RunLock> lock_;
  std::unique_ptr<Journal> journal_;
  std::vector<std::string> recovered_;
  std::thread signals_;
};

// `swapbench restore`: takes the lock (refused while a run is alive) and undoes a dead run's changes.
std::vector<std::string> restore_leftovers(SysOps& ops, const std::string& dir = state_dir());

}  // namespace swapbench
