// The plan: every bad input is caught by make_plan() (before anything changes), and expand() turns
// a plan and what a kernel offers into the sets, in order, with every skip's reason.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "bench/plan.h"
#include "workloads/system/swap_area.h"

using namespace swapbench;

namespace {

MachineFacts facts(bool root = false) {
  MachineFacts m;
  m.root = root;
  m.mem_available = 8ull << 30;
  m.cpus = {0, 1};
  m.results_dir = ::testing::TempDir();
  m.host = "host";
  m.release = "6.18.0";
  m.utc = "20261123T000000Z";
  return m;
}

RunOptions opts(const std::string& suite = "quick") {
  RunOptions o;
  o.suite = suite;
  o.out = ::testing::TempDir() + "/plan-test.json";
  return o;
}

// The BadInput's message, or "" when the plan was accepted.
std::string refusal(const RunOptions& o, const MachineFacts& m = facts()) {
  try {
    make_plan(o, m);
    return "";
  } catch (const BadInput& e) {
    return e.what();
  }
}

Capabilities kernel(std::vector<std::string> accepted = {"lzo", "deflate"}) {
  Capabilities c;
  c.root = true;
  c.backends[Backend::Zswap] = {.available = true, .compressors = std::move(accepted), .refused = {{"lz4", "Invalid argument"}}};
  c.memcg = true;
  WritebackFeatures f;
  f.memcg = f.zswap_shrinker_param = f.pool_limit_param = f.zswpwb_counter = true;  // a cgroup v1 host
  c.writeback = writeback_mechanisms(f);
  return c;
}

std::vector<std::string> names(const Expansion& x) {
  std::vector<std::string> v;
  for (const auto& s : x.sets) v.push_back(s.name());
  return v;
}

}  // namespace

TEST(Plan, QuickDefaultsComeFromTheSuite) {
  Plan p = make_plan(opts(), facts());
  EXPECT_EQ(p.pages, 8192u);
  EXPECT_EQ(p.repetitions, 10);
  ASSERT_EQ(p.backends.size(), 2u);
  EXPECT_FALSE(p.cpu.has_value());
  EXPECT_TRUE(p.compressors.empty());
  EXPECT_DOUBLE_EQ(p.duration_s, 10);
}

TEST(Plan, DefaultResultPathNamesHostKernelAndTime) {
  RunOptions o = opts();
  o.out.clear();
  EXPECT_EQ(make_plan(o, facts()).out, ::testing::TempDir() + "/host-6.18.0-20261123T000000Z.json");
  o.suite = "recheck-model";
  EXPECT_EQ(make_plan(o, facts()).out, ::testing::TempDir() + "/host-6.18.0-recheck-model-20261123T000000Z.json");
}

TEST(Plan, CountsRefuseNegativeZeroAndText) {
  struct Case {
    std::string RunOptions::*field;
    std::string value, option;
  };
  for (const Case& c : std::vector<Case>{{&RunOptions::pages, "-1", "--pages"},
                                         {&RunOptions::pages, "0", "--pages"},
                                         {&RunOptions::pages, "12x", "--pages"},
                                         {&RunOptions::repetitions, "0", "--repetitions"},
                                         {&RunOptions::repetitions, "-3", "--repetitions"},
                                         {&RunOptions::cpu, "-5", "--cpu"},
                                         {&RunOptions::cpu, "2", "--cpu"},
                                         {&RunOptions::cpu, "1.5", "--cpu"},
                                         {&RunOptions::inject_ns, "-1", "--inject-ns"}}) {
    RunOptions o = opts();
    o.*c.field = c.value;
    std::string why = refusal(o);
    EXPECT_NE(why.find(c.option), std::string::npos) << c.option << " " << c.value << ": '" << why << "'";
    EXPECT_NE(why.find("accepted"), std::string::npos) << why;
  }
}

