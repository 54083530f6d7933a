// One run at a time: two runs changing zswap or swap areas at once would each restore the
// other's values. The lock file names its holder's PID; flock releases it even on SIGKILL.
#pragma once
#include <string>

namespace swapbench {

class RunLock {
 public:
  explicit RunLock(const std::string& file);  // throws SystemError naming the holder
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;
  int fd() const { return fd_; }  // for a crash handler that must let go of it before it dies

 private:
  int fd_ = -1;
};

}  // namespace swapbench
