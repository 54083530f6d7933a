// The one place that writes to /sys, /proc and cgroup files, creates swap areas and mounts.
// Every path is taken relative to a root ("/" for real runs) so the journal and its restore logic
// run in unit tests against a fake sysfs tree.
#pragma once
#include <stdexcept>
#include <string>

namespace swapbench {

struct SystemError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class SysOps {
 public:
  explicit SysOps(std::string root = "/") : root_(std::move(root)) {}
  virtual ~SysOps() = default;
  std::string at(const std::string& abs) const;  // root-prefixed path
  const std::string& root() const { return root_; }
  bool exists(const std::string& abs) const;
  // Trimmed contents; throws SystemError naming the path.
  std::string read(const std::string& abs) const;
  // Writes `value` in one write(2), as sysfs expects; throws SystemError with errno's text.
  virtual void write(const std::string& abs, const std::string& value);
  virtual void mkdir(const std::string& abs);
  virtual void rmdir(const std::string& abs);  // ENOENT is success
  virtual void unlink(const std::string& abs);  // ENOENT is success
  // Privileged kernel operations; a fake root records them instead (see tests/unit).
  virtual void swapon(const std::string& abs, int priority);
  virtual void swapoff(const std::string& abs);  // "not a swap area" is success
  virtual void mount_debugfs(const std::string& abs);
  virtual void umount(const std::string& abs);  // "not mounted" is success

 private:
  std::string root_;
};

}  // namespace swapbench
