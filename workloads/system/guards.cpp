#include "workloads/system/guards.h"

#include <unistd.h>

#include <fstream>
#include <iostream>
#include <sstream>

namespace swapbench {

ValueGuard::ValueGuard(Journal& j, SysOps& ops, std::string path)
    : j_(j), ops_(ops), path_(std::move(path)), original_(ops_.read(path_)) {
  boot_warning_ = j_.check_original(path_, original_);
  if (boot_warning_) std::cerr << "swapbench: warning: " << *boot_warning_ << "\n";
}

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
  // Created first, recorded after: a cgroup of that name that already exists is someone else's
  // (mkdir fails, nothing is recorded), and a SIGKILL between the two leaves an empty cgroup behind
  // rather than a record that would have the restore empty and remove a cgroup it never made.
  j_.change([&] {
    ops_.mkdir(dir_);
    try {
      id_ = j_.record("mkdir_cgroup", dir_, "", return_procs_);
    } catch (const SystemError&) {
      ops_.rmdir(dir_);  // just made and still empty: ours to take back
      throw;
    }
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
  // Mounted first, recorded after, for the cgroup's reason: never unmount a debugfs someone else
  // mounted in between; a SIGKILL in the gap leaves debugfs mounted, which harms nothing.
  j_.change([&] {
    ops.mount_debugfs(mountpoint);
    try {
      id_ = j_.record("mount", mountpoint);
    } catch (const SystemError&) {
      ops.umount(mountpoint);
      throw;
    }
  });
}

DebugfsGuard::~DebugfsGuard() {
  if (id_) j_.restore(*id_);
}

}  // namespace swapbench
