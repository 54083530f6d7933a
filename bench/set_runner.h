// The machinery every timed set shares: the system state a run borrows, one set's record, and the
// Runner that times sets. Internal to bench/ (runner.cpp, writeback_sets.cpp).
#pragma once
#include <benchmark/benchmark.h>

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/runner.h"
#include "bench/scenario.h"
#include "bench/writeback.h"
#include "workloads/histogram.h"
#include "workloads/kstat.h"
#include "workloads/page_profile.h"
#include "workloads/pmu.h"
#include "workloads/proof.h"
#include "workloads/region.h"
#include "workloads/system/guards.h"
#include "workloads/system/memcg.h"
#include "workloads/system/session.h"
#include "workloads/system/swap_area.h"
#include "workloads/system/zswap.h"

namespace swapbench {

using nlohmann::json;

constexpr const char* kDebugfs = "/sys/kernel/debug";

// memory.zswap.max for the memcg writeback mechanism (writeback_sets.cpp says why this size).
uint64_t zswap_max_bytes(size_t pages);

// The system state a privileged run borrows. Members are destroyed in reverse order: the cgroup
// first, the session (which restores anything left and releases the lock) last.
struct Borrowed {
  SysOps ops;
  std::unique_ptr<Session> session;
  std::unique_ptr<DebugfsGuard> debugfs;
  std::unique_ptr<SwapAreaGuard> swap;
  std::unique_ptr<ZswapGuard> zswap;
  CompressorProbe compressors;
  std::unique_ptr<ValueGuard> page_cluster, swappiness;
  std::unique_ptr<Memcg> memcg;
  std::string memcg_reason;
  std::vector<WritebackMechanism> writeback;  // every mechanism, usable or not (with why)
};

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
  Runner(const RunOptions& o, Borrowed* b, std::vector<std::string> events)
      : o_(o), b_(b), events_(std::move(events)) {}

  std::vector<Scenario> scenarios;
  std::vector<SetRecord> records;
  json skipped = json::array();
  bool hard_failure = false;
  int total_runs = 0;

  void skip(const std::string& what, const std::string& reason, const std::string& fix) {
    skipped.push_back({{"benchmark", what}, {"reason", reason}, {"fix", fix}});
  }

  void run_set(benchmark::State& st, const Scenario& sc);
  void run_writeback_set(benchmark::State& st, const Scenario& sc);
  void run_race_set(benchmark::State& st, const Scenario& sc);
  void finish(benchmark::State& st, SetRecord& rec, Verdict& v, std::vector<uint64_t>& samples, size_t k,
              const StatDelta& d, CounterGroup& pmu, uint64_t resident_before);
  uint64_t written_back_now() const;
  void begin(const Scenario& sc, json& sb);
  void check_stamps(Region& r, const PageProfile& prof, uint64_t gen, SetRecord& rec);

 private:
  const PageProfile& profile(const ProfileSpec& s) {
    auto& p = profiles_[s.name()];
    if (!p) p = std::make_unique<PageProfile>(s);
    return *p;
  }
  StatSnapshot snapshot() const {
    StatSnapshot s;
    s.vmstat = read_vmstat("/");
    s.zswap = read_zswap_debugfs(kDebugfs);
    if (b_ && b_->memcg) s.memcg = b_->memcg->stat();
    return s;
  }
  json evict_swapcache(Region& r);
  void configure(const Scenario& sc, json& sb);

  const RunOptions& o_;
  Borrowed* b_;
  std::vector<std::string> events_;
  std::map<std::string, std::unique_ptr<PageProfile>> profiles_;
  std::map<std::string, int> reps_done_;
  uint64_t generation_ = 0;
  int runs_done_ = 0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace swapbench
