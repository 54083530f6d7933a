// One run at a time: two runs changing zswap or swap areas at once would each restore the
// other's values. The lock file names its holder's PID; flock releases it even on SIGKILL.
#pragma once
#include <string>

#include "workloads/system/state_dir.h"

namespace swapbench {

class RunLock {
 public:
  // `name` in the state folder, opened without following a link and created 0600 (StateDir): a
  // lock others could open is a lock others could hold, and a link would have the PID written over
  // whatever it points to. Throws SystemError naming the holder.
  explicit RunLock(const StateDir& dir, const std::string& name = "lock");
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;
  int fd() const { return fd_; }  // for a crash handler that must let go of it before it dies

 private:
  int fd_ = -1;
};

}  // namespace swapbench
