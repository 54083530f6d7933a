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

// A device's mm_stat fields that capacity planning uses, as they stand.
nlohmann::json mm_stat(const Stats& s) {
  Stats zero;
  for (const auto& kv : s) zero[kv.first] = 0;
  return zram_footprint(zero, s);
}

// What the region's page-out moved: machine-wide vmstat (other processes' swap-outs land there
// too) and the suite cgroup's own figures (only the region's).
void deltas(nlohmann::json& r, const Stats& v0, const Stats& v1, const Stats& m0, const Stats& m1) {
  nlohmann::json vd;
  for (const char* k : {"zswpout", "pswpout", "swpout_zero", "pswpin", "zswpin", "zswpwb"})
    if (get(v0, k) >= 0 && get(v1, k) >= 0) vd[k] = get(v1, k) - get(v0, k);
  r["vmstat_delta"] = vd;
  nlohmann::json md;
  for (const char* k : {"zswap", "zswapped", "swap", "rss"})
    if (get(m0, k) >= 0 && get(m1, k) >= 0) md[k] = get(m1, k) - get(m0, k);
  r["memcg_delta"] = md;
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
  p.backends = {Backend::Zswap, Backend::Zram};
  p.swap_bytes = swap_bytes_for(pages);
  p.root = true;
  auto b = borrow(p);
  if (!b->zswap && b->zram.empty())
    throw SystemError("neither zswap nor zram here: nothing to validate against (use a kernel with CONFIG_ZSWAP or "
                      "CONFIG_ZRAM; " + b->zram_reason + ")");
  if (!b->memcg) throw SystemError("no memory cgroup to hold the region: " + b->memcg_reason);
  nlohmann::json out;
  out["pages"] = pages;
  out["memcg"] = b->memcg->info().name();
  out["refused"] = b->compressors.refused;
  if (!b->zswap) out["zswap_skipped"] = "zswap is not built into this kernel (fix: a kernel with CONFIG_ZSWAP)";
  // The saved pages into a fresh region, charged to the suite's cgroup (where they are first touched).
  auto fill = [&](Region& region) {
    b->memcg->enter();
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
  };
  // MADV_PAGEOUT skips a page it cannot isolate at that instant; a few passes reach them all.
  auto pageout = [](Region& region, nlohmann::json& r) {
    int passes = 0;
    size_t resident = region.resident();
    while (resident > 0 && passes < 5) {
      if (int e = region.pageout_all()) r["pageout_error"] = std::strerror(e);
      ++passes;
      resident = region.resident();
    }
    r["pageout_passes"] = passes;
    r["resident_after"] = resident;
  };
  nlohmann::json runs = nlohmann::json::array();
  const std::vector<std::string> none;
  for (const auto& comp : b->zswap ? b->compressors.accepted : none) {
    ZswapGuard& z = *b->zswap;
    if (z.get("compressor") != comp) z.set("compressor", comp);
    z.set("enabled", "Y");
    nlohmann::json r;
    r["compressor"] = comp;
    r["zswap_params"] = z.now();
    {
      Region region(pages);
      fill(region);
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
      pageout(region, r);
      const Stats z1 = read_zswap_debugfs(kDebugfs), v1 = read_vmstat_all(), m1 = b->memcg->stat();
      r["zswap_before"] = to_json(z0);
      r["zswap_delta"] = to_json(delta(z0, z1));
      deltas(r, v0, v1, m0, m1);
      // Read the figures once more a moment later: stores are synchronous, so nothing should move.
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      r["zswap_settled_delta"] = to_json(delta(z0, read_zswap_debugfs(kDebugfs)));
    }  // the region goes: its zswap entries are freed with it
    z.set("enabled", "N");
    r["zswap_after_free"] = to_json(read_zswap_debugfs(kDebugfs));
    runs.push_back(r);
  }
  out["runs"] = runs;

  // zram: one fresh device per compressor it offers (bench/borrow made and journalled them), the
  // only swap area on while its run pages out, zswap off so no page stops short of it. A fresh
  // device holds only mkswap's header page (its mm_stat_before; analysis/capacity.py counts the
  // header's object into the pool), so mm_stat's change over the page-out is what these pages cost.
  nlohmann::json zruns = nlohmann::json::array();
  if (b->zswap && b->zswap->get("enabled") != "N") b->zswap->set("enabled", "N");
  for (const auto& zg : b->zram) {
    nlohmann::json r;
    r["compressor"] = zg->compressor();
    r["device"] = zg->device();
    r["disksize"] = zg->disksize();
    use_swap_for(*b, Backend::Zram, zg->compressor());
    {
      Region region(pages);
      fill(region);
      const Stats s0 = zg->stats(), v0 = read_vmstat_all(), m0 = b->memcg->stat();
      pageout(region, r);
      const Stats s1 = zg->stats(), v1 = read_vmstat_all(), m1 = b->memcg->stat();
      r["mm_stat_before"] = mm_stat(s0);
      r["mm_stat_delta"] = zram_footprint(s0, s1);
      deltas(r, v0, v1, m0, m1);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      r["mm_stat_settled_delta"] = zram_footprint(s0, zg->stats());
    }  // the region goes: its slots are freed (swap_free -> zram's slot-free notify)
    r["mm_stat_after_free"] = mm_stat(zg->stats());
    zg->swapoff();
    zruns.push_back(r);
  }
  out["zram_runs"] = zruns;
  out["zram_offered"] = b->zram_offered;
  if (b->zram.empty())
    out["zram_skipped"] = b->zram_reason.empty() ? "zram offers none of the compressors asked for" : b->zram_reason;
  return out;
}

}  // namespace swapbench
