#include "workloads/measure/kstat.h"

#include <dirent.h>

#include <fstream>
#include <sstream>

namespace swapbench {

const std::vector<std::string> kVmstatKeys = {
    "pswpin", "pswpout", "zswpin", "zswpout", "zswpwb", "swap_ra", "swap_ra_hit", "pgmajfault", "pgfault",
    "swpin_zero", "swpout_zero", "thp_fault_alloc", "thp_swpout", "thp_swpout_fallback", "thp_split_page",
    "pgsteal_direct",
    "pgsteal_kswapd"};

Stats parse_key_values(std::istream& in) {
  Stats s;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream l(line);
    std::string k;
    long long v;
    if (l >> k >> v) s[k] = v;
  }
  return s;
}

Stats read_vmstat(const std::string& root) {
  std::ifstream f(root + "/proc/vmstat");
  Stats all = parse_key_values(f), s;
  for (const auto& k : kVmstatKeys)
    if (auto it = all.find(k); it != all.end()) s[k] = it->second;
  return s;
}

Stats read_zswap_debugfs(const std::string& dir) {
  Stats s;
  DIR* d = opendir((dir + "/zswap").c_str());
  if (!d) return s;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream f(dir + "/zswap/" + e->d_name);
    long long v;
    if (f >> v) s[e->d_name] = v;
  }
  closedir(d);
  return s;
}

Stats read_memcg_stat(const std::string& cgroup_dir) {
  if (cgroup_dir.empty()) return {};
  std::ifstream f(cgroup_dir + "/memory.stat");
  return parse_key_values(f);
}

namespace {
const std::vector<std::pair<std::string, std::vector<std::string>>> kZramFiles = {
    {"mm_stat", {"orig_data_size", "compr_data_size", "mem_used_total", "mem_limit", "mem_used_max", "same_pages",
                 "pages_compacted", "huge_pages", "huge_pages_since"}},
    {"io_stat", {"failed_reads", "failed_writes", "invalid_io", "notify_free"}},
    {"stat", {"read_ios", "read_merges", "read_sectors", "read_ticks", "write_ios", "write_merges", "write_sectors",
              "write_ticks", "in_flight", "io_ticks", "time_in_queue", "discard_ios", "discard_merges",
              "discard_sectors", "discard_ticks", "flush_ios", "flush_ticks"}}};
}  // namespace

const std::vector<std::string> kZramFootprint = {"orig_data_size", "compr_data_size", "mem_used_total", "same_pages",
                                                 "huge_pages"};

Stats read_zram_stats(const std::string& dir) {
  Stats s;
  for (const auto& [file, fields] : kZramFiles) {
    std::ifstream f(dir + "/" + file);
    long long v;
    for (size_t i = 0; i < fields.size() && f >> v; ++i) s[file + "." + fields[i]] = v;
  }
  return s;
}

nlohmann::json zram_footprint(const Stats& before, const Stats& after) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& k : kZramFootprint) {
    auto a = before.find("mm_stat." + k), b = after.find("mm_stat." + k);
    j[k] = a == before.end() || b == after.end() ? nlohmann::json(nullptr) : nlohmann::json(b->second - a->second);
  }
  return j;
}

Stats delta(const Stats& before, const Stats& after) {
  Stats d;
  for (const auto& [k, v] : after)
    if (auto it = before.find(k); it != before.end()) d[k] = v - it->second;
  return d;
}

nlohmann::json to_json(const Stats& s) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : s) j[k] = v;
  return j;
}

StatDelta delta(const StatSnapshot& b, const StatSnapshot& a) {
  return {delta(b.vmstat, a.vmstat), delta(b.zswap, a.zswap), delta(b.memcg, a.memcg), delta(b.zram, a.zram)};
}

nlohmann::json StatDelta::to_json() const {
  nlohmann::json j = {{"vmstat", swapbench::to_json(vmstat)}, {"zswap", swapbench::to_json(zswap)},
                      {"memcg", swapbench::to_json(memcg)}};
  if (!zram.empty()) j["zram"] = swapbench::to_json(zram);  // zram sets only: other results keep their layout
  return j;
}

}  // namespace swapbench
