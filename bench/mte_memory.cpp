#include "bench/mte_memory.h"

#include <fstream>
#include <sstream>

#include "workloads/kstat.h"
#include "workloads/system/sysroot.h"

namespace swapbench {

bool parse_slabinfo(const std::string& text, std::map<std::string, uint64_t>& out) {
  std::istringstream in(text);
  std::string line;
  if (!std::getline(in, line) || line.rfind("slabinfo - version: 2.", 0) != 0) return false;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;  // the column header
    std::istringstream f(line);
    std::string name;
    uint64_t active = 0, total = 0, size = 0;
    if (!(f >> name >> active >> total >> size)) return false;
    out[name] = active * size;
  }
  return true;
}

namespace {

std::string slurp(const char* path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

int64_t diff(uint64_t a, uint64_t b) { return static_cast<int64_t>(b) - static_cast<int64_t>(a); }

uint64_t get(const std::map<std::string, uint64_t>& m, const std::string& k) {
  auto it = m.find(k);
  return it == m.end() ? 0 : it->second;
}

}  // namespace

SlabUse read_slab_use() {
  SlabUse u;
  SysOps ops;
  u.shrunk = true;
  for (const char* cache : {"kmalloc-128", "radix_tree_node"}) {
    try {
      ops.write(std::string("/sys/kernel/slab/") + cache + "/shrink", "1");
    } catch (const SystemError&) {
      u.shrunk = false;  // no SLUB sysfs, or not root: the reading stands, marked unshrunk
    }
  }
  u.readable = parse_slabinfo(slurp("/proc/slabinfo"), u.bytes);
  std::istringstream mi(slurp("/proc/meminfo"));
  std::string key;
  uint64_t kb = 0;
  std::string unit;
  while (mi >> key >> kb) {
    std::getline(mi, unit);
    if (key == "Slab:") u.meminfo_slab_bytes = kb * 1024;
  }
  return u;
}

nlohmann::json slab_delta(const SlabUse& before, const SlabUse& after) {
  if (!before.readable || !after.readable)
    return {{"readable", false},
            {"why", "/proc/slabinfo unreadable (needs root and CONFIG_SLUB_DEBUG); no tag-memory figure"}};
  uint64_t all_b = 0, all_a = 0;
  for (const auto& [k, v] : before.bytes) all_b += v;
  for (const auto& [k, v] : after.bytes) all_a += v;
  return {{"readable", true}, {"shrunk", before.shrunk && after.shrunk},
          {"kmalloc_128_bytes", diff(get(before.bytes, "kmalloc-128"), get(after.bytes, "kmalloc-128"))},
          {"radix_tree_node_bytes", diff(get(before.bytes, "radix_tree_node"), get(after.bytes, "radix_tree_node"))},
          {"all_caches_bytes", diff(all_b, all_a)},
          {"meminfo_slab_bytes", diff(before.meminfo_slab_bytes, after.meminfo_slab_bytes)}};
}

PushoutReading read_pushout() { return {read_slab_use(), read_vmstat("/")}; }

void record_pushout(const PushoutReading& before, const PushoutReading& after, nlohmann::json& sb) {
  sb["slab_swapped_out"] = slab_delta(before.slab, after.slab);
  sb["pushout_vmstat"] = to_json(delta(before.vmstat, after.vmstat));
}

}  // namespace swapbench
