#include <gtest/gtest.h>
#include <sys/mman.h>

#include "workloads/measure/pmu.h"

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
  // Fresh pages from mmap: a std::vector may reuse heap pages an earlier test in this process
  // faulted in already (glibc raises its mmap threshold after large frees), and count nothing.
  void* mem = mmap(nullptr, 64 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mem, MAP_FAILED);
  for (size_t i = 0; i < 64; ++i) static_cast<volatile char*>(mem)[i * 4096] = 1;
  g.stop();
  munmap(mem, 64 * 4096);
  auto r = g.read();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_GE(r[0].scaled, 1);
}

// stop() .. resume() leaves the work between them out (the host-drift probe runs there): faults
// taken while paused are not counted, those before and after are, without a reset.
TEST(CounterGroup, StopThenResumeLeavesThePauseOut) {
  auto touch = [](size_t pages) {
    void* p = mmap(nullptr, pages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    EXPECT_NE(p, MAP_FAILED);
    madvise(p, pages * 4096, MADV_NOHUGEPAGE);  // one fault per page
    for (size_t i = 0; i < pages; ++i) static_cast<volatile char*>(p)[i * 4096] = 1;
    return p;
  };
  CounterGroup g({"perf::page-faults"});
  ASSERT_TRUE(g.any()) << g.statuses()[0].reason;
  g.start();
  void* a = touch(16);
  g.stop();
  void* paused = touch(256);
  g.resume();
  void* b = touch(16);
  g.stop();
  auto r = g.read();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_GE(r[0].scaled, 32);
  EXPECT_LT(r[0].scaled, 256) << "the paused faults were counted";
  for (void* p : {a, paused, b}) munmap(p, p == paused ? 256 * 4096 : 16 * 4096);
}