TEST(Plan, RaceDurationMustBeAFiniteNumberOfSeconds) {
  for (const char* d : {"nan", "inf", "0", "-1", "ten", "1e9"}) {
    RunOptions o = opts("race");
    o.duration_s = d;
    EXPECT_NE(refusal(o).find("--duration"), std::string::npos) << d;
  }
  RunOptions o = opts("race");
  o.duration_s = "2.5";
  EXPECT_DOUBLE_EQ(make_plan(o, facts(true)).duration_s, 2.5);
}

TEST(Plan, OptionsASuiteWouldIgnoreAreRefused) {
  RunOptions o = opts("recheck-model");
  o.pages = "100";
  EXPECT_NE(refusal(o).find("--pages does not apply to suite recheck-model"), std::string::npos);
  o = opts("recheck-model");
  o.cpu = "99";
  EXPECT_NE(refusal(o).find("--cpu 99"), std::string::npos);
  o = opts("quick");
  o.duration_s = "3";
  EXPECT_NE(refusal(o).find("--duration applies only to the race suite"), std::string::npos);
  o = opts("writeback");
  o.inject_ns = "100";
  EXPECT_NE(refusal(o).find("--inject-ns"), std::string::npos);
  o = opts("recheck-model");
  o.cpu = "1";
  o.repetitions = "2";
  EXPECT_EQ(refusal(o), "");
}

TEST(Plan, UnknownNamesListWhatIsAccepted) {
  RunOptions o = opts("nope");
  EXPECT_NE(refusal(o).find("recheck-model"), std::string::npos) << "every suite is named, the model included";
  o = opts();
  o.backends = {"nvme"};
  EXPECT_NE(refusal(o).find("accepted: zswap, disk, zram"), std::string::npos);
  o = opts();
  o.compressors = {"lz5"};
  EXPECT_NE(refusal(o).find("--compressor 'lz5'"), std::string::npos);
  o = opts();
  o.fault = "exec";
  EXPECT_NE(refusal(o).find("--fault"), std::string::npos);
  o = opts();
  o.patterns = {"zigzag"};
  EXPECT_NE(refusal(o), "");
  o = opts();
  o.profiles = {"file:/nonexistent/swapbench"};
  EXPECT_NE(refusal(o), "");
}

TEST(Plan, TooManyPagesForThisMachineSaysTheMaximum) {
  RunOptions o = opts();
  o.pages = "4000000";  // 2 x 15 GiB against 8 GiB available
  EXPECT_NE(refusal(o).find("at most"), std::string::npos);
}

TEST(Plan, ResultPathIsCheckedBeforeTheRun) {
  RunOptions o = opts();
  o.out = ::testing::TempDir();
  EXPECT_NE(refusal(o).find("is a folder"), std::string::npos);
  o.out = "/nonexistent-swapbench/x.json";
  EXPECT_NE(refusal(o).find("does not exist"), std::string::npos);
  o.out = "/proc/swapbench.json";
  EXPECT_NE(refusal(o).find("kernel interface"), std::string::npos);
  o.out = "/dev/null";  // written through, never replaced
  EXPECT_EQ(refusal(o), "");
  // A missing default results folder is created at the end; only its parent must exist.
  o = opts();
  o.out.clear();
  MachineFacts m = facts();
  m.results_dir = "/nonexistent-swapbench/results";
  EXPECT_NE(refusal(o, m).find("give --out FILE"), std::string::npos);
}

// Issue 19, item 9: as an ordinary user only the first-touch floor runs; asking for anything else
// is exit 2 saying it needs root, not a run of the floor (or of nothing) that exits 0.
TEST(Plan, WithoutRootWhatNeedsRootIsRefusedNotSkippedInSilence) {
  RunOptions o = opts();
  o.backends = {"zram"};
  EXPECT_EQ(refusal(o).rfind("--backend zram needs root", 0), 0u) << refusal(o);
  EXPECT_EQ(refusal(o, facts(true)), "");
  for (const char* suite : {"writeback", "race", "calibrate", "mte", "swapin"})
    EXPECT_EQ(refusal(opts(suite)).rfind(std::string("suite ") + suite + ": every set needs root", 0), 0u) << suite;
  o = opts();
  o.no_floors = true;
  EXPECT_NE(refusal(o).find("--no-floors: every other set needs root"), std::string::npos);
  o = opts();
  o.profiles = {"text"};
  EXPECT_NE(refusal(o).find("--profile text needs root"), std::string::npos);
  EXPECT_EQ(refusal(opts()), "");  // the plain run: the floor runs, the rest is skipped with why
  EXPECT_EQ(refusal(opts("recheck-model")), "");
  RunOptions l = opts("writeback");
  EXPECT_NO_THROW(make_plan(l, facts(), true)) << "list shows what a root run would do";
}

