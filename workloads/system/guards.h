// Guards: each borrows one piece of system state. A value's original is journalled before it is
// changed; a thing the suite creates (cgroup, mount) is journalled once it exists, so the restore
// never destroys what the suite did not create; the destructor gives it back (noexcept: a failure is logged and stays in the
// journal for `swapbench restore`, never thrown out of a destructor).
#pragma once
#include <optional>
#include <string>

#include "workloads/system/journal.h"

namespace swapbench {

// A sysfs/procfs value (zswap parameter, sysctl). The original is journaled at the first set().
class ValueGuard {
 public:
  ValueGuard(Journal& j, SysOps& ops, std::string path);
  ~ValueGuard();
  ValueGuard(const ValueGuard&) = delete;
  ValueGuard& operator=(const ValueGuard&) = delete;
  const std::string& path() const { return path_; }
  const std::string& original() const { return original_; }
  // Set when the value found differs from the one first seen this boot (Journal::check_original).
  const std::optional<std::string>& boot_warning() const { return boot_warning_; }
  std::string current() const;
  void set(const std::string& value);  // throws SystemError with the kernel's answer
  // Tries a value: true if the kernel accepted it. The guard still restores the original later.
  bool try_set(const std::string& value, std::string* why = nullptr);

 private:
  Journal& j_;
  SysOps& ops_;
  std::string path_, original_;
  std::optional<std::string> boot_warning_;
  std::optional<int> id_;
};

// A directory the suite created (a cgroup); removed on restore after its tasks are moved back.
class CgroupGuard {
 public:
  CgroupGuard(Journal& j, SysOps& ops, std::string dir, std::string return_procs);
  ~CgroupGuard();
  CgroupGuard(const CgroupGuard&) = delete;
  CgroupGuard& operator=(const CgroupGuard&) = delete;
  const std::string& dir() const { return dir_; }
  void enter();  // moves this process in
  void leave();  // moves it back

 private:
  Journal& j_;
  SysOps& ops_;
  std::string dir_, return_procs_;
  int id_;
};

// debugfs, mounted only if it was not already.
class DebugfsGuard {
 public:
  DebugfsGuard(Journal& j, SysOps& ops, const std::string& mountpoint = "/sys/kernel/debug");
  ~DebugfsGuard();
  DebugfsGuard(const DebugfsGuard&) = delete;
  DebugfsGuard& operator=(const DebugfsGuard&) = delete;
  bool mounted_by_us() const { return id_.has_value(); }
  const std::string& mountpoint() const { return mp_; }

 private:
  Journal& j_;
  std::string mp_;
  std::optional<int> id_;
};

bool debugfs_mounted(const SysOps& ops, const std::string& mountpoint);

}  // namespace swapbench
