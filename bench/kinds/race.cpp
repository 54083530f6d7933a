// race: the zswap writeback race provoked under a stale-data detector. Slots are freed and reused
// while writeback runs, for --duration seconds, and every page's generation is checked
// (bench/race.h). It times nothing per page: one Google Benchmark iteration is the whole race.
#include <iostream>

#include "bench/race.h"
#include "bench/set_runner.h"
#include "bench/writeback.h"
#include "workloads/cpu/pinning.h"

namespace swapbench {
namespace {

// How each mechanism puts writeback pressure on and takes it off, from the pressure thread.
RaceHooks hooks_for(WritebackMech mech, ZswapGuard& z, Memcg& m, size_t pages) {
  RaceHooks hooks;
  hooks.written_back = [] { return written_back_now(); };
  hooks.enter = [&m] { m.enter(); };
  hooks.leave = [&m] { m.leave(); };
  const std::string pool0 = z.has("max_pool_percent") ? z.get("max_pool_percent") : "";
  if (mech == WritebackMech::PoolLimit) {
    hooks.pressure_on = [&z] { z.set("max_pool_percent", "0"); };
    hooks.pressure_off = [&z, pool0] { z.set("max_pool_percent", pool0); };
  } else if (mech == WritebackMech::MemcgZswapMax) {
    const std::string lim = std::to_string(zswap_max_bytes(pages));
    hooks.pressure_on = [&m, lim] { m.set("memory.zswap.max", lim); };
    hooks.pressure_off = [&m] { m.set("memory.zswap.max", "max"); };
  } else {  // shrinker_reclaim
    const uint64_t bytes = pages * kPageSize;
    hooks.pressure_on = [&z, &m, bytes] {
      z.set("shrinker_enabled", "Y");
      m.reclaim(bytes);
    };
    hooks.pressure_off = [&z] { z.set("shrinker_enabled", "N"); };
  }
  return hooks;
}

class RaceSet : public SetPhases {
 public:
  void prepare(SetRun& run) override {
    hooks_ = hooks_for(*run.sc.mechanism, *run.borrowed->zswap, *run.borrowed->memcg, run.sc.pages);
    cfg_.pages = run.sc.pages;
    cfg_.duration_s = run.plan.duration_s;
    cfg_.seed = run.runner.generation(run.rec);
    cfg_.test_stale_page = run.plan.test_stale_page;
    const Topology topo = read_topology();
    cfg_.fault_cpu = run.plan.cpu ? *run.plan.cpu : topo.pus - 1;
    cfg_.writeback_cpu = topo.pus > 1 ? (cfg_.fault_cpu == 0 ? 1 : 0) : cfg_.fault_cpu;
  }

  void time(SetRun& run, benchmark::State& st) override {
    for (auto _ : st) {
      try {
        res_ = run_race(cfg_, run.runner.profile(run.sc.profile), hooks_);
      } catch (const std::exception& e) {
        res_.error = e.what();
        hooks_.pressure_off();
        run.borrowed->memcg->leave();
      }
      st.SetIterationTime(res_.seconds > 0 ? res_.seconds : 1e-9);
    }
  }

  void prove(SetRun&) override {}  // record() judges, whatever happened

  void record(SetRun& run) override {
    json first = json::array();
    std::vector<std::string> details;
    for (const auto& f : res_.first) {
      first.push_back(f.describe());
      details.push_back(f.describe());
    }
    json& sb = run.sb;
    sb["operations"] = res_.operations;
    sb["writebacks"] = res_.writebacks;
    sb["stale_pages"] = res_.stale_pages;
    sb["race"] = {{"mechanism", to_string(*run.sc.mechanism)}, {"seconds", res_.seconds},
                  {"operations_per_second", res_.seconds > 0 ? static_cast<double>(res_.operations) / res_.seconds : 0.0},
                  {"pressure_cycles", res_.pressure_cycles}, {"damaged_pages", res_.damaged_pages},
                  {"final_checked", res_.final_checked}, {"first_failures", first},
                  {"fault_cpu", cfg_.fault_cpu}, {"writeback_cpu", cfg_.writeback_cpu},
                  {"cycle", "rounds of 4 pages: fault in + check stamp each, MADV_DONTNEED each (frees the slots), "
                            "a new generation in each, MADV_PAGEOUT each in the same order"}};
    sb["stamps"] = {{"checked", res_.operations + res_.final_checked}, {"failed", res_.stale_pages + res_.damaged_pages},
                    {"first_failures", first}};
    run.verdict.path = "race";
    if (!res_.error.empty()) run.rec.error = "race: " + res_.error;
    else if (res_.stale_pages || res_.damaged_pages)
      run.runner.report_hard_failure(run.rec, std::to_string(res_.stale_pages) + " stale and " +
                                                  std::to_string(res_.damaged_pages) +
                                                  " damaged pages during the writeback race: " + details.front(),
                                     details);
    else if (res_.writebacks == 0) {
      run.verdict.valid = false;
      run.verdict.reason = "no page was written back during the race, so no slot was raced: it proves nothing";
    }
  }