TEST(Plan, SwapPlaceIsCheckedForARootRun) {
  const std::string file = ::testing::TempDir() + "/plan-not-a-folder";
  std::ofstream(file) << "x";
  RunOptions o = opts();
  o.swap_dir = file;
  EXPECT_NE(refusal(o, facts(true)).find("--swap-dir " + file + " is not a folder"), std::string::npos);
  EXPECT_NE(refusal(o, facts(false)).find("--swap-dir " + file + " needs root"), std::string::npos)
      << "a run that is not root makes no swap area: the option would do nothing";
  o = opts();
  o.swap_device = "/dev/null";
  EXPECT_NE(refusal(o, facts(true)).find("not a block device"), std::string::npos);
  o.swap_dir = "/var/tmp";
  EXPECT_NE(refusal(o, facts(true)).find("give one"), std::string::npos);
  unlink(file.c_str());
}

// The override destroys data: alone, it would apply to nothing, and is refused rather than ignored.
TEST(Plan, SwapDeviceWipeGoesWithASwapDevice) {
  RunOptions o = opts();
  o.swap_device_wipe = true;
  EXPECT_NE(refusal(o, facts(true)).find("--swap-device-wipe goes with --swap-device DEVICE"), std::string::npos);
  o.swap_device = "/dev/null";
  EXPECT_NE(refusal(o, facts(true)).find("/dev/null is not a block device"), std::string::npos)
      << "the override never makes a device of what is not one";
}

TEST(Plan, SwapFilesGoToRootsOwnFolderByDefault) {
  EXPECT_EQ(make_plan(opts(), facts(false)).swap_dir, kDefaultSwapDir);
  EXPECT_EQ(std::string(kDefaultSwapDir), "/var/lib/swapbench/swap");
}

TEST(Expand, QuickOnTheDevVmInResultOrder) {
  Expansion x = expand(make_plan(opts(), facts(true)), kernel());
  std::vector<std::string> want = {
      "swapin/zswap/lzo/ratio2/random",     "swapout/zswap/lzo/ratio2/seq",  "swapin/zswap/deflate/ratio2/random",
      "swapout/zswap/deflate/ratio2/seq",   "swapin/disk/none/ratio2/random", "swapout/disk/none/ratio2/seq",
      "floor_swapcache/disk/none/ratio2/random", "floor_firsttouch/none/none/zero/seq"};
  EXPECT_EQ(names(x), want);
  EXPECT_TRUE(x.skipped.empty());
}

TEST(Expand, ACompressorAskedForByNameThatTheKernelRefusesIsBadInput) {
  RunOptions o = opts();
  o.compressors = {"lz4"};
  try {
    expand(make_plan(o, facts(true)), kernel());
    FAIL() << "a refused compressor must not quietly leave only the disk sets";
  } catch (const BadInput& e) {
    std::string why = e.what();
    EXPECT_NE(why.find("lz4"), std::string::npos);
    EXPECT_NE(why.find("it accepts: lzo, deflate"), std::string::npos) << why;
  }
}

TEST(Expand, RaceUsesTheFirstUsableMechanismAndWritebackSkipsTheOthersWithWhy) {
  Expansion race = expand(make_plan(opts("race"), facts(true)), kernel());
  ASSERT_EQ(race.sets.size(), 1u);
  ASSERT_TRUE(race.sets[0].mechanism.has_value());
  EXPECT_EQ(*race.sets[0].mechanism, WritebackMech::PoolLimit);
  EXPECT_EQ(race.sets[0].name(), "race/zswap/lzo/ratio2/random/pool_limit");

  Expansion wb = expand(make_plan(opts("writeback"), facts(true)), kernel());
  const std::vector<std::string> want = {"writeback/zswap/lzo/ratio2/random/pool_limit",
                                         "writeback/zswap/deflate/ratio2/random/pool_limit"};
  EXPECT_EQ(names(wb), want);
  ASSERT_EQ(wb.skipped.size(), 4u);
  for (const auto& s : wb.skipped) {
    EXPECT_NE(s.reason.find("not possible here"), std::string::npos);
    EXPECT_FALSE(s.fix.empty()) << s.benchmark;
  }
}

