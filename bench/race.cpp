#include "bench/race.h"

#include <pthread.h>
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <sstream>
#include <thread>

#include "workloads/pinning.h"
#include "workloads/region.h"
#include "workloads/stamp.h"
#include "workloads/timer.h"

namespace swapbench {

std::string StaleReport::describe() const {
  std::ostringstream o;
  o << "page " << page << " at " << at_s << " s: " << what << " (expected generation " << expected_generation
    << ", found " << found_generation << ")";
  return o.str();
}

std::optional<StaleReport> check_page(const uint8_t* page, uint64_t index, uint64_t expected_generation, double at_s) {
  auto m = verify_stamp(page, index, expected_generation);
  if (!m) return std::nullopt;
  Stamp found;
  std::memcpy(&found, page, sizeof found);
  return StaleReport{index, expected_generation, found.generation, at_s, m->fault, m->what};
}

namespace {

// How long the writeback thread forces writeback, then lets stores through again. Short windows,
// many of them: the race needs a writeback in flight while a slot is freed and reused, not a pool
// drained once.
constexpr auto kPressureOn = std::chrono::milliseconds(3);
constexpr auto kPressureOff = std::chrono::milliseconds(2);
constexpr size_t kMaxReports = 8;
// Pages per round: all faulted, then all dropped, then all stored again in the same order. One page
// at a time, its new zswap entry would be the slab object its old entry just freed (the slab hands
// back the last object freed), and a writeback of the old entry would find "its" entry still in the
// tree (6.12 compares pointers) and write back correct data: a race that cannot be seen. In a round
// of several, entries and slots change hands between pages.
constexpr size_t kBatch = 4;

}  // namespace

RaceResult run_race(const RaceConfig& cfg, const PageProfile& prof, RaceHooks& hooks) {
  RaceResult res;
  if (cfg.fault_cpu >= 0) pin_current_thread(cfg.fault_cpu);
  std::vector<uint64_t> gen(cfg.pages, 1);
  // The whole race runs inside the workload's cgroup: every refilled page is charged there.
  hooks.enter();
  Region r(cfg.pages);
  for (size_t i = 0; i < cfg.pages; ++i) prof.fill(r.page(i), i, gen[i]);
  if (int e = r.pageout_all()) {
    hooks.leave();
    res.error = std::string("MADV_PAGEOUT failed: ") + std::strerror(e);
    return res;
  }
  const uint64_t wb0 = hooks.written_back();
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> cycles{0};
  std::string pressure_error;
  std::thread pressure([&] {
    // Named, so a crash report (workloads/crash_report.h) says which of the two threads crashed.
    pthread_setname_np(pthread_self(), "sb-writeback");
    // An exception escaping a thread ends the process without giving the machine back (terminate,
    // an abort): the first failure, pinning included, stops the pressure and the race, and is
    // reported.
    try {
      if (cfg.writeback_cpu >= 0) pin_current_thread(cfg.writeback_cpu);
      while (!stop.load(std::memory_order_relaxed)) {
        hooks.pressure_on();
        std::this_thread::sleep_for(kPressureOn);
        hooks.pressure_off();
        std::this_thread::sleep_for(kPressureOff);
        cycles.fetch_add(1, std::memory_order_relaxed);
      }
    } catch (const std::exception& e) {
      pressure_error = std::string("forcing writeback failed: ") + e.what();
      stop = true;
    }
  });
  const uint64_t t0 = now_ns();
  auto elapsed = [&] { return static_cast<double>(now_ns() - t0) * 1e-9; };
  auto record = [&](const StaleReport& s) {
    if (s.stale()) ++res.stale_pages;
    else ++res.damaged_pages;
    if (res.first.size() < kMaxReports) res.first.push_back(s);
  };
  uint64_t x = cfg.seed * 0x9e3779b97f4a7c15ull + 1;
  auto next_page = [&] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return static_cast<size_t>(x % cfg.pages);
  };
  bool fed_stale = false;
  std::vector<size_t> batch(std::min(kBatch, cfg.pages));
  while (elapsed() < cfg.duration_s && !stop.load(std::memory_order_relaxed)) {
    for (size_t b = 0; b < batch.size(); ++b) {
      size_t i = next_page();
      while (std::find(batch.begin(), batch.begin() + static_cast<long>(b), i) != batch.begin() + static_cast<long>(b))
        i = next_page();
      batch[b] = i;
      uint8_t* p = r.page(i);
      (void)*static_cast<volatile uint8_t*>(p);  // fault it in: from zswap, disk or the swap cache
      if (static_cast<long>(i) == cfg.test_stale_page && !fed_stale && gen[i] > 1) {
        // tests only: what a kernel without the recheck would hand back, an intact older generation
        prof.fill(p, i, gen[i] - 1);
        fed_stale = true;
      }
      if (auto bad = check_page(p, i, gen[i], elapsed())) record(*bad);
    }
    for (size_t i : batch) madvise(r.page(i), kPageSize, MADV_DONTNEED);  // frees the pages and their slots
    for (size_t i : batch) {
      ++gen[i];
      prof.fill(r.page(i), i, gen[i]);                 // a new generation in a fresh page
      madvise(r.page(i), kPageSize, MADV_PAGEOUT);     // a new store, into a recycled slot
      ++res.operations;
    }
  }
  stop = true;
  pressure.join();
  res.error = pressure_error;
  hooks.pressure_off();
  res.seconds = elapsed();
  res.pressure_cycles = cycles.load();
  // Every page once more, after the dust settles: a stale page that was not picked again is caught here.
  for (size_t i = 0; i < cfg.pages; ++i) {
    if (static_cast<long>(i) == cfg.test_stale_page && !fed_stale) {
      prof.fill(r.page(i), i, gen[i] - 1 > 0 ? gen[i] - 1 : 0);  // tests only, as above
      fed_stale = true;
    }
    if (auto bad = check_page(r.page(i), i, gen[i], elapsed())) record(*bad);
    ++res.final_checked;
  }
  res.writebacks = hooks.written_back() - wb0;
  hooks.leave();
  return res;
}

}  // namespace swapbench
