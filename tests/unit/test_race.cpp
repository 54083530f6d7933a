// The race's stale-data detector, fed pages it must pass and pages it must fail.
#include <gtest/gtest.h>

#include <vector>

#include "bench/race.h"
#include "workloads/pages/page_profile.h"
#include "workloads/pages/stamp.h"

namespace {
swapbench::PageProfile ratio2() { return swapbench::PageProfile(swapbench::parse_profile("ratio2")); }
}  // namespace

TEST(RaceDetector, TheCurrentGenerationPasses) {
  std::vector<uint8_t> page(swapbench::kPageSize);
  ratio2().fill(page.data(), 17, 5);
  EXPECT_FALSE(swapbench::check_page(page.data(), 17, 5, 0.0).has_value());
}

TEST(RaceDetector, AnOlderGenerationIsStaleWithBothGenerationsAndTheTime) {
  std::vector<uint8_t> page(swapbench::kPageSize);
  ratio2().fill(page.data(), 17, 4);  // intact, but what a recycled slot's old entry held
  auto r = swapbench::check_page(page.data(), 17, 5, 1.25);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->page, 17u);
  EXPECT_EQ(r->expected_generation, 5u);
  EXPECT_EQ(r->found_generation, 4u);
  EXPECT_EQ(r->what.rfind("stale generation", 0), 0u) << r->what;
  EXPECT_NE(r->describe().find("page 17 at 1.25 s"), std::string::npos) << r->describe();
}

TEST(RaceDetector, AnotherPagesDataIsNotCalledStale) {
  std::vector<uint8_t> page(swapbench::kPageSize);
  ratio2().fill(page.data(), 18, 5);
  auto r = swapbench::check_page(page.data(), 17, 5, 0.0);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->what.rfind("wrong index", 0), 0u) << r->what;
}
