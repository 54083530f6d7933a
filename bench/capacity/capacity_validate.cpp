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
#include "workloads/measure/kstat.h"
#include "workloads/pages/region.h"

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

// /proc/meminfo's SwapCached in bytes, or -1 if the line is missing.
int64_t swap_cached_bytes() {
  std::ifstream f("/proc/meminfo");
  const int64_t kb = get(parse_key_values(f), "SwapCached:");
  return kb < 0 ? -1 : kb * 1024;
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

// One validation: the saved pages, the borrowed machine, and the runs made over them.
class Validation {
 public:
  Validation(const std::string& raw_pages, size_t pages, const ValidateOptions& o)
      : raw_pages_(raw_pages), pages_(pages), o_(o), in_(raw_pages, std::ios::binary) {
    if (!in_) throw InputError("--validate " + raw_pages + ": " + std::strerror(errno));
    b_ = borrow(plan());
    zram_ = zram_devices(*b_);  // the plan has zram: borrow() made its state
    if (!b_->zswap && zram_->devices.empty())
      throw SystemError("neither zswap nor zram here: nothing to validate against (use a kernel with CONFIG_ZSWAP or "
                        "CONFIG_ZRAM; " + zram_->reason + ")");
    if (!b_->memcg) throw SystemError("no memory cgroup to hold the region: " + b_->memcg_reason);
  }

  nlohmann::json result() {
    nlohmann::json out;
    out["pages"] = pages_;
    out["memcg"] = b_->memcg->info().name();
    out["refused"] = b_->compressors.refused;
    // The model's rules follow the kernel's version: the release travels with the figures (a guest's
    // result is read on the host, whose kernel is another).
    out["kernel"] = kernel_json();
    out["accelerator"] = detect_accelerator();
    if (!b_->zswap) out["zswap_skipped"] = "zswap is not built into this kernel (fix: a kernel with CONFIG_ZSWAP)";
    nlohmann::json zpool_refused = nlohmann::json::object();
    out["runs"] = zswap_runs(zpool_refused);
    out["zpool_refused"] = zpool_refused;
    out["zram_runs"] = zram_runs();
    out["zram_offered"] = zram_->offered;
    if (zram_->devices.empty())
      out["zram_skipped"] = zram_->reason.empty() ? "zram offers none of the compressors asked for" : zram_->reason;
    return out;
  }

 private:
  Plan plan() const {
    Plan p;
    p.pages = pages_;
    p.compressors = o_.compressors;
    p.backends = {Backend::Zswap, Backend::Zram};
    p.swap_bytes = swap_bytes_for(pages_);
    p.swap_device = o_.swap_device;
    p.root = true;
    return p;
  }

  // The saved pages into a fresh region, charged to the suite's cgroup (where they are first touched).
  void fill(Region& region) {
    b_->memcg->enter();
    try {
      in_.clear();
      in_.seekg(0);
      for (size_t i = 0; i < pages_; ++i)
        if (!in_.read(reinterpret_cast<char*>(region.page(i)), kPageSize)) throw InputError(raw_pages_ + ": short read");
    } catch (...) {
      b_->memcg->leave();  // a process left inside would keep the cgroup from being removed
      throw;
    }
    b_->memcg->leave();
  }

  // MADV_PAGEOUT skips a page it cannot isolate at that instant; a few passes reach them all.
  static void pageout(Region& region, size_t pages, nlohmann::json& r) {
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
  }

  // Up to 6.14 a freed swap slot waits in a per-CPU cache of 64 (mm/swap_slots.c) before it is
  // really freed, and its zswap entry with it: a run's last entries outlive its region and keep the
  // previous pool alive, to be freed during a later run (seen on 6.1: z3fold pools of the runs
  // after the first 1.6-4.3% short of the model, the first exact). Zero pages paged out and freed
  // push them out; their own entries hold no pool memory (zero-length entries up to 6.11, none
  // from 6.12).
  void flush_freed_slots() {
    constexpr size_t kFlushPages = 128;  // two caches' worth
    Region flush(kFlushPages);
    b_->memcg->enter();
    for (size_t i = 0; i < kFlushPages; ++i) std::memset(flush.page(i), 0, kPageSize);
    b_->memcg->leave();
    nlohmann::json ignored;
    pageout(flush, kFlushPages, ignored);
  }

  // Why zswap cannot run with this allocator here, or "" once it is switched to it.
  std::string use_zpool(ZswapGuard& z, const std::string& zpool) {
    if (z.has("zpool")) return switch_zpool(z, zpool);
    return zpool == "zsmalloc" ? "" : "this kernel's zswap has no zpool parameter (6.18+: zsmalloc only)";
  }

  // 6.18+ has no zpool parameter: zsmalloc is the only allocator.
  std::vector<std::string> zpools() const {
    if (!o_.zpools.empty()) return o_.zpools;
    return {b_->zswap && b_->zswap->has("zpool") ? b_->zswap->get("zpool") : "zsmalloc"};
  }

  nlohmann::json zswap_runs(nlohmann::json& zpool_refused) {
    nlohmann::json runs = nlohmann::json::array();
    if (!b_->zswap) return runs;
    for (const auto& zpool : zpools()) {
      ZswapGuard& z = *b_->zswap;
      const std::string why = use_zpool(z, zpool);
      if (!why.empty()) {
        zpool_refused[zpool] = why;
        continue;
      }
      for (const auto& comp : b_->compressors.accepted) runs.push_back(zswap_run(z, comp));
    }
    return runs;
  }

  // The previous compressor's or allocator's pool is freed asynchronously after the switch
  // (z3fold frees its pages from a work queue): wait (up to 3 s) until nothing of it is left,
  // so its last pages are not freed inside this run's deltas. Where others keep pages in
  // zswap, "left" is pool_total_size unchanged over 200 ms. Returns the figures as they stand.
  static Stats wait_for_previous_pool(nlohmann::json& r) {
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
    return z0;
  }

  nlohmann::json zswap_run(ZswapGuard& z, const std::string& comp) {
    if (z.get("compressor") != comp) z.set("compressor", comp);
    z.set("enabled", "Y");
    nlohmann::json r;
    r["compressor"] = comp;
    r["zpool"] = z.has("zpool") ? z.get("zpool") : "zsmalloc";
    r["zswap_params"] = z.now();
    {
      Region region(pages_);
      fill(region);
      const Stats z0 = wait_for_previous_pool(r);
      const Stats v0 = read_vmstat_all(), m0 = b_->memcg->stat();
      pageout(region, pages_, r);
      const Stats z1 = read_zswap_debugfs(kDebugfs), v1 = read_vmstat_all(), m1 = b_->memcg->stat();
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
    return r;
  }

  // zram: one fresh device per compressor it offers (bench/borrow made and journalled them), the
  // only swap area on while its run pages out, zswap off so no page stops short of it. A fresh
  // device holds only mkswap's header page (its mm_stat_before; analysis/capacity/ counts the
  // header's object into the pool), so mm_stat's change over the page-out is what these pages cost.
  nlohmann::json zram_runs() {
    nlohmann::json zruns = nlohmann::json::array();
    if (b_->zswap && b_->zswap->get("enabled") != "N") b_->zswap->set("enabled", "N");
    for (const auto& zg : zram_->devices) zruns.push_back(zram_run(*zg));
    return zruns;
  }

  nlohmann::json zram_run(ZramGuard& zg) {
    nlohmann::json r;
    r["compressor"] = zg.compressor();
    r["device"] = zg.device();
    r["disksize"] = zg.disksize();
    nlohmann::json set_block;  // what a set's result would say of its device: r says it here
    switch_to(*b_, Backend::Zram, zg.compressor(), set_block);
    int64_t stored_before = -1;
    {
      Region region(pages_);
      fill(region);
      const Stats s0 = zg.stats(), v0 = read_vmstat_all(), m0 = b_->memcg->stat();
      stored_before = get(s0, "mm_stat.orig_data_size");
      pageout(region, pages_, r);
      const Stats s1 = zg.stats(), v1 = read_vmstat_all(), m1 = b_->memcg->stat();
      r["mm_stat_before"] = mm_stat(s0);
      r["mm_stat_delta"] = zram_footprint(s0, s1);
      deltas(r, v0, v1, m0, m1);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      r["mm_stat_settled_delta"] = zram_footprint(s0, zg.stats());
    }  // the region goes: its slots are freed (swap_free -> zram's slot-free notify)
    wait_for_device_emptied(zg, stored_before, r);
    zg.swapoff();
    return r;
  }

  // A slot whose page still sits in the swap cache stays allocated after the region is unmapped:
  // unmapping drops such a page only when swap is more than half full, otherwise it goes when
  // reclaim takes it, which on an idle machine may be never (CI runs on 6.18 saw 2 and 5 pages
  // held). Up to 2 s for the device to empty, then SwapCached is recorded beside what it still
  // holds: a leftover larger than the swap cache is a real one.
  static void wait_for_device_emptied(ZramGuard& zg, int64_t stored_before, nlohmann::json& r) {
    Stats after = zg.stats();
    int waited_ms = 0;
    for (; stored_before >= 0 && waited_ms < 2000 && get(after, "mm_stat.orig_data_size") > stored_before;
         waited_ms += 50) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      after = zg.stats();
    }
    r["mm_stat_after_free"] = mm_stat(after);
    r["after_free_waited_ms"] = waited_ms;
    r["swap_cached_bytes_after_free"] = swap_cached_bytes();
  }

  const std::string raw_pages_;
  const size_t pages_;
  const ValidateOptions& o_;
  std::ifstream in_;
  std::unique_ptr<Borrowed> b_;
  const ZramDevices* zram_ = nullptr;
};

}  // namespace

const std::vector<std::string> kKnownZpools = {"zsmalloc", "zbud", "z3fold"};

nlohmann::json capacity_validate(const std::string& raw_pages, const ValidateOptions& o) {
  struct stat st;
  if (stat(raw_pages.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0 || st.st_size % kPageSize)
    throw InputError("--validate " + raw_pages + ": accepted: a raw pages file written by --save-pages (a non-empty "
                     "multiple of 4096 bytes)");
  Validation v(raw_pages, static_cast<size_t>(st.st_size) / kPageSize, o);
  return v.result();
}

}  // namespace swapbench
