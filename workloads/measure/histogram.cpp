#include "workloads/measure/histogram.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace swapbench {

// Buckets 0..15 are exact; then one group of 16 per exponent 4..kMaxExp.
LogLinearHistogram::LogLinearHistogram() : counts_(static_cast<size_t>(kMaxExp - kSubBits + 2) << kSubBits, 0) {}

size_t LogLinearHistogram::bucket_of(uint64_t ns) {
  if (ns < (1u << kSubBits)) return ns;  // exact below 16 ns
  int exp = 63 - __builtin_clzll(ns);    // ns in [2^exp, 2^(exp+1))
  if (exp > kMaxExp) return (static_cast<size_t>(kMaxExp - kSubBits + 2) << kSubBits) - 1;
  uint64_t sub = (ns >> (exp - kSubBits)) & ((1u << kSubBits) - 1);
  return (static_cast<size_t>(exp - kSubBits + 1) << kSubBits) + sub;
}

uint64_t LogLinearHistogram::lower_bound(size_t b) {
  if (b < (1u << kSubBits)) return b;
  size_t group = b >> kSubBits;  // >= 1
  int exp = static_cast<int>(group) + kSubBits - 1;
  uint64_t sub = b & ((1u << kSubBits) - 1);
  return (1ull << exp) + (sub << (exp - kSubBits));
}

uint64_t LogLinearHistogram::upper_bound(size_t b) {
  if (b < (1u << kSubBits)) return b + 1;
  int exp = static_cast<int>(b >> kSubBits) + kSubBits - 1;
  return lower_bound(b) + (1ull << (exp - kSubBits));
}

void LogLinearHistogram::add(uint64_t ns) {
  ++counts_[bucket_of(ns)];
  ++total_;
}

nlohmann::json LogLinearHistogram::to_json() const {
  nlohmann::json buckets = nlohmann::json::array();
  for (size_t b = 0; b < counts_.size(); ++b)
    if (counts_[b]) buckets.push_back({lower_bound(b), upper_bound(b), counts_[b]});
  return {{"scheme", "log-linear, 16 sub-buckets per power of two, ns, [lo, hi)"}, {"buckets", buckets}};
}

double percentile_sorted(const std::vector<uint64_t>& s, double q) {
  if (s.empty()) return 0;
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(s.size())));
  if (rank == 0) rank = 1;
  return static_cast<double>(s[std::min(rank, s.size()) - 1]);
}

LatencySummary summarize(std::vector<uint64_t> v) {
  LatencySummary r;
  if (v.empty()) return r;
  std::sort(v.begin(), v.end());
  r.count = v.size();
  r.min = static_cast<double>(v.front());
  r.max = static_cast<double>(v.back());
  r.p50 = percentile_sorted(v, 0.50);
  r.p90 = percentile_sorted(v, 0.90);
  r.p99 = percentile_sorted(v, 0.99);
  r.p999 = percentile_sorted(v, 0.999);
  r.mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  return r;
}

nlohmann::json LatencySummary::to_json() const {
  return {{"min", min}, {"p50", p50}, {"p90", p90}, {"p99", p99}, {"p999", p999}, {"max", max}, {"mean", mean}};
}

}  // namespace swapbench
