#include "bench/capacity/capacity_validate.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iostream>
#include <thread>

#include "bench/backend.h"
#include "bench/backends/zram.h"
#include "bench/borrow.h"
#include "bench/plan.h"
#include "bench/results.h"
#include "bench/capacity/page_source.h"
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

// Pages of the region still mapped (pagemap's present bit, 63): the ones page-out never reached.
// mincore (Region::resident) also counts pages in the swap cache, which holds a page zswap refused
// after its write to the swap device until memory is short; those left the process all the same.
// pread, not an ifstream: libstdc++'s seek and read on /proc/self/pagemap fail (seen: nothing read).
size_t mapped_pages(Region& region, size_t pages) {
  std::vector<uint64_t> e(pages);
  const size_t want = pages * sizeof(uint64_t);
  const int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  const ssize_t got = fd < 0 ? -1
                             : pread(fd, e.data(), want,
                                     static_cast<off_t>(reinterpret_cast<uintptr_t>(region.page(0)) / kPageSize *
                                                        sizeof(uint64_t)));
  if (fd >= 0) close(fd);
  if (got != static_cast<ssize_t>(want)) return region.resident();  // no pagemap: the wider count
  size_t n = 0;
  for (uint64_t x : e) n += (x >> 63) & 1;
  return n;
}

// zswap entries holding pool memory: all but the same-filled ones (zero-length, up to 6.11).
int64_t data_entries(const Stats& z) {
  return get(z, "stored_pages") - std::max<int64_t>(0, get(z, "same_filled_pages"));
}

// Switches zswap to this allocator, or says why not. Enabled first: a disabled zswap stores any
// name unchecked (ZswapGuard::probe_compressors), an enabled one creates the pool or refuses.
std::string switch_zpool(ZswapGuard& z, const std::string& zpool) {
  if (z.get("zpool") == zpool) return "";
  z.set("enabled", "Y");
  try {
    z.set("zpool", zpool);
  } catch (const SystemError& e) {
    return e.what();
  }
  return z.get("zpool") == zpool ? "" : "kernel kept " + z.get("zpool");
}

}  // namespace

const std::vector<std::string> kKnownZpools = {"zsmalloc", "zbud", "z3fold"};

