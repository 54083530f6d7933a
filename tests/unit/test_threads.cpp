// --threads: the option's refusals, the set names, how pages are split and threads placed, the
// per-thread and aggregate figures, and that every thread is joined whatever one of them did.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <stdexcept>

#include "bench/plan.h"
#include "bench/threads.h"
#include "tests/unit/plan_fixture.h"

using namespace swapbench;

namespace {

RunOptions opts(const std::string& suite, const std::string& threads) {
  RunOptions o;
  o.suite = suite;
  o.threads = threads;
  o.out = ::testing::TempDir() + "/threads-test.json";
  return o;
}

// A listing plan for root (no swap place or result path checked); a run plan otherwise.
std::string refusal(const RunOptions& o, bool root = true) { return testing_plan::refusal(o, root, root); }
using testing_plan::facts;

Capabilities kernel() {
  Capabilities c;
  c.root = true;
  c.backends[Backend::Zswap] = {.available = true, .compressors = {"lzo"}};
  c.memcg = true;
  WritebackFeatures f;
  f.memcg = f.zswap_shrinker_param = f.pool_limit_param = f.zswpwb_counter = true;
  c.writeback = writeback_mechanisms(f);
  return c;
}

std::vector<std::string> names(const RunOptions& o) {
  std::vector<std::string> v;
  for (const auto& s : expand(make_plan(o, facts(true), true), kernel()).sets) v.push_back(s.name());
  return v;
}

}  // namespace

TEST(Threads, RefusesCountsOutsideTheRangeNamingTheInput) {
  for (const std::string bad : {"0", "-1", "65", "abc", "1.5", "", "99999999999999999999"}) {
    if (bad.empty()) continue;  // not given: 1
    const std::string why = refusal(opts("swapin", bad));
    EXPECT_NE(why.find("--threads"), std::string::npos) << bad;
    EXPECT_NE(why.find(bad), std::string::npos) << why;
    EXPECT_NE(why.find("accepted: 1..64"), std::string::npos) << why;
  }
  EXPECT_EQ(refusal(opts("swapin", "64")), "");
}

TEST(Threads, RefusedBySuitesWithoutAThreadedKind) {
  EXPECT_NE(refusal(opts("race", "2")).find("suite race has none"), std::string::npos);
  EXPECT_EQ(refusal(opts("race", "1")), "");  // one thread is what every set does anyway
  EXPECT_NE(refusal(opts("recheck-model", "2")).find("does not apply to suite recheck-model"), std::string::npos);
}

TEST(Threads, RefusedWhereArmsShareOneLoopOrCountersWereAskedFor) {
  const std::string interleaved = refusal(opts("calibrate", "2"));
  EXPECT_NE(interleaved.find("page-interleaved"), std::string::npos) << interleaved;
  EXPECT_NE(interleaved.find("accepted with --suite quick"), std::string::npos) << interleaved;
  EXPECT_NE(refusal(opts("calibrate-exact", "2")).find("known work"), std::string::npos);
  RunOptions o = opts("swapin", "2");
  o.events_given = true;
  EXPECT_NE(refusal(o).find("--events with --threads 2"), std::string::npos);
  o.threads = "1";
  EXPECT_EQ(refusal(o), "");
}

TEST(Threads, RefusesMoreThreadsThanPages) {
  RunOptions o = opts("swapin", "3");
  o.pages = "2";
  EXPECT_NE(refusal(o).find("more threads than the set's 2 pages"), std::string::npos);
  o.pages = "3";
  EXPECT_EQ(refusal(o), "");
}

TEST(Threads, AnOrdinaryUserIsToldItNeedsRoot) {
  const std::string why = refusal(opts("quick", "2"), false);
  EXPECT_NE(why.find("--threads 2 needs root"), std::string::npos) << why;
}

TEST(Threads, SetNamesGainTheCountOnlyAboveOneThread) {
  const auto one = names(opts("quick", ""));
  EXPECT_EQ(one, names(opts("quick", "1")));
  for (const auto& n : one) EXPECT_EQ(n.find("threads:"), std::string::npos) << n;
  const auto two = names(opts("quick", "2"));
  ASSERT_EQ(two.size(), one.size());
  for (size_t i = 0; i < one.size(); ++i) {
    // The floors run on one thread and keep their names.
    const bool floor = one[i].rfind("floor_", 0) == 0;
    EXPECT_EQ(two[i], floor ? one[i] : one[i] + "/threads:2");
  }
  const auto wb = names(opts("writeback", "2"));
  EXPECT_EQ(wb, std::vector<std::string>{"writeback/zswap/lzo/ratio2/random/pool_limit/threads:2"});  // v1: the pool limit alone
}

