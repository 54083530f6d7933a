// Latency summary of one timed set: exact percentiles from the kept samples, and a log-linear
// histogram for plots and for merging.
//
// Histogram: 16 linear sub-buckets per power of two, so a bucket's width is at most 1/16 of its
// lower bound: any value is known to within 6.25% from its bucket alone. Range 1 ns .. 2^40 ns
// (~18 minutes); values outside are clamped into the end buckets. Memory: 41 * 16 counters,
// kept sparse in the output.
#pragma once
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

namespace swapbench {

class LogLinearHistogram {
 public:
  static constexpr int kSubBits = 4;
  static constexpr int kMaxExp = 40;
  LogLinearHistogram();
  void add(uint64_t ns);
  static size_t bucket_of(uint64_t ns);
  static uint64_t lower_bound(size_t bucket);
  static uint64_t upper_bound(size_t bucket);  // exclusive
  uint64_t count() const { return total_; }
  const std::vector<uint64_t>& counts() const { return counts_; }
  nlohmann::json to_json() const;  // {"scheme": ..., "buckets": [[lo, hi, count], ...]}

 private:
  std::vector<uint64_t> counts_;
  uint64_t total_ = 0;
};

struct LatencySummary {
  uint64_t count = 0;
  double min = 0, p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0, mean = 0;
  nlohmann::json to_json() const;
};

// Percentiles by the nearest-rank method on a sorted copy.
LatencySummary summarize(std::vector<uint64_t> samples);
double percentile_sorted(const std::vector<uint64_t>& sorted, double q);

}  // namespace swapbench
