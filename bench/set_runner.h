// The Runner times sets: one SetRecord per repetition of each set, with its proof of path, stamps
// and counters. It drives a set's kind (bench/kind.h, bench/kinds/) through its phases, and offers
// the kinds the services they share. Internal to bench/.
#pragma once
#include <benchmark/benchmark.h>

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/backend.h"
#include "bench/borrow.h"
#include "bench/kind.h"
#include "bench/plan.h"
#include "bench/suites.h"
#include "workloads/measure/histogram.h"
#include "workloads/measure/kstat.h"
#include "workloads/measure/pmu.h"
#include "workloads/pages/page_profile.h"
#include "workloads/pages/region.h"
#include "workloads/proof/proof.h"

namespace swapbench {

using nlohmann::json;

// A repetition's host reference samples (workloads/measure/host_ref.h) as its result block; null if none.
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

  // One repetition of one set: its kind's phases, in order, between begin() and finish().
  void run_set(benchmark::State& st, const Scenario& sc);

  // What the kinds' phases share.
  const PageProfile& profile(const ProfileSpec& s);
  uint64_t generation(const SetRecord& rec) const;  // set_runner.cpp says why it is not a counter
  uint64_t inject_ns(const Scenario& sc) const { return sc.arm.inject_ns + p_.inject_ns; }
  StatSnapshot snapshot() const;
  const std::vector<std::string>& events() const { return events_; }  // the run's usable --events
  const SwapBackend* backend() const { return backend_; }  // the current set's, once switched to (else null)
  json evict_swapcache(Region& r);
  void check_stamps(Region& r, const PageProfile& prof, uint64_t gen, SetRecord& rec);
  // The mte suite's tagged sets (workloads/arch/arm64/mte.h): tags set before the fill, and every
  // granule's tag checked after swap-in; the gate runs once per process before the first.
  void tag_region(Region& r, uint64_t gen);
  void check_tags(Region& r, uint64_t gen, SetRecord& rec);
  // A page came back wrong: the run exits 1, and stderr says where at once.
  void report_hard_failure(SetRecord& rec, const std::string& what, const std::vector<std::string>& details);

 private:
  SetRecord begin(const Scenario& sc);
  void configure(const Scenario& sc, json& sb);
  void time_set(SetPhases& phases, SetRun& run, benchmark::State& st);
  void judge(benchmark::State& st, SetRun& run);
  void record_figures(SetRun& run);
  void report_progress(const SetRun& run);
  void finish(benchmark::State& st, SetRun& run);

  const Plan& p_;
  Borrowed* b_;
  std::vector<std::string> events_;
  std::map<std::string, std::unique_ptr<PageProfile>> profiles_;
  std::map<std::string, int> reps_done_;
  int runs_done_ = 0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  const SwapBackend* backend_ = nullptr;
  bool mte_gate_passed_ = false;
};

}  // namespace swapbench
