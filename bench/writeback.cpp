#include "bench/writeback.h"

#include <algorithm>

#include "workloads/pages/stamp.h"

namespace swapbench {

std::string to_string(WritebackMech m) {
  switch (m) {
    case WritebackMech::MemcgZswapMax: return "memcg_zswap_max";
    case WritebackMech::ShrinkerReclaim: return "shrinker_reclaim";
    case WritebackMech::PoolLimit: return "pool_limit";
  }
  return "?";
}

std::vector<WritebackMechanism> writeback_mechanisms(const WritebackFeatures& f) {
  std::vector<WritebackMechanism> out;
  const char* no_proof = "no writeback counter (vmstat zswpwb or debugfs zswap/written_back_pages): a written-back "
                         "page could not be proven";
  const char* proof_fix = "mount debugfs (the suite does when it can) or use a kernel with vmstat zswpwb (6.8+)";
  auto add = [&](WritebackMechanism m, bool feature, const std::string& why, const std::string& fix) {
    if (!f.zswpwb_counter) {
      m.reason = no_proof;
      m.fix = proof_fix;
    } else if (!feature) {
      m.reason = why;
      m.fix = fix;
    } else {
      m.ok = true;
    }
    out.push_back(m);
  };
  add({WritebackMech::MemcgZswapMax, "memcg_zswap_max", "the region's cgroup gets memory.zswap.max = a sixteenth of the region; each swap-out over it writes an older "
                          "entry back first (synchronous, in the swapping thread)"},
      f.memcg && f.memcg_v2_zswap_max,
      f.memcg ? "the workload's cgroup has no memory.zswap.max (cgroup v1, or a kernel before 6.1)"
              : "no memory cgroup",
      "a cgroup v2 machine with the memory controller (6.1+; deterministic from 6.8)");
  add({WritebackMech::ShrinkerReclaim, "shrinker_reclaim", "the region is stored in zswap, zswap's shrinker is enabled, and reclaiming the region's "
                           "cgroup makes the shrinker write its entries back (synchronous, in the reclaiming thread)"},
      f.memcg_v2 && f.zswap_shrinker_param,
      !f.memcg_v2 ? "the workload's cgroup is not cgroup v2: under v1 zswap's pool is not charged to the cgroup "
                    "(measured on 6.18: 20 KiB of kmem charged after 8 MiB went into zswap), so the cgroup's "
                    "shrinker never sees the region"
                  : "no zswap shrinker_enabled parameter (a kernel before 6.8)",
      "a cgroup v2 machine with the memory controller, kernel 6.8+");
  add({WritebackMech::PoolLimit, "pool_limit", "the region is stored in zswap, max_pool_percent is set to 0 and a page is swapped out again and "
                     "again: each store finds the pool over its limit and queues zswap's shrink worker (a kworker), "
                     "which gives every entry a second chance and then writes it back"},
      f.pool_limit_param && f.memcg,
      f.memcg ? "no max_pool_percent parameter" : "no memory cgroup to push the written-back pages out of the swap cache",
      f.memcg ? "a kernel with zswap" : "see ./swapbench check");
  return out;
}

// A sixteenth of the region (at least 64 KiB). A fixed 4 MiB, as in the guest probe of
// ../shared/notes/guests.md (64 MiB region), held a whole 8 MiB ratio2 region and wrote nothing
// back on 6.12; the limit must sit well below the region's pool.
uint64_t zswap_max_bytes(size_t pages) { return std::max<uint64_t>(64 << 10, pages * kPageSize / 16); }

}  // namespace swapbench
