#include "workloads/system/lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "workloads/system/sysroot.h"

namespace swapbench {

RunLock::RunLock(const StateDir& dir, const std::string& name) {
  const std::string file = dir.where(name);
  fd_ = dir.open_file(name, O_RDWR | O_CREAT);
  if (fd_ < 0) throw SystemError("cannot open the run lock " + file + ": " + std::strerror(errno));
  if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    char buf[32] = {0};
    ssize_t n = pread(fd_, buf, sizeof buf - 1, 0);
    std::string holder = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
    while (!holder.empty() && holder.back() == '\n') holder.pop_back();
    // Only a number is repeated: whatever else the file holds is not ours to print.
    if (holder.empty() || holder.find_first_not_of("0123456789") != std::string::npos) holder = "unknown";
    ::close(fd_);
    fd_ = -1;
    throw SystemError("another swapbench run (PID " + holder + ") holds " + file +
                      "; wait for it to finish (if it hung: kill " + holder + ", then ./swapbench restore)");
  }
  std::string pid = std::to_string(getpid()) + "\n";
  if (ftruncate(fd_, 0) != 0 || pwrite(fd_, pid.data(), pid.size(), 0) < 0) {
    // The lock is held all the same; only the holder's name would be missing from a refusal.
  }
}

RunLock::~RunLock() {
  if (fd_ >= 0) {
    if (ftruncate(fd_, 0) != 0) {
    }
    ::close(fd_);
  }
}

}  // namespace swapbench
