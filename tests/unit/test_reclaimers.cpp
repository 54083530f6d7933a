#include <gtest/gtest.h>

#include "workloads/proof/reclaimers.h"

using namespace swapbench;

// A fake sysfs tree shaped like a cloud VM's: kdamond 0 running a paddr pageout scheme (and a stat
// scheme beside it), kdamond 1 with a pageout scheme but switched off.
TEST(Reclaimers, OnlyRunningPageoutSchemesAreFound) {
  auto r = find_reclaimers(std::string(FIXTURES) + "/sysroot-damon");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].what, "DAMON kdamond 0 context 0 scheme 0");
  EXPECT_EQ(r[0].detail, "paddr, action pageout, min age 12 aggregations, quota 2147483648 bytes / 800 ms, pid 76");
  EXPECT_NE(reclaimers_hint(r).find("another reclaimer pages memory out on this machine (DAMON kdamond 0"),
            std::string::npos);
  EXPECT_EQ(to_json(r)[0]["what"], "DAMON kdamond 0 context 0 scheme 0");
}

TEST(Reclaimers, NoDamonNoReclaimerNoHint) {
  auto r = find_reclaimers(std::string(FIXTURES) + "/sysroot-v2");
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(reclaimers_hint(r), "");
}
