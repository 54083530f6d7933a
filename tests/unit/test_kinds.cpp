// A kind of set is one file: this file alone registers a new kind, and the plan expands it into
// sets, the registry lists it, and the Runner drives its phases in order. Nothing else was edited
// for it.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bench/kind.h"
#include "bench/set_runner.h"

using namespace swapbench;

namespace {

std::vector<std::string> calls;  // the phases the Runner called, in order

class NoopSet : public SetPhases {
  void prepare(SetRun& run) override {
    calls.push_back("prepare");
    run.samples.assign(run.sc.pages, 0);
  }
  void time(SetRun& run, benchmark::State& st) override {
    calls.push_back("time");
    for (auto _ : st) {
      run.samples[run.k++] = 7;
      st.SetIterationTime(7e-9);
    }
  }
  void prove(SetRun& run) override {
    calls.push_back("prove");
    run.verdict.path = "nowhere";
  }
  void record(SetRun& run) override {
    calls.push_back("record");
    run.sb["noop"] = true;
  }
};

class Noop : public SetKind {
 public:
  Noop()
      : SetKind({.name = "test_noop",
                 .short_name = "noop",
                 .description = "a kind that times nothing, registered by its test",
                 .privileged = false,
                 .backends = {Backend::Zswap, Backend::Disk}}) {}
  void expand(Expander& x, const SetSite& at) const override { x.add(x.set(info.name, at, Pattern::Sequential)); }
  std::unique_ptr<SetPhases> phases() const override { return std::make_unique<NoopSet>(); }
};

const KindRegistrar registrar(std::make_unique<Noop>());

const SuiteDef& test_suite() {
  static const SuiteDef s = {.name = "test-noop", .description = "swap-in, then the test's kind",
                             .kinds = {"swapin", "test_noop"}, .backends = {"zswap", "disk"},
                             .profiles = {"ratio2"}, .patterns = {"random"}, .pages = 16, .repetitions = 1};
  return s;
}

Plan plan() {
  Plan p;
  p.suite = &test_suite();
  p.pages = 16;
  p.repetitions = 1;
  p.backends = {Backend::Zswap, Backend::Disk};
  p.profiles = {parse_profile("ratio2")};
  p.patterns = {Pattern::Random};
  return p;
}

class Silent : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>&) override {}
};

}  // namespace

TEST(Kinds, ANewKindIsListed) {
  std::vector<std::string> names;
  for (const SetKind* k : kinds()) names.push_back(k->info.name);
  for (const char* n : {"swapin", "swapout", "floor_swapcache", "floor_firsttouch", "writeback", "race", "recheck_model",
                        "test_noop"})
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  EXPECT_EQ(find_kind("test_noop").info.short_name, "noop");
  EXPECT_THROW(find_kind("no_such_kind"), std::invalid_argument);
  EXPECT_THROW(KindRegistrar(std::make_unique<Noop>()), std::logic_error) << "a name is registered once";
}

TEST(Kinds, ANewKindIsExpandedAtEverySiteItSwapsTo) {
  Capabilities c;
  c.root = true;
  c.backends[Backend::Zswap] = {.available = true, .compressors = {"lzo"}};
  c.memcg = true;
  const Expansion x = expand(plan(), c);
  std::vector<std::string> names;
  for (const auto& s : x.sets) names.push_back(s.name());
  const std::vector<std::string> want = {"swapin/zswap/lzo/ratio2/random", "test_noop/zswap/lzo/ratio2/seq",
                                         "swapin/disk/none/ratio2/random", "test_noop/disk/none/ratio2/seq"};
  EXPECT_EQ(names, want);
  EXPECT_TRUE(x.skipped.empty());
}

TEST(Kinds, AnUnprivilegedKindRunsWithoutRoot) {
  const Expansion x = expand(plan(), Capabilities{});
  ASSERT_EQ(x.sets.size(), 2u);
  EXPECT_EQ(x.sets[0].kind, "test_noop");
  EXPECT_EQ(x.skipped.size(), 2u) << "the swap-in sets need root";
}

TEST(Kinds, TheRunnerDrivesTheKindsPhasesInOrder) {
  const Plan p = plan();
  Scenario sc = expand(p, Capabilities{}).sets.front();
  Runner runner(p, nullptr, {});
  benchmark::RegisterBenchmark("test_noop", [&](benchmark::State& st) { runner.run_set(st, sc); })
      ->Iterations(static_cast<benchmark::IterationCount>(find_kind(sc.kind).iterations(sc)))
      ->UseManualTime();
  Silent quiet;
  calls.clear();
  benchmark::RunSpecifiedBenchmarks(&quiet);
  benchmark::ClearRegisteredBenchmarks();
  EXPECT_EQ(calls, (std::vector<std::string>{"prepare", "time", "prove", "record"}));
  ASSERT_EQ(runner.records.size(), 1u);
  const SetRecord& r = runner.records.front();
  EXPECT_TRUE(r.valid) << r.sb.dump();
  EXPECT_EQ(r.sb["kind"], "test_noop");
  EXPECT_EQ(r.sb["path"], "nowhere");
  EXPECT_EQ(r.sb["noop"], true);
  EXPECT_EQ(r.lat.p50, 7.0);
}