 private:
  RaceHooks hooks_;
  RaceConfig cfg_;
  RaceResult res_;
};

class Race : public SetKind {
 public:
  Race()
      : SetKind({.name = "race",
                 .short_name = "race",
                 .description = "the zswap writeback race provoked under a stale-data detector; every page's generation checked",
                 .fault = false,
                 .counted = false,
                 .backends = {Backend::Zswap},
                 .options = {{"--duration", "applies only to the race suite (--suite race), not to suite {suite}"},
                             {"--race-mechanism", "applies only to the race suite (--suite race), not to suite {suite}"}},
                 .unresolved_mechanism = "(the first writeback mechanism the kernel offers)"}) {}

  void expand(Expander& x, const SetSite& at) const override;
  std::unique_ptr<SetPhases> phases() const override { return std::make_unique<RaceSet>(); }
  int64_t iterations(const Scenario&) const override { return 1; }
  std::string summary_note(const SetRecord& r, bool& figures) const override {
    if (!r.sb.contains("race")) return "";
    figures = false;  // the race times nothing per page
    return std::to_string(r.sb["operations"].get<uint64_t>()) + " free/reuse cycles, " +
           std::to_string(r.sb["writebacks"].get<uint64_t>()) + " pages written back, " +
           std::to_string(r.sb["stale_pages"].get<uint64_t>()) + " stale";
  }
};

// One race per compressor asked for; by default only the first the kernel accepts (lzo where it is
// there): the race is about slots and writeback, not compression.
void Race::expand(Expander& x, const SetSite& at) const {
  if (x.plan.compressors.empty() && !at.first_compressor) return;
  Scenario sc = x.set(info.name, at, x.plan.patterns.front());
  if (!x.resolved()) return x.add(sc);
  if (x.plan.race_mechanism) {
    // Asked for by name: used if the kernel offers it, else bad input naming why not.
    for (const auto& m : x.caps.writeback)
      if (m.id == *x.plan.race_mechanism && !m.ok)
        throw BadInput("--race-mechanism " + m.name + ": not possible here: " + m.reason + " (fix: " + m.fix + ")");
    sc.mechanism = *x.plan.race_mechanism;
    return x.add(sc);
  }
  std::vector<WritebackMech> usable;
  for (const auto& m : x.caps.writeback)
    if (m.ok) usable.push_back(m.id);
  if (usable.empty())
    return x.skip(sc.name() + "/none", "no way to force writeback here, so no race to provoke",
                  "see ./swapbench run --suite writeback for each mechanism's reason");
  // The race needs writeback in another task than the racing thread: memory.zswap.max makes the
  // racer's own stores write back (synchronously, so the racer sleeps through its own window and
  // nothing races it; measured on 6.12 with race-window + no-recheck: 0 of 2,929 writebacks raced
  // in 30 s, while shrinker_reclaim crashed the kernel within a second). So: the shrinker run by
  // the pressure thread's memory.reclaim, then the pool limit's shrink worker (a kworker), the
  // memcg limit last.
  for (auto want : {WritebackMech::ShrinkerReclaim, WritebackMech::PoolLimit, WritebackMech::MemcgZswapMax})
    if (!sc.mechanism && std::count(usable.begin(), usable.end(), want)) sc.mechanism = want;
  if (!sc.mechanism) sc.mechanism = usable.front();
  x.add(sc);
}

const KindRegistrar registrar(std::make_unique<Race>());

}  // namespace
}  // namespace swapbench
