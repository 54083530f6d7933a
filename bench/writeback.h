// Forcing zswap writeback: which mechanisms the running kernel offers, found by feature (never by
// version number), each with why it is or is not usable here and what would fix it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace swapbench {

enum class WritebackMech { MemcgZswapMax, ShrinkerReclaim, PoolLimit };
std::string to_string(WritebackMech m);  // memcg_zswap_max, shrinker_reclaim, pool_limit

struct WritebackMechanism {
  WritebackMech id;
  std::string name;    // to_string(id): how results and skips name it
  std::string how;     // what the run does, in words
  bool ok = false;
  std::string reason;  // why not, when !ok
  std::string fix;
};

struct WritebackFeatures {
  bool memcg = false;                // a memory cgroup for the workload
  bool memcg_v2 = false;             // cgroup v2: zswap's pool is charged to the cgroup
  bool memcg_v2_zswap_max = false;   // memory.zswap.max in that cgroup (v2, 6.1+)
  bool zswap_shrinker_param = false; // /sys/module/zswap/parameters/shrinker_enabled (6.8+)
  bool pool_limit_param = false;     // max_pool_percent
  bool zswpwb_counter = false;       // vmstat zswpwb or debugfs written_back_pages: the proof
};

// In the order of preference: synchronous and deterministic first.
std::vector<WritebackMechanism> writeback_mechanisms(const WritebackFeatures& f);

// memory.zswap.max for the memcg mechanism, for a region of `pages` pages (writeback.cpp says why).
uint64_t zswap_max_bytes(size_t pages);

}  // namespace swapbench
