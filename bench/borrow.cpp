#include "bench/borrow.h"

#include <unistd.h>

#include <iostream>

#include "bench/backend.h"
#include "workloads/measure/kstat.h"

namespace swapbench {

uint64_t written_back_now() {
  auto v = read_vmstat("/");
  if (v.count("zswpwb")) return static_cast<uint64_t>(v.at("zswpwb"));
  auto z = read_zswap_debugfs(kDebugfs);
  return z.count("written_back_pages") ? static_cast<uint64_t>(z.at("written_back_pages")) : 0;
}

std::unique_ptr<Borrowed> borrow(const Plan& p) {
  auto b = std::make_unique<Borrowed>();
  b->session = std::make_unique<Session>(b->ops);
  for (const auto& l : b->session->recovered()) std::cerr << "swapbench: " << l << "\n";
  Journal& j = b->session->journal();
  try {
    b->debugfs = std::make_unique<DebugfsGuard>(j, b->ops, kDebugfs);
  } catch (const SystemError& e) {
    std::cerr << "swapbench: zswap's debugfs counters will be missing: " << e.what() << "\n";
  }
  if (p.needs_swap_file() && p.swap_device.empty())
    b->swap = std::make_unique<SwapAreaGuard>(j, b->ops, p.swap_dir.empty() ? kDefaultSwapDir : p.swap_dir,
                                              p.swap_bytes);
  else if (p.needs_swap_file())
    b->swap = std::make_unique<SwapAreaGuard>(j, b->ops, p.swap_device, p.swap_bytes, kSwapPriority,
                                              SwapAreaGuard::Type::Device, p.swap_exact, p.swap_device_wipe);
  // zswap is borrowed even for a zram-only run: it must be off under zram sets (else it would take
  // their pages before zram sees them).
  if (zswap_present(b->ops)) {
    b->zswap = std::make_unique<ZswapGuard>(j, b->ops);
    // No background writeback during a timed set: it would move pages to disk under the faults.
    if (b->zswap->has("shrinker_enabled")) b->zswap->set("shrinker_enabled", "N");
  }
  for (const SwapBackend* be : backends())
    if (p.has(be->info.id)) be->borrow(*b, p);
  // One fault brings in one page: readahead would serve neighbours from the swap cache and
  // inflate zswpin/pswpin beyond the pages timed.
  b->page_cluster = std::make_unique<ValueGuard>(j, b->ops, "/proc/sys/vm/page-cluster");
  b->page_cluster->set("0");
  // Cgroup reclaim (memory.reclaim, force_empty) weighs anon against file pages by swappiness; on
  // a machine set to 0 it would never evict the region's swap-cache pages. Set before the cgroup
  // exists, because a v1 cgroup copies its parent's swappiness when created.
  b->swappiness = std::make_unique<ValueGuard>(j, b->ops, "/proc/sys/vm/swappiness");
  b->swappiness->set("100");
  MemcgInfo mi = detect_memcg(b->ops);
  if (mi.version != MemcgVersion::None)
    b->memcg = std::make_unique<Memcg>(j, b->ops, mi, "swapbench-" + std::to_string(getpid()));
  else b->memcg_reason = mi.reason;
  WritebackFeatures f;
  f.memcg = b->memcg != nullptr;
  f.memcg_v2 = b->memcg && b->memcg->info().version == MemcgVersion::V2;
  f.memcg_v2_zswap_max = b->memcg && b->memcg->has("memory.zswap.max");
  f.zswap_shrinker_param = b->zswap && b->zswap->has("shrinker_enabled");
  f.pool_limit_param = b->zswap && b->zswap->has("max_pool_percent");
  f.zswpwb_counter = read_vmstat("/").count("zswpwb") || read_zswap_debugfs(kDebugfs).count("written_back_pages");
  b->writeback = writeback_mechanisms(f);
  return b;
}

Capabilities capabilities(const Borrowed& b) {
  Capabilities c;
  c.root = true;
  c.memcg = b.memcg != nullptr;
  c.memcg_reason = b.memcg_reason;
  c.writeback = b.writeback;
  for (const SwapBackend* be : backends()) be->probe(b, c.backends[be->info.id]);
  return c;
}

}  // namespace swapbench
