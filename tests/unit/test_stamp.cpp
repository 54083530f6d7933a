#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "workloads/pages/stamp.h"

using namespace swapbench;

namespace {
std::vector<uint8_t> stamped(uint64_t index, uint64_t gen) {
  std::vector<uint8_t> p(kPageSize);
  for (size_t i = 0; i < kPageSize; ++i) p[i] = static_cast<uint8_t>(i * 7 + index);
  write_stamp(p.data(), index, gen);
  return p;
}
}  // namespace

TEST(Stamp, IntactPagePasses) {
  auto p = stamped(12, 4);
  EXPECT_FALSE(verify_stamp(p.data(), 12, 4));
}

// The detector the writeback race relies on: a page of an older generation must fail loudly.
TEST(Stamp, StaleGenerationIsReportedWithPageExpectedAndFound) {
  auto old = stamped(12, 3);
  auto m = verify_stamp(old.data(), 12, 4);
  ASSERT_TRUE(m);
  EXPECT_NE(m->what.find("stale"), std::string::npos);
  std::string d = m->describe();
  EXPECT_NE(d.find("page 12"), std::string::npos) << d;
  EXPECT_NE(d.find("generation 4"), std::string::npos) << d;  // expected
  EXPECT_NE(d.find("generation 3"), std::string::npos) << d;  // found
}

TEST(Stamp, AnotherPagesDataIsReported) {
  auto p = stamped(13, 4);
  auto m = verify_stamp(p.data(), 12, 4);
  ASSERT_TRUE(m);
  EXPECT_NE(m->what.find("wrong index"), std::string::npos);
}

TEST(Stamp, BodyCorruptionIsReported) {
  auto p = stamped(12, 4);
  p[3000] ^= 0x10;
  auto m = verify_stamp(p.data(), 12, 4);
  ASSERT_TRUE(m);
  EXPECT_NE(m->what.find("corrupted"), std::string::npos);
}

TEST(Stamp, ZeroedPageIsNotAStamp) {
  std::vector<uint8_t> p(kPageSize, 0);
  auto m = verify_stamp(p.data(), 0, 1);
  ASSERT_TRUE(m);
  EXPECT_NE(m->what.find("not a stamp"), std::string::npos);
}
