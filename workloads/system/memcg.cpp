#include "workloads/system/memcg.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

namespace swapbench {

MemcgInfo detect_memcg(const SysOps& ops) {
  MemcgInfo info;
  std::string v1, v2;
  std::ifstream f(ops.at("/proc/mounts"));
  std::string dev, mp, type, opts, rest;
  while (f >> dev >> mp >> type >> opts && std::getline(f, rest)) {
    if (type == "cgroup2" && v2.empty()) v2 = mp;
    if (type == "cgroup" && v1.empty()) {
      std::istringstream o(opts);
      std::string opt;
      while (std::getline(o, opt, ','))
        if (opt == "memory") v1 = mp;
    }
  }
  if (!v2.empty()) {
    std::string ctl;
    try {
      ctl = ops.read(v2 + "/cgroup.subtree_control");
    } catch (const SystemError&) {
    }
    if ((" " + ctl + " ").find(" memory ") != std::string::npos) {
      info.version = MemcgVersion::V2;
      info.mount = v2;
      return info;
    }
  }
  if (!v1.empty()) {
    info.version = MemcgVersion::V1;
    info.mount = v1;
    return info;
  }
  info.reason = v2.empty() ? "no memory cgroup mounted (hint: mount -t cgroup2 none /sys/fs/cgroup)"
                           : "cgroup2 at " + v2 + " does not offer the memory controller to children "
                             "(hint: echo +memory > " + v2 + "/cgroup.subtree_control)";
  return info;
}

std::string own_cgroup_procs(const SysOps& ops, const MemcgInfo& info) {
  std::ifstream f(ops.at("/proc/self/cgroup"));
  std::string line;
  while (std::getline(f, line)) {
    // "hierarchy-id:controllers:path"
    auto a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    std::string ctl = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    bool match = info.version == MemcgVersion::V2 ? line.rfind("0::", 0) == 0
                                                  : ("," + ctl + ",").find(",memory,") != std::string::npos;
    if (match) return info.mount + (path == "/" ? "" : path) + "/cgroup.procs";
  }
  return info.mount + "/cgroup.procs";
}

Memcg::Memcg(Journal& j, SysOps& ops, const MemcgInfo& info, const std::string& name) : ops_(ops), info_(info) {
  guard_ = std::make_unique<CgroupGuard>(j, ops, info.mount + "/" + name, own_cgroup_procs(ops, info));
}

std::string Memcg::reclaim(uint64_t bytes) {
  try {
    if (info_.version == MemcgVersion::V1) ops_.write(dir() + "/memory.force_empty", "0");
    else ops_.write(dir() + "/memory.reclaim", std::to_string(bytes));
    return "";
  } catch (const SystemError& e) {
    return e.what();
  }
}

Stats Memcg::stat() const { return read_memcg_stat(ops_.at(dir())); }

bool Memcg::has(const std::string& file) const { return ::access(ops_.at(dir() + "/" + file).c_str(), F_OK) == 0; }

void Memcg::set(const std::string& file, const std::string& value) { ops_.write(dir() + "/" + file, value); }

std::string Memcg::get(const std::string& file) const { return ops_.read(dir() + "/" + file); }

}  // namespace swapbench