TEST(Expand, TheRacePrefersWritebackByAnotherTaskOverTheRacersOwnStores) {
  Capabilities all = kernel();
  for (auto& m : all.writeback) m.ok = true;  // a cgroup v2 kernel: every mechanism works
  Expansion x = expand(make_plan(opts("race"), facts(true)), all);
  ASSERT_EQ(x.sets.size(), 1u);
  EXPECT_EQ(*x.sets[0].mechanism, WritebackMech::ShrinkerReclaim);
  for (auto& m : all.writeback) m.ok = m.id == WritebackMech::MemcgZswapMax;
  x = expand(make_plan(opts("race"), facts(true)), all);
  ASSERT_EQ(x.sets.size(), 1u);
  EXPECT_EQ(*x.sets[0].mechanism, WritebackMech::MemcgZswapMax);  // the only one left: used, not skipped
}

TEST(Expand, ARaceMechanismAskedForByNameIsUsedOrRefusedWithWhy) {
  RunOptions o = opts("race");
  o.race_mechanism = "shrinker_reclaim";
  Capabilities v2 = kernel();
  for (auto& m : v2.writeback) m.ok = true;
  Expansion x = expand(make_plan(o, facts(true)), v2);
  ASSERT_EQ(x.sets.size(), 1u);
  EXPECT_EQ(x.sets[0].name(), "race/zswap/lzo/ratio2/random/shrinker_reclaim");
  try {
    expand(make_plan(o, facts(true)), kernel());  // cgroup v1: no shrinker writeback
    FAIL() << "an impossible mechanism must be refused, not replaced";
  } catch (const BadInput& e) {
    EXPECT_NE(std::string(e.what()).find("not cgroup v2"), std::string::npos) << e.what();
  }
  o.race_mechanism = "magic";
  EXPECT_NE(refusal(o).find("accepted: memcg_zswap_max"), std::string::npos);
  o = opts("quick");
  o.race_mechanism = "pool_limit";
  EXPECT_NE(refusal(o).find("only to the race suite"), std::string::npos);
}

TEST(Expand, NoUsableMechanismSkipsTheRaceWithAFix) {
  Capabilities c = kernel();
  for (auto& m : c.writeback) m.ok = false;
  Expansion x = expand(make_plan(opts("race"), facts(true)), c);
  EXPECT_TRUE(x.sets.empty());
  ASSERT_EQ(x.skipped.size(), 1u);
  EXPECT_NE(x.skipped[0].fix.find("--suite writeback"), std::string::npos);
}

TEST(Expand, WithoutRootOnlyTheFirstTouchFloorRunsAndEveryOtherSetSaysWhy) {
  Expansion x = expand(make_plan(opts(), facts(false)), Capabilities{});
  const std::vector<std::string> want = {"floor_firsttouch/none/none/zero/seq"};
  EXPECT_EQ(names(x), want);
  ASSERT_FALSE(x.skipped.empty());
  for (const auto& s : x.skipped) EXPECT_EQ(s.fix, "run as root: ./swapbench run");
}

TEST(Expand, NoMemoryCgroupSkipsDiskSwapInWithTheReason) {
  Capabilities c = kernel();
  c.memcg = false;
  c.memcg_reason = "no memory controller";
  Expansion x = expand(make_plan(opts("swapin"), facts(true)), c);
  ASSERT_EQ(x.skipped.size(), 1u);
  EXPECT_NE(x.skipped[0].reason.find("no memory controller"), std::string::npos);
}

