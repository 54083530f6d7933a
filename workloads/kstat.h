// Kernel statistics read around every timed phase: they are the proof of which path the pages took.
// Readers take a root directory so tests run them on fixture trees; the real root is "/".
#pragma once
#include <cstdint>
#include <istream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace swapbench {

using Stats = std::map<std::string, int64_t>;

// "name value" lines (/proc/vmstat, memory.stat). Lines that do not parse are ignored.
Stats parse_key_values(std::istream& in);
// Only the vmstat counters the suite reasons about (the rest would bloat every result).
extern const std::vector<std::string> kVmstatKeys;
Stats read_vmstat(const std::string& root);
// Every file under <debugfs>/zswap holding one integer.
Stats read_zswap_debugfs(const std::string& debugfs_dir);
Stats read_memcg_stat(const std::string& cgroup_dir);
// after - before, for keys present in both.
Stats delta(const Stats& before, const Stats& after);
nlohmann::json to_json(const Stats& s);

struct StatSnapshot {
  Stats vmstat, zswap, memcg;
};
struct StatDelta {
  Stats vmstat, zswap, memcg;
  nlohmann::json to_json() const;
};
StatDelta delta(const StatSnapshot& before, const StatSnapshot& after);

}  // namespace swapbench