nlohmann::json capacity_validate(const std::string& raw_pages, const ValidateOptions& o) {
  struct stat st;
  if (stat(raw_pages.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0 || st.st_size % kPageSize)
    throw InputError("--validate " + raw_pages + ": accepted: a raw pages file written by --save-pages (a non-empty "
                     "multiple of 4096 bytes)");
  const size_t pages = static_cast<size_t>(st.st_size) / kPageSize;
  std::ifstream in(raw_pages, std::ios::binary);
  if (!in) throw InputError("--validate " + raw_pages + ": " + std::strerror(errno));

  Plan p;
  p.pages = pages;
  p.compressors = o.compressors;
  p.backends = {Backend::Zswap, Backend::Zram};
  p.swap_bytes = swap_bytes_for(pages);
  p.swap_device = o.swap_device;
  p.root = true;
  auto b = borrow(p);
  const ZramDevices& zram = *zram_devices(*b);  // the plan has zram: borrow() made its state
  if (!b->zswap && zram.devices.empty())
    throw SystemError("neither zswap nor zram here: nothing to validate against (use a kernel with CONFIG_ZSWAP or "
                      "CONFIG_ZRAM; " + zram.reason + ")");
  if (!b->memcg) throw SystemError("no memory cgroup to hold the region: " + b->memcg_reason);
  nlohmann::json out;
  out["pages"] = pages;
  out["memcg"] = b->memcg->info().name();
  out["refused"] = b->compressors.refused;
  // The model's rules follow the kernel's version: the release travels with the figures (a guest's
  // result is read on the host, whose kernel is another).
  out["kernel"] = kernel_json();
  out["accelerator"] = detect_accelerator();
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
  auto pageout = [pages](Region& region, nlohmann::json& r) {
    int passes = 0;
    size_t mapped = mapped_pages(region, pages);
    while (mapped > 0 && passes < 5) {
      if (int e = region.pageout_all()) r["pageout_error"] = std::strerror(e);
      ++passes;
      mapped = mapped_pages(region, pages);
    }
    r["pageout_passes"] = passes;
    r["resident_after"] = mapped;
    r["in_swap_cache_after"] = region.resident() - mapped;
  };
  // Up to 6.14 a freed swap slot waits in a per-CPU cache of 64 (mm/swap_slots.c) before it is
  // really freed, and its zswap entry with it: a run's last entries outlive its region and keep the
  // previous pool alive, to be freed during a later run (seen on 6.1: z3fold pools of the runs
  // after the first 1.6-4.3% short of the model, the first exact). Zero pages paged out and freed
  // push them out; their own entries hold no pool memory (zero-length entries up to 6.11, none
  // from 6.12).
  auto flush_freed_slots = [&] {
    constexpr size_t kFlushPages = 128;  // two caches' worth
    Region flush(kFlushPages);
    b->memcg->enter();
    for (size_t i = 0; i < kFlushPages; ++i) std::memset(flush.page(i), 0, kPageSize);
    b->memcg->leave();
    nlohmann::json ignored;
    pageout(flush, ignored);
  };
  nlohmann::json runs = nlohmann::json::array();
  const std::vector<std::string> none;
  // 6.18+ has no zpool parameter: zsmalloc is the only allocator.
  std::vector<std::string> zpools = o.zpools;
  if (zpools.empty()) zpools = {b->zswap && b->zswap->has("zpool") ? b->zswap->get("zpool") : "zsmalloc"};
  nlohmann::json zpool_refused = nlohmann::json::object();
  for (const auto& zpool : b->zswap ? zpools : none) {
    ZswapGuard& z = *b->zswap;
    std::string why = z.has("zpool") ? switch_zpool(z, zpool)
                      : zpool == "zsmalloc" ? ""
                                            : "this kernel's zswap has no zpool parameter (6.18+: zsmalloc only)";
    if (!why.empty()) {
      zpool_refused[zpool] = why;
      continue;
    }
    for (const auto& comp : b->compressors.accepted) {
      if (z.get("compressor") != comp) z.set("compressor", comp);
      z.set("enabled", "Y");
      nlohmann::json r;
      r["compressor"] = comp;
      r["zpool"] = z.has("zpool") ? z.get("zpool") : "zsmalloc";
      r["zswap_params"] = z.now();
      {
        Region region(pages);
        fill(region);
        // The previous compressor's or allocator's pool is freed asynchronously after the switch
        // (z3fold frees its pages from a work queue): wait (up to 3 s) until nothing of it is left,
        // so its last pages are not freed inside this run's deltas. Where others keep pages in
        // zswap, "left" is pool_total_size unchanged over 200 ms.
        Stats z0 = read_zswap_debugfs(kDebugfs);
        int waited_ms = 0, steady_ms = 0;
        while (waited_ms < 3000 && (data_entries(z0) == 0 ? get(z0, "pool_total_size") > 0 : steady_ms < 200)) {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
          waited_ms += 50;
          const Stats z = read_zswap_debugfs(kDebugfs);
          steady_ms = get(z, "pool_total_size") == get(z0, "pool_total_size") ? steady_ms + 50 : 0;
          z0 = z;
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
      flush_freed_slots();
      z.set("enabled", "N");
      r["zswap_after_free"] = to_json(read_zswap_debugfs(kDebugfs));
      runs.push_back(r);
    }
  }
  out["runs"] = runs;
  out["zpool_refused"] = zpool_refused;

  // zram: one fresh device per compressor it offers (bench/borrow made and journalled them), the
  // only swap area on while its run pages out, zswap off so no page stops short of it. A fresh
  // device holds only mkswap's header page (its mm_stat_before; analysis/capacity/ counts the
  // header's object into the pool), so mm_stat's change over the page-out is what these pages cost.
  nlohmann::json zruns = nlohmann::json::array();
  if (b->zswap && b->zswap->get("enabled") != "N") b->zswap->set("enabled", "N");
  for (const auto& zg : zram.devices) {
    nlohmann::json r;
    r["compressor"] = zg->compressor();
    r["device"] = zg->device();
    r["disksize"] = zg->disksize();
    nlohmann::json set_block;  // what a set's result would say of its device: r says it here
    switch_to(*b, Backend::Zram, zg->compressor(), set_block);
    int64_t stored_before = -1;
    {
      Region region(pages);
      fill(region);
      const Stats s0 = zg->stats(), v0 = read_vmstat_all(), m0 = b->memcg->stat();
      stored_before = get(s0, "mm_stat.orig_data_size");
      pageout(region, r);
      const Stats s1 = zg->stats(), v1 = read_vmstat_all(), m1 = b->memcg->stat();
      r["mm_stat_before"] = mm_stat(s0);
      r["mm_stat_delta"] = zram_footprint(s0, s1);
      deltas(r, v0, v1, m0, m1);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      r["mm_stat_settled_delta"] = zram_footprint(s0, zg->stats());
    }  // the region goes: its slots are freed (swap_free -> zram's slot-free notify)
    // A slot whose page still sits in the swap cache is freed only when the kernel drops that page,
    // lazily: the likely reason one CI run on 6.18 saw the device hold 2 pages' worth right after
    // the region was unmapped. Up to 2 s for that before the device is judged: a page it still
    // holds then is a real leftover.
    Stats after = zg->stats();
    int waited_ms = 0;
    for (; stored_before >= 0 && waited_ms < 2000 && get(after, "mm_stat.orig_data_size") > stored_before;
         waited_ms += 50) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      after = zg->stats();
    }
    r["mm_stat_after_free"] = mm_stat(after);
    r["after_free_waited_ms"] = waited_ms;
    zg->swapoff();
    zruns.push_back(r);
  }
  out["zram_runs"] = zruns;
  out["zram_offered"] = zram.offered;
  if (zram.devices.empty())
    out["zram_skipped"] = zram.reason.empty() ? "zram offers none of the compressors asked for" : zram.reason;
  return out;
}

}  // namespace swapbench