TEST(Expand, CalibrationArmsMultiplySwapInOnly) {
  Expansion x = expand(make_plan(opts("calibrate-sets"), facts(true)), kernel({"lzo"}));
  ASSERT_EQ(x.sets.size(), 7u);
  EXPECT_EQ(x.sets[1].name(), "swapin/zswap/lzo/ratio2/random/twin");
  EXPECT_EQ(x.sets[6].arm.inject_ns, 400u);
  EXPECT_TRUE(x.sets[6].interleaved.empty());
}

TEST(Expand, InterleavedArmsAreOneSetWithTheBaseFirst) {
  Expansion x = expand(make_plan(opts("calibrate"), facts(true)), kernel({"lzo"}));
  ASSERT_EQ(x.sets.size(), 1u);
  EXPECT_EQ(x.sets[0].name(), "swapin/zswap/lzo/ratio2/random/interleaved");
  ASSERT_EQ(x.sets[0].interleaved.size(), 8u);
  EXPECT_EQ(x.sets[0].interleaved[0].label, "");
  EXPECT_EQ(x.sets[0].interleaved[0].inject_ns, 0u);
  EXPECT_EQ(x.sets[0].interleaved[1].label, "twin");
  EXPECT_EQ(x.sets[0].interleaved[2].inject_ns, 10u);
  EXPECT_EQ(x.sets[0].arm.inject_ns, 0u);  // the set itself adds nothing: its arms do
}

TEST(Expand, FaultsSuiteInterleavesAReadAndAWriteArmAndTakesNoFault) {
  Expansion x = expand(make_plan(opts("faults"), facts(true)), kernel({"lzo"}));
  const std::vector<std::string> want = {"swapin/zswap/lzo/ratio2/random/interleaved",
                                         "swapin/disk/none/ratio2/random/interleaved"};
  EXPECT_EQ(names(x), want);
  ASSERT_EQ(x.sets[0].interleaved.size(), 2u);
  EXPECT_FALSE(x.sets[0].interleaved[0].write_fault);
  EXPECT_TRUE(x.sets[0].interleaved[1].write_fault);
  EXPECT_FALSE(x.sets[0].write_faults);
  RunOptions o = opts("faults");
  o.fault = "write";
  EXPECT_NE(refusal(o).find("read and write faults as arms of one loop"), std::string::npos);
}

TEST(Expand, ListingShowsUnresolvedCompressorsAndMechanisms) {
  Expansion x = expand(make_plan(opts("writeback"), facts(true), true), Capabilities::for_listing(true));
  const std::vector<std::string> want = {"writeback/zswap/(every accepted)/ratio2/random/(each mechanism the kernel offers)"};
  EXPECT_EQ(names(x), want);
}

TEST(Expand, FilterKeepsMatchingSetsAndRefusesOneThatMatchesNothing) {
  RunOptions o = opts();
  o.filter = "swapin/zswap/(lzo|deflate)";
  Expansion x = expand(make_plan(o, facts(true)), kernel());
  const std::vector<std::string> want = {"swapin/zswap/lzo/ratio2/random", "swapin/zswap/deflate/ratio2/random"};
  EXPECT_EQ(names(x), want);
  o.filter = "nothing-like-this";
  EXPECT_THROW(expand(make_plan(o, facts(true)), kernel()), BadInput);
  o.filter = "(unclosed";
  EXPECT_NE(refusal(o).find("not a regular expression"), std::string::npos);
}

#include "bench/pmu_exact.h"

TEST(PmuExact, AHostWithoutInstructionsCountsHasNoExactBlock) {
  SetRecord r;
  r.valid = true;
  r.sb = {{"pmu", {{"instructions:k", nullptr}, {"perf::task-clock", 12.0}}}};
  EXPECT_FALSE(pmu_exact_block({&r}, "cpu", "native").has_value());
}

