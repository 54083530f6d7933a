#include "workloads/system/lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "workloads/system/sysroot.h"

namespace swapbench {

RunLock::RunLock(const std::string& file) {
  fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw SystemError("cannot open the run lock " + file + ": " + std::strerror(errno));
  if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    char buf[32] = {0};
    ssize_t n = pread(fd_, buf, sizeof buf - 1, 0);
    std::string holder = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "unknown";
    while (!holder.empty() && holder.back() == '\n') holder.pop_back();
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
