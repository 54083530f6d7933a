// The manifest (`swapbench list --json`): every name it refers to is declared in it, the --suite
// help is made from the suites, and options carry the types, defaults and twins they are declared with.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "bench/cli.h"
#include "bench/manifest.h"
#include "bench/result_doc.h"
#include "bench/suites.h"
#include "bench/version.h"

using namespace swapbench;
using nlohmann::json;

namespace {

std::set<std::string> names(const json& list) {
  std::set<std::string> out;
  for (const auto& e : list) out.insert(e.at("name").get<std::string>());
  return out;
}

const json& find(const json& list, const std::string& key, const std::string& value) {
  for (const auto& e : list)
    if (e.at(key) == value) return e;
  throw std::runtime_error(key + " " + value + " not in the manifest");
}

json make() {
  Cli cli;
  return manifest(cli.app);
}

}  // namespace

TEST(Manifest, EveryNameItUsesIsDeclaredOnce) {
  const json m = make();
  EXPECT_EQ(m.at("manifest_version"), 1);
  const auto kinds = names(m.at("kinds")), backends = names(m.at("backends"));
  EXPECT_EQ(kinds.size(), m.at("kinds").size());
  EXPECT_EQ(names(m.at("suites")).size(), suites().size());
  EXPECT_EQ(names(m.at("metrics")).size(), m.at("metrics").size());
  for (const auto& s : m.at("suites")) {
    for (const auto& k : s.at("kinds")) EXPECT_TRUE(kinds.count(k)) << s.at("name") << ": kind " << k;
    for (const auto& b : s.at("backends")) EXPECT_TRUE(backends.count(b)) << s.at("name") << ": backend " << b;
  }
  for (const auto& x : m.at("metrics")) {
    EXPECT_FALSE(x.at("set_kinds").empty()) << x.at("name");
    for (const auto& k : x.at("set_kinds")) EXPECT_TRUE(kinds.count(k)) << x.at("name") << ": set kind " << k;
    const bool placeholder = x.at("name").get<std::string>().find("{}") != std::string::npos;
    EXPECT_EQ(placeholder, x.value("family", false)) << x.at("name");
  }
  std::set<std::string> shipped = backends;
  shipped.erase("test_ram");  // test_backends.cpp registers it in this binary
  EXPECT_EQ(shipped, (std::set<std::string>{"zswap", "disk", "zram"}));
}

TEST(Manifest, KindsSayWhichAreFaultsAndModels) {
  const json k = make().at("kinds");
  EXPECT_EQ(find(k, "name", "swapin").at("short"), "in");
  EXPECT_TRUE(find(k, "name", "writeback").at("fault"));
  EXPECT_FALSE(find(k, "name", "race").at("fault"));
  EXPECT_FALSE(find(k, "name", "floor_firsttouch").at("privileged"));
  EXPECT_TRUE(find(k, "name", "recheck_model").at("model"));
  EXPECT_FALSE(find(k, "name", "recheck_model").at("privileged"));
}

// The names, units, directions and paths analysis/metrics.py has always used: results already
// written are read through them.
TEST(Manifest, MetricsKeepTheirNamesUnitsAndPaths) {
  const json x = make().at("metrics");
  EXPECT_EQ(names(x), (std::set<std::string>{"p50", "p90", "p99", "p999", "mean", "min", "pages_per_second",
                                             "ns_per_written_back_page", "stale_pages", "kernel_instructions_per_op",
                                             "user_instructions_per_op", "functions.{}.instructions_per_call",
                                             "functions.{}.calls_per_op", "pmu.{}", "real_s", "user_s", "sys_s",
                                             "throughput_bytes_per_s", "worker_throughput_bytes_per_s"}));
  EXPECT_EQ(find(x, "name", "p99").at("path"), json({"latency_ns", "p99"}));
  EXPECT_EQ(find(x, "name", "mean").at("path"), json::array());
  const auto& pps = find(x, "name", "pages_per_second");
  EXPECT_EQ(pps.at("direction"), "higher_is_better");
  EXPECT_EQ(pps.at("set_kinds"), json({"writeback"}));
  const auto& stale = find(x, "name", "stale_pages");
  EXPECT_TRUE(stale.at("check"));
  EXPECT_EQ(stale.at("kind"), "exact");
  EXPECT_EQ(find(x, "name", "functions.{}.calls_per_op").at("path"), json({"exact", "functions", "{}", "calls_per_op"}));
  const json pmu_kinds = find(x, "name", "pmu.{}").at("set_kinds");
  EXPECT_EQ(std::count(pmu_kinds.begin(), pmu_kinds.end(), "writeback"), 0);
  const json mean_kinds = find(x, "name", "mean").at("set_kinds");
  EXPECT_EQ(std::count(mean_kinds.begin(), mean_kinds.end(), "recheck_model"), 1);
}

