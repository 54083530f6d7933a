// Which writeback mechanisms a kernel offers, from its features (fixture feature sets).
#include <gtest/gtest.h>

#include "bench/writeback.h"

using swapbench::WritebackFeatures;

namespace {
const swapbench::WritebackMechanism& find(const std::vector<swapbench::WritebackMechanism>& v, const std::string& n) {
  for (const auto& m : v)
    if (m.name == n) return m;
  throw std::runtime_error("no mechanism " + n);
}
}  // namespace

TEST(WritebackMechanisms, CgroupV2KernelOffersAllThreeInOrder) {
  WritebackFeatures f{true, true, true, true, true, true};
  auto v = swapbench::writeback_mechanisms(f);
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0].name, "memcg_zswap_max");
  for (const auto& m : v) EXPECT_TRUE(m.ok) << m.name << ": " << m.reason;
}

TEST(WritebackMechanisms, TheDevVmV1OffersOnlyThePoolLimitAndSaysWhy) {
  WritebackFeatures f;
  f.memcg = true;
  f.zswap_shrinker_param = true;
  f.pool_limit_param = true;
  f.zswpwb_counter = true;
  auto v = swapbench::writeback_mechanisms(f);
  EXPECT_FALSE(find(v, "memcg_zswap_max").ok);
  EXPECT_NE(find(v, "memcg_zswap_max").reason.find("memory.zswap.max"), std::string::npos);
  EXPECT_FALSE(find(v, "shrinker_reclaim").ok);
  EXPECT_NE(find(v, "shrinker_reclaim").reason.find("not cgroup v2"), std::string::npos);
  EXPECT_FALSE(find(v, "shrinker_reclaim").fix.empty());
  EXPECT_TRUE(find(v, "pool_limit").ok);
}

TEST(WritebackMechanisms, WithoutACounterNothingCanBeProven) {
  WritebackFeatures f{true, true, true, true, true, false};
  for (const auto& m : swapbench::writeback_mechanisms(f)) {
    EXPECT_FALSE(m.ok);
    EXPECT_NE(m.reason.find("could not be proven"), std::string::npos) << m.reason;
  }
}
