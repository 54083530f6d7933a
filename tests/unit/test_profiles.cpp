#include <gtest/gtest.h>

#include <vector>

#include "workloads/pages/page_profile.h"
#include "workloads/pages/stamp.h"

using namespace swapbench;

namespace {
std::vector<uint8_t> pages_of(const PageProfile& p, size_t n) {
  std::vector<uint8_t> v(n * kPageSize);
  for (size_t i = 0; i < n; ++i) p.fill(v.data() + i * kPageSize, i, 3);
  return v;
}
}  // namespace

// The ratio profiles promise a compression ratio measured in user space with lz4 and zstd.
class RatioProfile : public ::testing::TestWithParam<double> {};
TEST_P(RatioProfile, HitsTargetWithLz4AndZstd) {
  double target = GetParam();
  PageProfile p(parse_profile("ratio" + std::to_string(static_cast<int>(target))));
  auto v = pages_of(p, 128);
  auto m = measure_ratio(v.data(), 128);
  EXPECT_NEAR(m.lz4, target, target * 0.05) << "lz4";
  EXPECT_NEAR(m.zstd, target, target * 0.15) << "zstd";
}
INSTANTIATE_TEST_SUITE_P(Targets, RatioProfile, ::testing::Values(2.0, 3.0, 4.0));

TEST(Profiles, RandomIsIncompressibleAndTextIsNot) {
  auto r = pages_of(PageProfile(parse_profile("random")), 64);
  auto t = pages_of(PageProfile(parse_profile("text")), 64);
  EXPECT_LT(measure_ratio(r.data(), 64).lz4, 1.05);
  EXPECT_GT(measure_ratio(t.data(), 64).zstd, 1.8);
}

TEST(Profiles, EveryProfileVerifiesItsOwnPagesAndNotOthers) {
  for (const char* name : {"random", "text", "ratio2", "zero", "same"}) {
    PageProfile p(parse_profile(name));
    std::vector<uint8_t> page(kPageSize);
    p.fill(page.data(), 7, 2);
    EXPECT_EQ(p.verify(page.data(), 7, 2), "") << name;
    EXPECT_EQ(page[0], p.first_byte()) << name << ": a write fault must store the byte already there";
    page[1000] ^= 1;
    EXPECT_NE(p.verify(page.data(), 7, 2), "") << name << " missed a flipped bit";
  }
}

TEST(Profiles, SameFilledPagesNameTheirIndexAndGeneration) {
  PageProfile p(parse_profile("same"));
  std::vector<uint8_t> page(kPageSize);
  p.fill(page.data(), 5, 1);
  EXPECT_NE(p.verify(page.data(), 6, 1), "");
  EXPECT_NE(p.verify(page.data(), 5, 2), "");
}

TEST(Profiles, FileProfileReadsTheFile) {
  char path[] = "/tmp/swapbench-profile-XXXXXX";
  int fd = mkstemp(path);
  std::vector<uint8_t> data(3 * kPageSize, 'x');
  ASSERT_EQ(write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  close(fd);
  PageProfile p(parse_profile(std::string("file:") + path));
  std::vector<uint8_t> page(kPageSize);
  p.fill(page.data(), 4, 1);
  EXPECT_EQ(page[2000], 'x');
  EXPECT_EQ(p.verify(page.data(), 4, 1), "");
  unlink(path);
}

TEST(Profiles, BadNamesAreRefusedWithTheAcceptedForms) {
  for (const char* bad : {"ratio", "ratio0.5", "ratio99", "ratiox", "rand0m", "file:"}) {
    try {
      parse_profile(bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(PageProfile(parse_profile("file:/nonexistent/x")), std::invalid_argument);
}
