#include "workloads/system/guards.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

namespace swapbench {

ValueGuard::ValueGuard(Journal& j, SysOps& ops, std::string path)
    : j_(j), ops_(ops), path_(std::move(path)), original_(ops_.read(path_)) {}

ValueGuard::~ValueGuard() {
  if (id_) j_.restore(*id_);
}

std::string ValueGuard::current() const { return ops_.read(path_); }

void ValueGuard::set(const std::string& value) {
  j_.change([&] {
    if (!id_) id_ = j_.record("write", path_, original_);
    ops_.write(path_, value);
  });
}

bool ValueGuard::try_set(const std::string& value, std::string* why) {
  try {
    set(value);
    return true;
  } catch (const SystemError& e) {
    if (why) *why = e.what();
    return false;
  }
}

CgroupGuard::CgroupGuard(Journal& j, SysOps& ops, std::string dir, std::string return_procs)
    : j_(j), ops_(ops), dir_(std::move(dir)), return_procs_(std::move(return_procs)) {
  j_.change([&] {
    id_ = j_.record("mkdir_cgroup", dir_, "", return_procs_);
    ops_.mkdir(dir_);
  });
}

CgroupGuard::~CgroupGuard() { j_.restore(id_); }

void CgroupGuard::enter() {
  j_.change([&] { ops_.write(dir_ + "/cgroup.procs", std::to_string(getpid())); });
}
void CgroupGuard::leave() {
  j_.change([&] { ops_.write(return_procs_, std::to_string(getpid())); });
}

bool debugfs_mounted(const SysOps& ops, const std::string& mountpoint) {
  std::ifstream f(ops.at("/proc/mounts"));
  std::string dev, mp, type, rest;
  while (f >> dev >> mp >> type && std::getline(f, rest))
    if (mp == mountpoint && type == "debugfs") return true;
  return false;
}

DebugfsGuard::DebugfsGuard(Journal& j, SysOps& ops, const std::string& mountpoint) : j_(j), mp_(mountpoint) {
  if (debugfs_mounted(ops, mountpoint)) return;
  j_.change([&] {
    id_ = j_.record("mount", mountpoint);
    ops.mount_debugfs(mountpoint);
  });
}

DebugfsGuard::~DebugfsGuard() {
  if (id_) j_.restore(*id_);
}

}  // namespace swapbench
