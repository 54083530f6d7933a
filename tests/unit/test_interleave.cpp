// Page-interleaved arms (bench/interleave.h): the assignment of visits to arms and the paired
// statistic, on known inputs.
#include "bench/interleave.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace swapbench {
namespace {

TEST(AssignArms, BalancedEveryBlockHoldsEveryArmOnce) {
  for (size_t arms : {1u, 2u, 3u, 8u, 16u}) {
    const auto a = assign_arms(8192 + 5, arms, 42);
    ASSERT_EQ(a.size(), 8192u + 5);
    std::vector<size_t> count(arms);
    for (auto x : a) {
      ASSERT_LT(x, arms);
      ++count[x];
    }
    EXPECT_LE(*std::max_element(count.begin(), count.end()) - *std::min_element(count.begin(), count.end()), 1u);
    for (size_t b = 0; b + arms <= a.size(); b += arms) {
      std::vector<uint8_t> block(a.begin() + b, a.begin() + b + arms);
      std::sort(block.begin(), block.end());
      for (size_t i = 0; i < arms; ++i) ASSERT_EQ(block[i], i) << "block at visit " << b;
    }
  }
}

TEST(AssignArms, DeterministicPerSeedAndShuffledBetweenSeeds) {
  EXPECT_EQ(assign_arms(4096, 8, 7), assign_arms(4096, 8, 7));
  EXPECT_NE(assign_arms(4096, 8, 7), assign_arms(4096, 8, 8));
  // Shuffled within blocks: not the identity order block after block.
  const auto a = assign_arms(4096, 8, 7);
  size_t identity_blocks = 0;
  for (size_t b = 0; b < a.size(); b += 8) identity_blocks += std::is_sorted(a.begin() + b, a.begin() + b + 8);
  EXPECT_LT(identity_blocks, 4u);  // 512 blocks, each sorted with chance 1/40320
}

TEST(AssignArms, NoArmAlwaysFollowsAnother) {
  // Over a repetition, every arm is preceded by every other arm in a share near 1/arms (within a
  // block 1/(arms-1) of the time, across a boundary 1/arms), and by itself only across a block's
  // boundary (about 1/arms^2): an effect one fault leaves on the next is spread over the arms.
  const size_t arms = 8;
  const auto a = assign_arms(8192, arms, 20261123);
  std::vector<std::vector<size_t>> after(arms, std::vector<size_t>(arms));
  for (size_t i = 1; i < a.size(); ++i) ++after[a[i - 1]][a[i]];
  for (size_t x = 0; x < arms; ++x)
    for (size_t y = 0; y < arms; ++y) {
      const double share = static_cast<double>(after[x][y]) / (a.size() / arms);
      if (x == y) {
        EXPECT_GT(share, 0.0) << x << " -> itself never, across 1024 block boundaries";
        EXPECT_LT(share, 2.0 / (arms * arms)) << x << " -> itself";
        continue;
      }
      EXPECT_GT(share, 0.5 / arms) << x << " -> " << y;
      EXPECT_LT(share, 2.0 / arms) << x << " -> " << y;
    }
}

TEST(AssignArms, RefusesZeroOrTooManyArms) {
  EXPECT_THROW(assign_arms(10, 0, 1), std::invalid_argument);
  EXPECT_THROW(assign_arms(10, kMaxArms + 1, 1), std::invalid_argument);
}

TEST(InterleavedFigures, PerArmSummariesAndRatiosToTheBase) {
  const std::vector<CalibrationArm> arms = {{"", 0}, {"twin", 0}, {"inject100ns", 100}};
  // Visits in arm order 0 1 2 | 2 0 1 | 1 2 0: base 1000/1002/1004, twin 1000/1002/1004,
  // inject 1100/1102/1104 -> medians 1002, 1002, 1102.
  const std::vector<uint8_t> assign = {0, 1, 2, 2, 0, 1, 1, 2, 0};
  const std::vector<uint64_t> samples = {1000, 1000, 1100, 1102, 1002, 1002, 1004, 1104, 1004};
  const auto f = interleaved_figures(arms, samples, assign);
  ASSERT_EQ(f.arms.size(), 3u);
  EXPECT_EQ(f.base_samples, (std::vector<uint64_t>{1000, 1002, 1004}));
  EXPECT_DOUBLE_EQ(f.arms[2].lat.p50, 1102);
  const auto j = f.to_json(5, 0);
  ASSERT_EQ(j["paired"].size(), 2u);
  EXPECT_EQ(j["paired"][0]["label"], "twin");
  EXPECT_DOUBLE_EQ(j["paired"][0]["p50_ratio"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(j["paired"][1]["p50_ratio"].get<double>(), 1102.0 / 1002.0);
  EXPECT_DOUBLE_EQ(j["paired"][1]["p50_diff_ns"].get<double>(), 100.0);
  EXPECT_EQ(j["arms"][2]["pages"], 3);
  EXPECT_EQ(j["assignment"]["seed"], 5);
  // A run-wide --inject-ns adds to every arm, and says so.
  EXPECT_EQ(f.to_json(5, 7)["arms"][0]["inject_ns"], 7);
}

TEST(InterleavedFigures, AnArmWithoutPagesHasNoRatio) {
  const std::vector<CalibrationArm> arms = {{"", 0}, {"x", 50}};
  const auto f = interleaved_figures(arms, {10, 12}, {0, 0});
  EXPECT_TRUE(f.to_json(1, 0)["paired"][0]["p50_ratio"].is_null());
  EXPECT_THROW(interleaved_figures(arms, {1, 2, 3}, {0, 1}), std::invalid_argument);
}

}  // namespace
}  // namespace swapbench