TEST(PmuExact, InstructionsPerFaultFromValidRepetitionsUnderTheExactMetricName) {
  SetRecord a, b, bad;
  a.valid = b.valid = true;
  a.sc.pages = b.sc.pages = 1024;
  a.sb = {{"pmu", {{"instructions:k", 17000.0}, {"instructions:u", 40.0}}}};
  b.sb = {{"pmu", {{"instructions:k", 17100.0}, {"instructions:u", 40.0}}}};
  bad.sb = {{"pmu", {{"instructions:k", 99999.0}}}};  // invalid: its path was not proven
  auto x = pmu_exact_block({&a, &b, &bad}, "Xeon", "native");
  ASSERT_TRUE(x.has_value());
  EXPECT_EQ((*x)["repetitions"], 2);
  EXPECT_DOUBLE_EQ((*x)["kernel_instructions_per_op"]["median"].get<double>(), 17050.0);
  EXPECT_DOUBLE_EQ((*x)["spread"]["kernel_median_per_op"].get<double>(), 100.0);
  EXPECT_DOUBLE_EQ((*x)["user_instructions_per_op"]["min"].get<double>(), 40.0);
  EXPECT_NE((*x)["source"].get<std::string>().find("pmu"), std::string::npos) << "never mistaken for a plugin count";
  EXPECT_TRUE((*x)["qemu_version"].is_null());
}

namespace {
Capabilities with_zram(std::vector<std::string> offered = {"lzo-rle", "lzo", "lz4"}) {
  Capabilities c = kernel();
  c.backends[Backend::Zram] = {.available = true, .compressors = std::move(offered)};
  return c;
}
}  // namespace

TEST(Zram, EveryOfferedCompressorGetsSwapInAndSwapOutSets) {
  RunOptions o = opts();
  o.backends = {"zram"};
  Expansion x = expand(make_plan(o, facts(true)), with_zram());
  const std::vector<std::string> want = {
      "swapin/zram/lzo-rle/ratio2/random", "swapout/zram/lzo-rle/ratio2/seq", "swapin/zram/lzo/ratio2/random",
      "swapout/zram/lzo/ratio2/seq",       "swapin/zram/lz4/ratio2/random",   "swapout/zram/lz4/ratio2/seq",
      "floor_firsttouch/none/none/zero/seq"};
  EXPECT_EQ(names(x), want);
  EXPECT_TRUE(x.skipped.empty());
  EXPECT_FALSE(make_plan(o, facts(true)).needs_swap_file());
}

TEST(Zram, ANameRunsWhereverItIsTakenAndIsSkippedWithWhyWhereNot) {
  RunOptions o = opts();
  o.backends = {"zswap", "zram"};
  o.compressors = {"lzo", "lz4"};  // zswap here refuses lz4, zram offers it
  Expansion x = expand(make_plan(o, facts(true)), with_zram());
  const std::vector<std::string> want = {"swapin/zswap/lzo/ratio2/random", "swapout/zswap/lzo/ratio2/seq",
                                         "swapin/zram/lzo/ratio2/random",  "swapout/zram/lzo/ratio2/seq",
                                         "swapin/zram/lz4/ratio2/random",  "swapout/zram/lz4/ratio2/seq",
                                         "floor_firsttouch/none/none/zero/seq"};
  EXPECT_EQ(names(x), want);
  ASSERT_EQ(x.skipped.size(), 1u);
  EXPECT_EQ(x.skipped[0].benchmark, "*/zswap/lz4/*");
  EXPECT_NE(x.skipped[0].reason.find("it accepts: lzo, deflate"), std::string::npos) << x.skipped[0].reason;
}

TEST(Zram, ANameNoBackendTakesIsBadInputNamingWhatEachOffers) {
  RunOptions o = opts();
  o.backends = {"zram"};
  o.compressors = {"zstd"};
  try {
    expand(make_plan(o, facts(true)), with_zram());
    FAIL() << "zstd is offered by no zram device here";
  } catch (const BadInput& e) {
    EXPECT_NE(std::string(e.what()).find("--compressor zstd: zram here does not offer it; a zram device offers: lzo-rle, lzo, lz4"),
              std::string::npos) << e.what();
  }
  o.backends = {"zswap", "zram"};
  try {
    expand(make_plan(o, facts(true)), with_zram());
    FAIL() << "zstd is taken by neither backend";
  } catch (const BadInput& e) {
    std::string why = e.what();
    EXPECT_NE(why.find("zswap: this kernel refuses it"), std::string::npos) << why;
    EXPECT_NE(why.find("zram: zram here does not offer it"), std::string::npos) << why;
  }
}

