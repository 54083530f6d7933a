#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "workloads/pages/region.h"

using namespace swapbench;

TEST(Order, EveryPatternVisitsEveryPageOnce) {
  for (auto p : {Pattern::Sequential, Pattern::Random, Pattern::Strided}) {
    for (size_t n : {1u, 15u, 16u, 17u, 1000u}) {
      auto o = make_order(p, n, 42);
      ASSERT_EQ(o.size(), n);
      std::sort(o.begin(), o.end());
      for (size_t i = 0; i < n; ++i) ASSERT_EQ(o[i], i) << to_string(p) << " n=" << n;
    }
  }
}

TEST(Order, StridedStepsByTheStride) {
  auto o = make_order(Pattern::Strided, 64, 0, 16);
  EXPECT_EQ(o[0], 0u);
  EXPECT_EQ(o[1], 16u);
  EXPECT_EQ(o[4], 1u);
}

TEST(Order, BadPatternNamesTheAcceptedOnes) {
  try {
    parse_pattern("zigzag");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("seq, random, strided"), std::string::npos);
  }
}

TEST(Region, FillVerifyAndResidency) {
  Region r(32);
  PageProfile p(parse_profile("ratio2"));
  r.fill(p, 9);
  EXPECT_EQ(r.resident(), 32u);
  size_t bad = 0;
  EXPECT_TRUE(r.verify(p, 9, 3, bad).empty());
  EXPECT_EQ(bad, 0u);
  r.page(4)[200] ^= 1;
  r.page(30)[0] = 0;
  auto msgs = r.verify(p, 9, 1, bad);
  EXPECT_EQ(bad, 2u);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_NE(msgs[0].find("page 4"), std::string::npos) << msgs[0];
}
