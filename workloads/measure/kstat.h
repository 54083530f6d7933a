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
// A zram device's own counters, from its /sys/block/zramN folder: "mm_stat.<field>",
// "io_stat.<field>" and "stat.<field>" (the block layer's: read_ios, read_sectors, write_ios, ...).
// Fields are named by position as the kernel documents them (admin-guide/blockdev/zram.rst,
// block/stat.rst); an older kernel's shorter line gives fewer keys, an unreadable file none.
Stats read_zram_stats(const std::string& sys_block_dir);
// What a region cost a zram device: the mm_stat fields capacity planning uses (orig_data_size,
// compr_data_size, mem_used_total, same_pages, huge_pages), after - before the region was pushed out.
extern const std::vector<std::string> kZramFootprint;
nlohmann::json zram_footprint(const Stats& before, const Stats& after);
// after - before, for keys present in both.
Stats delta(const Stats& before, const Stats& after);
nlohmann::json to_json(const Stats& s);

// zram: the counters of the device a zram set swaps to (empty for other sets).
struct StatSnapshot {
  Stats vmstat, zswap, memcg, zram;
};
struct StatDelta {
  Stats vmstat, zswap, memcg, zram;
  nlohmann::json to_json() const;
};
StatDelta delta(const StatSnapshot& before, const StatSnapshot& after);

}  // namespace swapbench