TEST(Zram, NoZramHereSkipsItsSetsWithTheReasonAndFix) {
  RunOptions o = opts();
  o.backends = {"zram", "disk"};
  Capabilities c = kernel();
  c.backends[Backend::Zram].reason = "zram is not loaded: no /sys/class/zram-control (fix: modprobe zram, or a kernel with CONFIG_ZRAM)";
  Expansion x = expand(make_plan(o, facts(true)), c);
  ASSERT_EQ(x.skipped.size(), 1u);
  EXPECT_EQ(x.skipped[0].benchmark, "*/zram/*");
  EXPECT_NE(x.skipped[0].fix.find("modprobe zram"), std::string::npos);
  for (const auto& n : names(x)) EXPECT_EQ(n.find("/zram/"), std::string::npos) << n;
}

// Any backend, not zram alone: a --backend the suite has no sets for would run nothing.
TEST(Plan, ABackendTheSuiteHasNoSetsForIsRefused) {
  RunOptions o = opts("writeback");
  o.backends = {"disk"};
  const std::string r = refusal(o, facts(true));
  EXPECT_NE(r.find("--backend disk: suite writeback has no sets that swap to disk (its sets swap to zswap); "
                   "accepted with --suite "),
            std::string::npos)
      << r;
  EXPECT_NE(r.find("quick"), std::string::npos) << r;
  o = opts("recheck-model");
  o.backends = {"zswap"};
  EXPECT_NE(refusal(o, facts(true)).find("--backend does not apply to suite recheck-model (a user-space model"),
            std::string::npos);
  o = opts("writeback");
  o.backends = {"zswap"};
  EXPECT_EQ(refusal(o, facts(true)), "");
}

TEST(Zram, OptionsThatCannotApplyAreRefused) {
  RunOptions o = opts("writeback");
  o.backends = {"zram"};
  EXPECT_NE(refusal(o).find("--backend zram: suite writeback has no sets that swap to zram"), std::string::npos);
  o = opts();
  o.backends = {"zram"};
  o.swap_dir = "/var/tmp";
  EXPECT_NE(refusal(o).find("--swap-dir does not apply to --backend zram: none of its sets swap to the run's swap "
                            "file (accepted with a backend that does: zswap, disk)"),
            std::string::npos);
  o.backends = {"zram", "disk"};
  EXPECT_EQ(refusal(o, facts(true)), "");
  o = opts();
  o.backends = {"zram"};
  Expansion x = expand(make_plan(o, facts(true), true), Capabilities::for_listing(true));
  EXPECT_EQ(names(x)[0], "swapin/zram/(every offered)/ratio2/random");
}

namespace swapbench {
// mte-writeback: each mechanism on untagged and on tagged memory, the two told apart by name (a
// writeback set's name otherwise ends at its mechanism); the tagged ones are skipped with the
// reason where this host has no MTE, and run where it has.
TEST(Expand, MteWritebackPairsEachMechanismUntaggedAndTagged) {
  RunOptions o = opts("mte-writeback");
  o.compressors = {"lzo"};
  Expansion x = expand(make_plan(o, facts(true)), kernel());
  std::vector<std::string> all = names(x);
  for (const auto& s : x.skipped) all.push_back(s.benchmark);
  std::sort(all.begin(), all.end());
  // (the mechanisms cgroup v1 cannot use are skipped once, before any pairing)
  EXPECT_EQ(all, (std::vector<std::string>{"writeback/zswap/lzo/ratio2/random/memcg_zswap_max",
                                           "writeback/zswap/lzo/ratio2/random/pool_limit/mte-tagged",
                                           "writeback/zswap/lzo/ratio2/random/pool_limit/untagged",
                                           "writeback/zswap/lzo/ratio2/random/shrinker_reclaim"}));
  for (const auto& s : x.skipped) EXPECT_FALSE(s.reason.empty());
}
}  // namespace swapbench
