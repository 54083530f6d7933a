// The standard workloads' options and sets: --workers, --worker-bytes and --loops are checked up
// front, refused by suites they do not shape, and size the run; usemem and swap-w expand to the
// sets their suites declare, one Google Benchmark iteration each.
#include <gtest/gtest.h>

#include "bench/kind.h"
#include "bench/plan.h"
#include "bench/plan_parse.h"
#include "bench/set_runner.h"
#include "tests/unit/plan_fixture.h"

using namespace swapbench;

namespace {

MachineFacts machine() { return testing_plan::facts(true); }

RunOptions opts(const std::string& suite) {
  RunOptions o;
  o.suite = suite;
  o.out = ::testing::TempDir() + "/workload-plan-test.json";
  return o;
}

std::string refusal(const RunOptions& o) { return testing_plan::refusal(o); }

Capabilities kernel() {
  Capabilities c;
  c.root = true;
  c.backends[Backend::Zswap] = {.available = true, .compressors = {"lzo", "zstd"}};
  c.backends[Backend::Disk] = {.available = true};
  c.memcg = true;
  return c;
}

}  // namespace

TEST(WorkloadPlan, DefaultsSizeTheRunAndTheSwapArea) {
  Plan p = make_plan(opts("usemem"), machine(), true);
  EXPECT_EQ(p.workers, 2u);
  EXPECT_EQ(p.worker_bytes, 128ull << 20);
  EXPECT_EQ(p.loops, 2u);
  EXPECT_EQ(p.pages, 2 * (128ull << 20) / 4096);
  EXPECT_GE(p.swap_bytes, 256ull << 20);
  EXPECT_EQ(p.compressors, std::vector<std::string>{"lzo"});  // the suite's, not every one the kernel takes
}

TEST(WorkloadPlan, SizesParsedWithBinarySuffixes) {
  RunOptions o = opts("usemem");
  o.workers = "4";
  o.worker_bytes = "64M";
  o.loops = "3";
  Plan p = make_plan(o, machine(), true);
  EXPECT_EQ(p.workers, 4u);
  EXPECT_EQ(p.worker_bytes, 64ull << 20);
  EXPECT_EQ(p.loops, 3u);
  EXPECT_EQ(parse_bytes("--worker-bytes", "1G", 1, 1ull << 40), 1ull << 30);
  EXPECT_EQ(parse_bytes("--worker-bytes", "8192", 1, 1ull << 40), 8192u);
  EXPECT_EQ(parse_bytes("--worker-bytes", "2MiB", 1, 1ull << 40), 2ull << 20);
}

TEST(WorkloadPlan, BadSizesAreRefusedNamingTheOptionAndWhatIsAccepted) {
  for (auto [opt, text] : std::vector<std::pair<std::string, std::string>>{
           {"--workers", "0"}, {"--workers", "-1"}, {"--workers", "two"}, {"--loops", "0"}, {"--worker-bytes", "12X"},
           {"--worker-bytes", "-64M"}, {"--worker-bytes", "512K"}, {"--worker-bytes", "1000G"}, {"--worker-bytes", ""}}) {
    RunOptions o = opts("usemem");
    (opt == "--workers" ? o.workers : opt == "--loops" ? o.loops : o.worker_bytes) = text.empty() ? " " : text;
    const std::string why = refusal(o);
    EXPECT_NE(why.find(opt), std::string::npos) << opt << " " << text << ": " << why;
    EXPECT_NE(why.find("accepted"), std::string::npos) << why;
  }
}

TEST(WorkloadPlan, OptionsRefusedWhereTheyShapeNothing) {
  RunOptions o = opts("quick");
  o.workers = "2";
  EXPECT_NE(refusal(o).find("--workers applies only to the usemem and swap-w suites"), std::string::npos);
  o = opts("swap-w");
  o.loops = "2";
  EXPECT_NE(refusal(o).find("--loops applies only to the usemem suite"), std::string::npos);
  o = opts("usemem");
  o.pages = "100";
  EXPECT_NE(refusal(o).find("--pages does not apply to suite usemem"), std::string::npos);
  o = opts("recheck-model");
  o.worker_bytes = "64M";
  EXPECT_NE(refusal(o).find("--worker-bytes does not apply"), std::string::npos);
}

TEST(WorkloadPlan, SuitesExpandToTheirSetsOneIterationEach) {
  Expansion u = expand(make_plan(opts("usemem"), machine(), true), kernel());
  std::vector<std::string> names;
  for (const auto& s : u.sets) names.push_back(s.name());
  EXPECT_EQ(names, (std::vector<std::string>{"usemem/zswap/lzo/ratio2/seq", "usemem/disk/none/ratio2/seq"}));
  Expansion w = expand(make_plan(opts("swap-w"), machine(), true), kernel());
  names.clear();
  for (const auto& s : w.sets) names.push_back(s.name());
  EXPECT_EQ(names, (std::vector<std::string>{"swap_w/zswap/lzo/ratio2/seq", "swap_w/zswap/lzo/ratio2/random",
                                             "swap_w/disk/none/ratio2/seq", "swap_w/disk/none/ratio2/random"}));
  for (const auto& s : w.sets) {
    EXPECT_EQ(find_kind(s.kind).iterations(s), 1);
    EXPECT_FALSE(find_kind(s.kind).info.fault);
  }
}

TEST(WorkloadPlan, TheSummaryIsMeanAndStdevOverValidRepetitions) {
  std::vector<SetRecord> recs(2);
  recs[0].sb["workload"] = {{"real_s", 1.0}, {"user_s", 0.5}, {"sys_s", 0.25}, {"throughput_bytes_per_s", 100.0 * (1 << 20)}};
  recs[1].sb["workload"] = {{"real_s", 3.0}, {"user_s", 0.5}, {"sys_s", 0.75}, {"throughput_bytes_per_s", 300.0 * (1 << 20)}};
  bool figures = true;
  const std::string s = find_kind("usemem").summary_over({&recs[0], &recs[1]}, figures);
  EXPECT_FALSE(figures) << "per-page p50/p99 mean nothing for a whole workload";
  EXPECT_EQ(s, "real 2.00±1.41s user 0.50±0.00s sys 0.50±0.35s total 200±141 MiB/s");
  EXPECT_EQ(find_kind("swap_w").summary_over({}, figures), "");
}
