// The Runner times sets: one SetRecord per repetition of each set, with its proof of path, stamps
// and counters. Internal to bench/ (set_runner.cpp: swap-in, swap-out and the floors;
// writeback_sets.cpp: the writeback and race sets).
#pragma once
#include <benchmark/benchmark.h>

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/borrow.h"
#include "bench/plan.h"
#include "bench/scenario.h"
#include "workloads/histogram.h"
#include "workloads/kstat.h"
#include "workloads/page_profile.h"
#include "workloads/pmu.h"
#include "workloads/proof.h"
#include "workloads/region.h"

namespace swapbench {

using nlohmann::json;

// memory.zswap.max for the memcg writeback mechanism (writeback_sets.cpp says why this size).
uint64_t zswap_max_bytes(size_t pages);
// A repetition's host reference samples (workloads/host_ref.h) as its result block; null if none.
json host_ref_json(std::vector<double> ns);

struct SetRecord {
  Scenario sc;
  int repetition = 0;
  json sb;
  std::string error;
  bool valid = false;
  LatencySummary lat;
};

class Runner {
 public:
  // `b` is null for a run that borrows nothing (not root): only unprivileged sets reach it.
  Runner(const Plan& p, Borrowed* b, std::vector<std::string> events) : p_(p), b_(b), events_(std::move(events)) {}

  std::vector<SetRecord> records;
  bool hard_failure = false;
  int total_runs = 0;

  void run_set(benchmark::State& st, const Scenario& sc);

 private:
  void run_timed_set(benchmark::State& st, const Scenario& sc);
  void run_writeback_set(benchmark::State& st, const Scenario& sc);
  void run_race_set(benchmark::State& st, const Scenario& sc);
  SetRecord begin(const Scenario& sc);
  void finish(benchmark::State& st, SetRecord& rec, Verdict& v, std::vector<uint64_t>& samples, size_t k,
              const StatDelta& d, CounterGroup& pmu, uint64_t resident_before);
  void check_stamps(Region& r, const PageProfile& prof, uint64_t gen, SetRecord& rec);
  // The mte suite's tagged sets (workloads/arch/arm64/mte.h): tags set before the fill, and every
  // granule's tag checked after swap-in; the gate runs once per process before the first.
  void tag_region(Region& r, uint64_t gen);
  void check_tags(Region& r, uint64_t gen, SetRecord& rec);
  bool mte_gate_passed_ = false;
  const PageProfile& profile(const ProfileSpec& s);
  StatSnapshot snapshot() const;
  json evict_swapcache(Region& r);
  void configure(const Scenario& sc, json& sb);
  uint64_t inject_ns(const Scenario& sc) const { return sc.arm.inject_ns + p_.inject_ns; }
  uint64_t generation(const SetRecord& rec) const;  // set_runner.cpp says why it is not a counter

  const Plan& p_;
  Borrowed* b_;
  std::vector<std::string> events_;
  std::map<std::string, std::unique_ptr<PageProfile>> profiles_;
  std::map<std::string, int> reps_done_;
  int runs_done_ = 0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  ZramGuard* zram_ = nullptr;  // the device the current set swaps to (zram sets), else null
};

}  // namespace swapbench
