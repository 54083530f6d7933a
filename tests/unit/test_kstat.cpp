#include <gtest/gtest.h>

#include <sstream>

#include "workloads/measure/kstat.h"
#include "workloads/system/memcg.h"
#include "workloads/system/swap_area.h"
#include "workloads/system/zswap.h"

using namespace swapbench;

const std::string kV1 = std::string(FIXTURES) + "/sysroot-v1";
const std::string kV2 = std::string(FIXTURES) + "/sysroot-v2";
const std::string kNone = std::string(FIXTURES) + "/sysroot-nomemcg";

TEST(Parsers, KeyValuesSkipWhatDoesNotParse) {
  std::istringstream in("pswpin 12\ngarbage\nzswpin 7 extra\n\nrss -4096\n");
  auto s = parse_key_values(in);
  EXPECT_EQ(s.at("pswpin"), 12);
  EXPECT_EQ(s.at("zswpin"), 7);
  EXPECT_EQ(s.at("rss"), -4096);
  EXPECT_EQ(s.count("garbage"), 0u);
}

TEST(Parsers, VmstatKeepsOnlyTheSwapCounters) {
  auto s = read_vmstat(kV1);
  EXPECT_TRUE(s.count("pswpin"));
  EXPECT_TRUE(s.count("zswpwb"));
  EXPECT_FALSE(s.count("nr_free_pages"));
}

TEST(Parsers, EveryZswapDebugfsFile) {
  auto s = read_zswap_debugfs(kV1 + "/sys/kernel/debug");
  EXPECT_EQ(s.at("stored_pages"), 2048);
  EXPECT_EQ(s.at("reject_compress_poor"), 3);
  EXPECT_EQ(s.size(), 6u);
  EXPECT_TRUE(read_zswap_debugfs(kV1 + "/nonexistent").empty());
}

TEST(Parsers, DeltaOfKeysInBoth) {
  Stats a{{"x", 5}, {"y", 1}}, b{{"x", 9}, {"z", 3}};
  auto d = delta(a, b);
  EXPECT_EQ(d.at("x"), 4);
  EXPECT_EQ(d.size(), 1u);
}

TEST(Parsers, ZswapParamsAndSwaps) {
  SysOps ops(kV1);
  EXPECT_TRUE(zswap_present(ops));
  auto p = read_zswap_params(ops);
  EXPECT_EQ(p.at("compressor"), "lzo");
  EXPECT_EQ(p.at("max_pool_percent"), "20");
  EXPECT_EQ(p.count("zpool"), 0u);  // 6.18: no zpool parameter
  auto sw = read_swaps(ops);
  ASSERT_EQ(sw.size(), 1u);
  EXPECT_EQ(sw[0].path, "/var/tmp/swapbench-77.swap");
  EXPECT_EQ(sw[0].size_bytes, 102400u * 1024);
  EXPECT_EQ(sw[0].priority, 32767);
}

TEST(Memcg, V1WhenV2OffersNoMemoryController) {
  SysOps ops(kV1);
  auto mi = detect_memcg(ops);
  EXPECT_EQ(mi.version, MemcgVersion::V1);
  EXPECT_EQ(mi.mount, "/sys/fs/cgroup/memory");
  EXPECT_EQ(own_cgroup_procs(ops, mi), "/sys/fs/cgroup/memory/cgroup.procs");
}

TEST(Memcg, V2WithTheProcessInANestedCgroup) {
  SysOps ops(kV2);
  auto mi = detect_memcg(ops);
  EXPECT_EQ(mi.version, MemcgVersion::V2);
  EXPECT_EQ(own_cgroup_procs(ops, mi), "/sys/fs/cgroup/user.slice/cgroup.procs");
}

TEST(Memcg, NoneSaysWhyAndHowToFix) {
  SysOps ops(kNone);
  auto mi = detect_memcg(ops);
  EXPECT_EQ(mi.version, MemcgVersion::None);
  EXPECT_NE(mi.reason.find("+memory"), std::string::npos) << mi.reason;
}
