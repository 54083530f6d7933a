#include <gtest/gtest.h>

#include <numeric>

#include "workloads/measure/histogram.h"

using namespace swapbench;

TEST(Histogram, EveryValueFallsInsideItsBucketWithinTheStatedError) {
  for (uint64_t v : {0ull, 1ull, 15ull, 16ull, 17ull, 31ull, 32ull, 100ull, 5400ull, 98765ull, 1ull << 30,
                     (1ull << 40) - 1}) {
    size_t b = LogLinearHistogram::bucket_of(v);
    uint64_t lo = LogLinearHistogram::lower_bound(b), hi = LogLinearHistogram::upper_bound(b);
    EXPECT_LE(lo, v) << v;
    EXPECT_LT(v, hi) << v;
    if (v >= 16) {
      EXPECT_LE(static_cast<double>(hi - lo) / static_cast<double>(lo), 1.0 / 16 + 1e-12) << v;
    }
  }
}

TEST(Histogram, BucketsAreContiguous) {
  LogLinearHistogram h;
  for (size_t b = 0; b + 1 < h.counts().size(); ++b)
    EXPECT_EQ(LogLinearHistogram::upper_bound(b), LogLinearHistogram::lower_bound(b + 1)) << b;
}

TEST(Histogram, HugeValuesAreClampedNotLost) {
  LogLinearHistogram h;
  h.add(1ull << 50);
  h.add(3);
  EXPECT_EQ(h.count(), 2u);
  EXPECT_EQ(h.to_json()["buckets"].size(), 2u);
}

TEST(Summary, NearestRankPercentiles) {
  std::vector<uint64_t> v(1000);
  std::iota(v.begin(), v.end(), 1);  // 1..1000
  auto s = summarize(v);
  EXPECT_EQ(s.min, 1);
  EXPECT_EQ(s.p50, 500);
  EXPECT_EQ(s.p90, 900);
  EXPECT_EQ(s.p99, 990);
  EXPECT_EQ(s.p999, 999);
  EXPECT_EQ(s.max, 1000);
  EXPECT_DOUBLE_EQ(s.mean, 500.5);
}