TEST(Threads, PagesSplitIntoContiguousSlicesCoveringEveryPage) {
  const auto s = split_pages(10, 3);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].first, 0u);
  EXPECT_EQ(s[0].pages, 4u);
  EXPECT_EQ(s[1].first, 4u);
  EXPECT_EQ(s[1].pages, 3u);
  EXPECT_EQ(s[2].first, 7u);
  EXPECT_EQ(s[2].pages, 3u);
  const auto whole = split_pages(8192, 1);
  ASSERT_EQ(whole.size(), 1u);
  EXPECT_EQ(whole[0].pages, 8192u);
  const auto even = split_pages(8192, 2);
  EXPECT_EQ(even[1].first, 4096u);
  EXPECT_EQ(even[1].pages, 4096u);
}

TEST(Threads, PlacementGivesEachThreadItsOwnCpuWhileThereAreEnough) {
  Placement p = place_threads({0, 1}, -1, 2);
  EXPECT_EQ(p.cpus, (std::vector<int>{1, 0}));
  EXPECT_FALSE(p.shared);
  p = place_threads({1, 0}, 0, 2);
  EXPECT_EQ(p.cpus, (std::vector<int>{0, 1}));
  p = place_threads({0, 1, 2, 3}, 2, 4);
  EXPECT_EQ(p.cpus, (std::vector<int>{2, 1, 0, 3}));
  p = place_threads({0, 1}, -1, 3);
  EXPECT_EQ(p.cpus, (std::vector<int>{1, 0, 1}));
  EXPECT_TRUE(p.shared);
  EXPECT_EQ(p.to_json()["cpus_shared"], true);
  EXPECT_THROW(place_threads({}, -1, 1), std::invalid_argument);
  EXPECT_THROW(place_threads({0, 1}, 5, 2), std::invalid_argument);
}

TEST(Threads, FiguresPerThreadAndOverTheSpanOfAll) {
  std::vector<ThreadRun> runs(2);
  runs[0].index = 0;
  runs[0].slice = {0, 4};
  runs[0].samples = {100, 100, 100, 500};
  runs[0].start_ns = 1000;
  runs[0].end_ns = 1000 + 1000000;  // 4 pages in 1 ms
  runs[1].index = 1;
  runs[1].slice = {4, 4};
  runs[1].samples = {300, 300, 300, 300};
  runs[1].start_ns = 2000;
  runs[1].end_ns = 1000 + 2000000;  // the last to end
  const auto j = thread_figures(runs, place_threads({0, 1}, -1, 2));
  EXPECT_EQ(j["count"], 2);
  ASSERT_EQ(j["per_thread"].size(), 2u);
  EXPECT_EQ(j["per_thread"][1]["first_page"], 4);
  EXPECT_EQ(j["per_thread"][0]["pages"], 4);
  EXPECT_EQ(j["per_thread"][1]["slice_pages"], 4);
  EXPECT_DOUBLE_EQ(j["per_thread"][0]["ops_per_s"].get<double>(), 4000.0);
  EXPECT_DOUBLE_EQ(j["per_thread"][0]["latency_ns"]["mean"].get<double>(), 200.0);
  EXPECT_TRUE(j["per_thread"][0]["error"].is_null());
  const auto& a = j["aggregate"];
  EXPECT_EQ(a["pages"], 8);
  EXPECT_EQ(a["span_ns"], 2000000);  // first start to last end
  EXPECT_DOUBLE_EQ(a["ops_per_s"].get<double>(), 4000.0);
  EXPECT_DOUBLE_EQ(a["latency_ns"]["mean"].get<double>(), 250.0);  // all eight pages, merged
  EXPECT_DOUBLE_EQ(a["latency_ns"]["p50"].get<double>(), 300.0);
  EXPECT_EQ(thread_failure(runs), "");
  runs[1].error = "MADV_PAGEOUT failed on page 5: Invalid argument";
  EXPECT_EQ(thread_failure(runs), "thread 1: MADV_PAGEOUT failed on page 5: Invalid argument");
}

TEST(Threads, EveryThreadRunsItsSliceAndIsJoinedWhenOneFails) {
  const auto slices = split_pages(9, 3);
  const Placement where = place_threads(pu_os_indexes(), -1, 3);
  std::atomic<int> finished{0};
  const auto runs = run_threads(slices, where, [&](ThreadRun& r) {
    for (size_t i = 0; i < r.slice.pages; ++i) r.samples.push_back(r.slice.first + i);
    ++finished;
    if (r.index == 1) throw std::runtime_error("a page came back wrong");
  });
  EXPECT_EQ(finished.load(), 3);  // joined: none is still running
  ASSERT_EQ(runs.size(), 3u);
  for (const auto& r : runs) {
    EXPECT_EQ(r.samples.size(), 3u);
    EXPECT_EQ(r.samples.front(), r.slice.first);
    EXPECT_GT(r.end_ns, r.start_ns - 1);
    EXPECT_TRUE(r.binding.cpu_bound) << r.binding.note;
  }
  EXPECT_EQ(thread_failure(runs), "thread 1: a page came back wrong");
}
