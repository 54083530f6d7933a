// The sample timer (workloads/measure/timer.h): which clock is chosen from what the machine reports, the
// frequency arithmetic, and the chosen clock itself against CLOCK_MONOTONIC.
#include "workloads/measure/timer.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>

namespace swapbench {
namespace {

const char* kCpuinfoFull =
    "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu tsc msr rdtscp constant_tsc nonstop_tsc "
    "tsc_known_freq\n\nprocessor\t: 1\nflags\t\t: fpu\n";

TEST(Timer, X86WithConstantNonstopTscUsesTheCounter) {
  auto c = choose_timer("x86_64", kCpuinfoFull, "");
  EXPECT_EQ(c.kind, TimerKind::Counter);
  EXPECT_NE(c.why.find("constant_tsc"), std::string::npos);
  EXPECT_EQ(choose_timer("x86_64", kCpuinfoFull, "auto").kind, TimerKind::Counter);
}

TEST(Timer, X86WithoutATscFlagFallsBackNamingIt) {
  auto c = choose_timer("x86_64", "flags\t: fpu tsc rdtscp constant_tsc\n", "");
  EXPECT_EQ(c.kind, TimerKind::ClockGettime);
  EXPECT_NE(c.why.find("nonstop_tsc"), std::string::npos) << c.why;
  EXPECT_EQ(c.why.find("constant_tsc,"), std::string::npos) << c.why;  // present, so not listed
  auto d = choose_timer("x86_64", "flags\t: fpu tsc nonstop_tsc constant_tsc\n", "");
  EXPECT_EQ(d.kind, TimerKind::ClockGettime);
  EXPECT_NE(d.why.find("rdtscp"), std::string::npos) << d.why;
  // A flag of a later line (another CPU, or a word like "constant_tsc" in "bugs") does not count.
  auto e = choose_timer("x86_64", "flags\t: fpu\nbugs\t: constant_tsc nonstop_tsc rdtscp\n", "");
  EXPECT_EQ(e.kind, TimerKind::ClockGettime);
  // Substrings are not flags.
  EXPECT_EQ(choose_timer("x86_64", "flags\t: xconstant_tsc nonstop_tscx rdtscp\n", "").kind, TimerKind::ClockGettime);
}

TEST(Timer, ForcedFallbackAndBadValue) {
  auto c = choose_timer("x86_64", kCpuinfoFull, "clock_gettime");
  EXPECT_EQ(c.kind, TimerKind::ClockGettime);
  EXPECT_NE(c.why.find("SWAPBENCH_TIMER"), std::string::npos);
  try {
    choose_timer("x86_64", kCpuinfoFull, "tsc");
    FAIL() << "a bad SWAPBENCH_TIMER was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("accepted: auto"), std::string::npos) << e.what();
  }
}

TEST(Timer, OtherArchitectures) {
  EXPECT_EQ(choose_timer("aarch64", "", "").kind, TimerKind::Counter);
  auto c = choose_timer("riscv64", kCpuinfoFull, "");
  EXPECT_EQ(c.kind, TimerKind::ClockGettime);
  EXPECT_NE(c.why.find("riscv64"), std::string::npos);
}

TEST(Timer, TicksPerNs) {
  EXPECT_DOUBLE_EQ(ticks_per_ns({1000, 5000, 10}, {2601000, 1005000, 10}), 2.6);
  EXPECT_THROW(ticks_per_ns({1000, 5000, 10}, {900, 6000, 10}), std::invalid_argument);
  EXPECT_THROW(ticks_per_ns({1000, 5000, 10}, {2000, 5000, 10}), std::invalid_argument);
}

// The chosen timer, whatever it is here, measures a sleep as CLOCK_MONOTONIC does (within 2%:
// this host is shared, but both clocks see the same interval) and says why it was chosen.
TEST(Timer, ChosenTimerAgreesWithMonotonic) {
  const SampleTimer& t = init_sample_timer();
  EXPECT_FALSE(t.why.empty());
  EXPECT_GT(t.frequency_hz, 1e6);
  EXPECT_EQ(&init_sample_timer(), &t);  // chosen once
  const uint64_t m0 = now_ns(), s0 = sample_open();
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  const uint64_t s1 = sample_close(), m1 = now_ns();
  const double mono = static_cast<double>(m1 - m0), ours = static_cast<double>(ticks_to_ns(s1 - s0));
  EXPECT_NEAR(ours / mono, 1.0, 0.02) << t.name << " " << t.frequency_hz << " Hz";
  EXPECT_NEAR(static_cast<double>(ticks_to_ns(ns_to_ticks(1000000))), 1e6, 2.0);
  auto o = measure_timer_overhead(10000);
  EXPECT_GT(o.p50_ns, 0.0);
  EXPECT_LT(o.p50_ns, 10000.0);
}

}  // namespace
}  // namespace swapbench
