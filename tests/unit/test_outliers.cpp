// Outliers flagged (bench/outliers.h) and the host reference (workloads/measure/host_ref.h).
#include "bench/outliers.h"

#include <gtest/gtest.h>

#include <cmath>

#include "workloads/measure/host_ref.h"

namespace swapbench {
namespace {

TEST(Outliers, TukeyClassesOnAKnownSample) {
  // Quartiles of 1..8 (linear, as numpy): q1 = 2.75, q3 = 6.25, IQR 3.5; mild fences -2.5 / 11.5,
  // severe -7.75 / 16.75.
  std::vector<double> v{1, 2, 3, 4, 5, 6, 7, 8};
  auto o = tukey_outliers(v);
  EXPECT_DOUBLE_EQ(o.q1, 2.75);
  EXPECT_DOUBLE_EQ(o.q3, 6.25);
  EXPECT_EQ(o.mild() + o.severe(), 0u);
  // The same 8 values, with 4 more that keep the quartiles within the 1..8 range.
  v = {1, 2, 3, 4, 5, 6, 7, 8, 4.5, 4.5, 12, 40};
  o = tukey_outliers(v);
  // sorted: 1 2 3 4 4.5 4.5 5 6 7 8 12 40 -> q1 = 3.75, q3 = 7.25, IQR 3.5: mild > 12.5, severe > 17.75
  EXPECT_DOUBLE_EQ(o.q1, 3.75);
  EXPECT_DOUBLE_EQ(o.q3, 7.25);
  EXPECT_EQ(o.high_mild, 0u);  // 12 is inside 12.5
  EXPECT_EQ(o.high_severe, 1u);
  EXPECT_EQ(o.low_mild + o.low_severe, 0u);
  v.push_back(15);  // sorted: ... 8 12 15 40 -> q1 = 4, q3 = 8, IQR 4: mild > 14, severe > 20
  o = tukey_outliers(v);
  EXPECT_DOUBLE_EQ(o.q1, 4);
  EXPECT_DOUBLE_EQ(o.q3, 8);
  EXPECT_EQ(o.high_mild, 1u);  // 15
  EXPECT_EQ(o.high_severe, 1u);  // 40
  EXPECT_EQ(o.n, 13u);
  auto j = o.to_json();
  EXPECT_EQ(j["mild"], 1);
  EXPECT_EQ(j["severe"], 1);
  EXPECT_EQ(j["fences"].size(), 4u);
}

TEST(Outliers, LowSideAndTooFew) {
  auto o = tukey_outliers({100, 101, 102, 103, 104, 105, 106, 107, 90, 50});
  EXPECT_GE(o.low_mild + o.low_severe, 2u);
  EXPECT_EQ(o.low_severe, 1u);  // 50
  EXPECT_EQ(tukey_outliers({1, 1000, 2}).mild() + tukey_outliers({1, 1000, 2}).severe(), 0u);
  EXPECT_EQ(tukey_outliers({1, 1000, 2}).to_json()["fences"], nullptr);
  EXPECT_EQ(tukey_outliers({1, 2, 3, std::nan(""), 4}).n, 4u);
}

TEST(HostRef, SlowdownAgainstTheRunMedian) {
  EXPECT_NEAR(host_slowdown({550, 550, 560}, {500, 500, 550, 450, 560}), 0.1, 1e-12);
  EXPECT_NEAR(host_slowdown({450}, {500, 500, 450}), -0.1, 1e-12);
  EXPECT_TRUE(std::isnan(host_slowdown({}, {500})));
  EXPECT_TRUE(std::isnan(host_slowdown({std::nan("")}, {500})));
}

TEST(HostRef, LoopTakesTimeAndScalesWithNothingButTheHost) {
  init_sample_timer();
  uint64_t best = UINT64_MAX;
  for (int i = 0; i < 200; ++i) best = std::min(best, host_reference_ns());
  // kHostRefIterations dependent multiply-adds take at least that many cycles: above 200 ns below 5 GHz.
  EXPECT_GT(best, static_cast<uint64_t>(kHostRefIterations) / 5);
  EXPECT_LT(best, 100000u);
}

}  // namespace
}  // namespace swapbench
