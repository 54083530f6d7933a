#include <gtest/gtest.h>

#include "workloads/pmu.h"

using namespace swapbench;

TEST(CounterScaling, NotMultiplexedIsRaw) { EXPECT_DOUBLE_EQ(scale_count(1000, 50, 50), 1000); }
TEST(CounterScaling, HalfTheTimeDoublesTheCount) { EXPECT_DOUBLE_EQ(scale_count(1000, 100, 50), 2000); }
TEST(CounterScaling, NeverScheduledIsUnknownNotZero) { EXPECT_LT(scale_count(0, 100, 0), 0); }
TEST(CounterScaling, RunningBeyondEnabledIsNotScaledDown) { EXPECT_DOUBLE_EQ(scale_count(7, 10, 11), 7); }

TEST(Events, UnknownNameIsRefusedWithLibpfmsReason) {
  auto s = resolve_event("no_such_event_xyz");
  EXPECT_FALSE(s.ok);
  EXPECT_NE(s.reason.find("no_such_event_xyz"), std::string::npos) << s.reason;
}
TEST(Events, GenericNamesResolve) {
  EXPECT_TRUE(resolve_event("cycles:k").ok);
  EXPECT_TRUE(resolve_event("perf::page-faults").ok);
}
// Software events exist on every Linux, PMU or not: the group machinery itself is exercised.
TEST(CounterGroup, SoftwareEventCountsFaults) {
  CounterGroup g({"perf::page-faults", "no_such_event_xyz"});
  ASSERT_TRUE(g.any()) << g.statuses()[0].reason;
  EXPECT_FALSE(g.statuses()[1].ok);
  g.start();
  std::vector<char> mem(64 * 4096);  // fresh pages: zero-filling them faults them in
  g.stop();
  auto r = g.read();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_GE(r[0].scaled, 1);
}
