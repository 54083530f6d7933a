#include "bench/race.h"

#include <pthread.h>
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <sstream>
#include <thread>

#include "workloads/cpu/pinning.h"
#include "workloads/measure/timer.h"
#include "workloads/pages/region.h"
#include "workloads/pages/stamp.h"

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

// One race: the fault thread (the caller's) refaults, drops and stores pages again in rounds while
// a second thread forces writeback on and off.
class Race {
 public:
  Race(const RaceConfig& cfg, const PageProfile& prof, RaceHooks& hooks)
      : cfg_(cfg), prof_(prof), hooks_(hooks), gen_(cfg.pages, 1), x_(cfg.seed * 0x9e3779b97f4a7c15ull + 1) {}

  RaceResult run() {
    if (cfg_.fault_cpu >= 0) pin_current_thread(cfg_.fault_cpu);
    // The whole race runs inside the workload's cgroup: every refilled page is charged there.
    hooks_.enter();
    Region r(cfg_.pages);
    for (size_t i = 0; i < cfg_.pages; ++i) prof_.fill(r.page(i), i, gen_[i]);
    if (int e = r.pageout_all()) {
      hooks_.leave();
      res_.error = std::string("MADV_PAGEOUT failed: ") + std::strerror(e);
      return res_;
    }
    const uint64_t wb0 = hooks_.written_back();
    std::thread pressure([this] { pressure_loop(); });
    t0_ = now_ns();
    std::vector<size_t> batch(std::min(kBatch, cfg_.pages));
    while (elapsed() < cfg_.duration_s && !stop_.load(std::memory_order_relaxed)) {
      fault_in_batch(r, batch);
      store_again(r, batch);
    }
    stop_ = true;
    pressure.join();
    res_.error = pressure_error_;
    hooks_.pressure_off();
    res_.seconds = elapsed();
    res_.pressure_cycles = cycles_.load();
    check_every_page(r);
    res_.writebacks = hooks_.written_back() - wb0;
    hooks_.leave();
    return res_;
  }

 private:
  void pressure_loop() {
    // Named, so a crash report (workloads/diagnostics/crash_report.h) says which of the two threads crashed.
    pthread_setname_np(pthread_self(), "sb-writeback");
    // An exception escaping a thread ends the process without giving the machine back (terminate,
    // an abort): the first failure, pinning included, stops the pressure and the race, and is
    // reported.
    try {
      if (cfg_.writeback_cpu >= 0) pin_current_thread(cfg_.writeback_cpu);
      while (!stop_.load(std::memory_order_relaxed)) {
        hooks_.pressure_on();
        std::this_thread::sleep_for(kPressureOn);
        hooks_.pressure_off();
        std::this_thread::sleep_for(kPressureOff);
        cycles_.fetch_add(1, std::memory_order_relaxed);
      }
    } catch (const std::exception& e) {
      pressure_error_ = std::string("forcing writeback failed: ") + e.what();
      stop_ = true;
    }
  }

  double elapsed() const { return static_cast<double>(now_ns() - t0_) * 1e-9; }

  void record(const StaleReport& s) {
    if (s.stale()) ++res_.stale_pages;
    else ++res_.damaged_pages;
    if (res_.first.size() < kMaxReports) res_.first.push_back(s);
  }

  // xorshift64: the same seed picks the same pages.
  size_t next_page() {
    x_ ^= x_ << 13;
    x_ ^= x_ >> 7;
    x_ ^= x_ << 17;
    return static_cast<size_t>(x_ % cfg_.pages);
  }

  // A round of distinct pages, each faulted in and checked.
  void fault_in_batch(Region& r, std::vector<size_t>& batch) {
    for (size_t b = 0; b < batch.size(); ++b) {
      size_t i = next_page();
      while (std::find(batch.begin(), batch.begin() + static_cast<long>(b), i) != batch.begin() + static_cast<long>(b))
        i = next_page();
      batch[b] = i;
      uint8_t* p = r.page(i);
      (void)*static_cast<volatile uint8_t*>(p);  // fault it in: from zswap, disk or the swap cache
      if (static_cast<long>(i) == cfg_.test_stale_page && !fed_stale_ && gen_[i] > 1) {
        // tests only: what a kernel without the recheck would hand back, an intact older generation
        prof_.fill(p, i, gen_[i] - 1);
        fed_stale_ = true;
      }
      if (auto bad = check_page(p, i, gen_[i], elapsed())) record(*bad);
    }
  }

  void store_again(Region& r, const std::vector<size_t>& batch) {
    for (size_t i : batch) madvise(r.page(i), kPageSize, MADV_DONTNEED);  // frees the pages and their slots
    for (size_t i : batch) {
      ++gen_[i];
      prof_.fill(r.page(i), i, gen_[i]);              // a new generation in a fresh page
      madvise(r.page(i), kPageSize, MADV_PAGEOUT);    // a new store, into a recycled slot
      ++res_.operations;
    }
  }

  // Every page once more, after the dust settles: a stale page that was not picked again is caught here.
  void check_every_page(Region& r) {
    for (size_t i = 0; i < cfg_.pages; ++i) {
      if (static_cast<long>(i) == cfg_.test_stale_page && !fed_stale_) {
        prof_.fill(r.page(i), i, gen_[i] - 1 > 0 ? gen_[i] - 1 : 0);  // tests only, as above
        fed_stale_ = true;
      }
      if (auto bad = check_page(r.page(i), i, gen_[i], elapsed())) record(*bad);
      ++res_.final_checked;
    }
  }

  const RaceConfig& cfg_;
  const PageProfile& prof_;
  RaceHooks& hooks_;
  std::vector<uint64_t> gen_;
  uint64_t x_;
  RaceResult res_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> cycles_{0};
  std::string pressure_error_;
  uint64_t t0_ = 0;
  bool fed_stale_ = false;
};

}  // namespace

RaceResult run_race(const RaceConfig& cfg, const PageProfile& prof, RaceHooks& hooks) {
  return Race(cfg, prof, hooks).run();
}

}  // namespace swapbench