TEST(Manifest, SuitesCarryTheirGuestPages) {
  const json s = make().at("suites");
  EXPECT_EQ(find(s, "name", "quick").at("guest_pages"), 4096);
  EXPECT_EQ(find(s, "name", "mte").at("guest_pages"), 1024);
  EXPECT_EQ(find(s, "name", "mte-writeback").at("guest_pages"), 1024);
  EXPECT_TRUE(find(s, "name", "race").at("guest_pages").is_null());
  EXPECT_TRUE(find(s, "name", "recheck-model").at("guest_pages").is_null());
  EXPECT_TRUE(find(s, "name", "calibrate").at("interleaved"));
  EXPECT_TRUE(find(s, "name", "calibrate-exact").at("known_work"));
  EXPECT_TRUE(find(s, "name", "mte").at("mte"));
}

TEST(Manifest, OptionsAreDescribedAsDeclared) {
  const json o = make().at("options");
  EXPECT_EQ(o.size(), described_verbs().size());
  const json& run = o.at("run");
  const auto& suite = find(run, "flag", "--suite");
  EXPECT_EQ(suite.at("default"), "quick");
  EXPECT_EQ(suite.at("env"), "SWAPBENCH_SUITE");
  EXPECT_EQ(suite.at("type"), "string");
  EXPECT_EQ(find(run, "flag", "--pages").at("type"), "integer");
  EXPECT_TRUE(find(run, "flag", "--pages").at("default").is_null());
  EXPECT_EQ(find(run, "flag", "--duration").at("type"), "number");
  EXPECT_EQ(find(run, "flag", "--duration").at("default"), "10");
  EXPECT_EQ(find(run, "flag", "--backend").at("type"), "list");
  EXPECT_EQ(find(run, "flag", "--events").at("default"), "cycles:k,instructions:k,cycles:u,instructions:u");
  EXPECT_EQ(find(run, "flag", "--thp").at("type"), "flag");
  // Deliberately without a twin: a variable left set would destroy the next device.
  EXPECT_TRUE(find(run, "flag", "--swap-device-wipe").at("env").is_null());
  for (const auto& verb : o)
    for (const auto& opt : verb) {
      EXPECT_NE(opt.at("flag"), "--help");
      EXPECT_EQ(opt.at("flag").get<std::string>().rfind("--test-", 0), std::string::npos) << "hidden: " << opt.at("flag");
    }
  EXPECT_EQ(find(o.at("list"), "flag", "--json").at("type"), "flag");
  EXPECT_TRUE(o.at("restore").empty());
}

TEST(Manifest, SuiteHelpNamesEverySuite) {
  const json o = make().at("options");
  for (const char* verb : {"run", "list"}) {
    const std::string help = find(o.at(verb), "flag", "--suite").at("help");
    std::string expected;
    for (const auto& s : suites()) expected += (expected.empty() ? "" : ", ") + s.name;
    EXPECT_EQ(help.substr(0, help.find(" (")), expected) << verb;
    EXPECT_NE(help.find("calibrate-exact"), std::string::npos) << help;
  }
}

TEST(Manifest, EventsDefaultIsTheRunsDefault) {
  Cli cli;
  cli.app.parse(std::string("run"));
  cli.finish();
  EXPECT_EQ(cli.o.events, RunOptions{}.events);
  EXPECT_FALSE(cli.o.events_given);
}

// Every result names the build that measured it, beside the schema version, without renaming a key.
TEST(ResultDocument, RecordsTheBuild) {
  const json doc = result_document(json::object(), {{"suite", "quick"}}, json::array());
  const json& sb = doc.at("context").at("swapbench");
  EXPECT_EQ(sb.at("version"), version());
  EXPECT_EQ(sb.at("commit"), commit());
  EXPECT_FALSE(std::string(commit()).empty());
  EXPECT_EQ(sb.at("suite"), "quick");
  EXPECT_EQ(sb.at("schema_version"), 1);
  // The manifest stays the same from commit to commit: the build is in results and --version only.
  EXPECT_EQ(make().dump().find(commit()), std::string::npos);
}
