#include "workloads/kstat.h"

#include <dirent.h>

#include <fstream>
#include <sstream>

namespace swapbench {

const std::vector<std::string> kVmstatKeys = {
    "pswpin", "pswpout", "zswpin", "zswpout", "zswpwb", "swap_ra", "swap_ra_hit", "pgmajfault", "pgfault",
    "swpin_zero", "swpout_zero", "thp_swpout", "pgsteal_direct", "pgsteal_kswapd"};

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
  return {delta(b.vmstat, a.vmstat), delta(b.zswap, a.zswap), delta(b.memcg, a.memcg)};
}

nlohmann::json StatDelta::to_json() const {
  return {{"vmstat", swapbench::to_json(vmstat)}, {"zswap", swapbench::to_json(zswap)},
          {"memcg", swapbench::to_json(memcg)}};
}

}  // namespace swapbench
