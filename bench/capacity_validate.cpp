#include "bench/capacity_validate.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <thread>

#include "bench/borrow.h"
#include "bench/plan.h"
#include "workloads/capacity/page_source.h"
#include "workloads/kstat.h"
#include "workloads/region.h"

namespace swapbench {
namespace {

using capacity::InputError;

int64_t get(const Stats& s, const std::string& k) {
  auto it = s.find(k);
  return it == s.end() ? -1 : it->second;
}

Stats read_vmstat_all() {
  std::ifstream f("/proc/vmstat");
  return parse_key_values(f);
}

}  // namespace

nlohmann::json capacity_validate(const std::string& raw_pages, const std::vector<std::string>& compressors) {
  struct stat st;
  if (stat(raw_pages.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0 || st.st_size % kPageSize)
    throw InputError("--validate " + raw_pages + ": accepted: a raw pages file written by --save-pages (a non-empty "
                     "multiple of 4096 bytes)");
  const size_t pages = static_cast<size_t>(st.st_size) / kPageSize;
  std::ifstream in(raw_pages, std::ios::binary);
  if (!in) throw InputError("--validate " + raw_pages + ": " + std::strerror(errno));

  Plan p;
  p.pages = pages;
  p.compressors = compressors;
  p.swap_bytes = swap_bytes_for(pages);
  p.root = true;
  auto b = borrow(p);
  if (!b->zswap) throw SystemError("zswap is not built into this kernel: nothing to validate against (use a kernel with CONFIG_ZSWAP)");
  if (!b->memcg) throw SystemError("no memory cgroup to hold the region: " + b->memcg_reason);
  nlohmann::json out;
  out["pages"] = pages;
  out["memcg"] = b->memcg->info().name();
  out["refused"] = b->compressors.refused;
  nlohmann::json runs = nlohmann::json::array();
  for (const auto& comp : b->compressors.accepted) {
    ZswapGuard& z = *b->zswap;
    if (z.get("compressor") != comp) z.set("compressor", comp);
    z.set("enabled", "Y");
    nlohmann::json r;
    r["compressor"] = comp;
    r["zswap_params"] = z.now();
    {
      Region region(pages);
      b->memcg->enter();  // pages are charged where they are first touched
      try {
        in.clear();
        in.seekg(0);
        for (size_t i = 0; i < pages; ++i)
          if (!in.read(reinterpret_cast<char*>(region.page(i)), kPageSize)) throw InputError(raw_pages + ": short read");
      } catch (...) {
        b->memcg->leave();  // a process left inside would keep the cgroup from being removed
        throw;
      }
      b->memcg->leave();
      // The previous compressor's pool is freed asynchronously after the switch: wait (up to 3 s)
      // until nothing of it is left, so its last pages are not freed inside this run's deltas.
      Stats z0 = read_zswap_debugfs(kDebugfs);
      int waited_ms = 0;
      while (get(z0, "stored_pages") == 0 && get(z0, "pool_total_size") > 0 && waited_ms < 3000) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        waited_ms += 50;
        z0 = read_zswap_debugfs(kDebugfs);
      }
      r["waited_for_empty_pool_ms"] = waited_ms;
      const Stats v0 = read_vmstat_all(), m0 = b->memcg->stat();
      // MADV_PAGEOUT skips a page it cannot isolate at that instant; a few passes reach them all.
      int passes = 0;
      size_t resident = region.resident();
      while (resident > 0 && passes < 5) {
        if (int e = region.pageout_all()) r["pageout_error"] = std::strerror(e);
        ++passes;
        resident = region.resident();
      }
      const Stats z1 = read_zswap_debugfs(kDebugfs), v1 = read_vmstat_all(), m1 = b->memcg->stat();
      r["pageout_passes"] = passes;
      r["resident_after"] = resident;
      r["zswap_before"] = to_json(z0);
      r["zswap_delta"] = to_json(delta(z0, z1));
      nlohmann::json vd;
      for (const char* k : {"zswpout", "pswpout", "swpout_zero", "pswpin", "zswpin", "zswpwb"}) {
        if (get(v0, k) >= 0 && get(v1, k) >= 0) vd[k] = get(v1, k) - get(v0, k);
      }
      r["vmstat_delta"] = vd;
      nlohmann::json md;
      for (const char* k : {"zswap", "zswapped", "swap", "rss"})
        if (get(m0, k) >= 0 && get(m1, k) >= 0) md[k] = get(m1, k) - get(m0, k);
      r["memcg_delta"] = md;
      // Read the figures once more a moment later: stores are synchronous, so nothing should move.
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      r["zswap_settled_delta"] = to_json(delta(z0, read_zswap_debugfs(kDebugfs)));
    }  // the region goes: its zswap entries are freed with it
    z.set("enabled", "N");
    r["zswap_after_free"] = to_json(read_zswap_debugfs(kDebugfs));
    runs.push_back(r);
  }
  out["runs"] = runs;
  return out;
}

}  // namespace swapbench
