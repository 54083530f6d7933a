#include "workloads/system/sysroot.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace swapbench {

namespace {
[[noreturn]] void fail(const std::string& what, const std::string& path, int err) {
  throw SystemError(what + " " + path + ": " + std::strerror(err));
}
}  // namespace

std::string SysOps::at(const std::string& abs) const {
  if (root_ == "/" || root_.empty()) return abs;
  return root_ + abs;
}

bool SysOps::exists(const std::string& abs) const { return access(at(abs).c_str(), F_OK) == 0; }

std::string SysOps::read(const std::string& abs) const {
  std::ifstream f(at(abs));
  if (!f) fail("cannot read", at(abs), errno ? errno : ENOENT);
  std::stringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

void SysOps::write(const std::string& abs, const std::string& value) {
  int fd = ::open(at(abs).c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) fail("cannot open for writing", at(abs), errno);
  ssize_t n = ::write(fd, value.data(), value.size());
  int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(value.size())) fail("cannot write '" + value + "' to", at(abs), n < 0 ? err : EIO);
}

void SysOps::mkdir(const std::string& abs) {
  if (::mkdir(at(abs).c_str(), 0755) != 0) fail("cannot create", at(abs), errno);
}

void SysOps::rmdir(const std::string& abs) {
  if (::rmdir(at(abs).c_str()) != 0 && errno != ENOENT) fail("cannot remove", at(abs), errno);
}

void SysOps::unlink(const std::string& abs) {
  if (::unlink(at(abs).c_str()) != 0 && errno != ENOENT) fail("cannot remove", at(abs), errno);
}

void SysOps::swapon(const std::string& abs, int priority) {
  int flags = SWAP_FLAG_PREFER | ((priority << SWAP_FLAG_PRIO_SHIFT) & SWAP_FLAG_PRIO_MASK);
  if (::swapon(at(abs).c_str(), flags) != 0) fail("swapon", at(abs), errno);
}

void SysOps::swapoff(const std::string& abs) {
  if (::swapoff(at(abs).c_str()) != 0 && errno != EINVAL && errno != ENOENT) fail("swapoff", at(abs), errno);
}

void SysOps::mount_debugfs(const std::string& abs) {
  if (::mount("debugfs", at(abs).c_str(), "debugfs", 0, nullptr) != 0) fail("mount debugfs on", at(abs), errno);
}

void SysOps::umount(const std::string& abs) {
  if (::umount2(at(abs).c_str(), 0) != 0 && errno != EINVAL && errno != ENOENT) fail("umount", at(abs), errno);
}

}  // namespace swapbench
