// Per set: outliers flagged, never dropped (Tukey's fences, as criterion.rs classifies them), and
// the host's speed during the set against the run's median (the reference loop, workloads/measure/host_ref.h).
//
// Outliers are counted over the per-repetition statistic (each repetition's per-page p50), not over
// the pages: compare's verdict is a statistic of those repetitions, so a repetition that caught a
// host stall is what can move it, and that is what a reader must be warned of. The pages of one
// fault path have a long natural tail (reclaim, an interrupt, a slower compression) that p99 and
// p999 already report; fences over 8192 pages would flag hundreds of them in every repetition
// and say nothing about the verdict.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace swapbench {

// Quartiles by linear interpolation between order statistics (numpy's default, so analysis/stats.py
// finds the same fences). mild: beyond 1.5 IQR but within 3; severe: beyond 3 IQR.
struct Outliers {
  size_t n = 0, low_severe = 0, low_mild = 0, high_mild = 0, high_severe = 0;
  double q1 = 0, q3 = 0;
  size_t mild() const { return low_mild + high_mild; }
  size_t severe() const { return low_severe + high_severe; }
  nlohmann::json to_json() const;
};
Outliers tukey_outliers(std::vector<double> v);
double quantile_linear(const std::vector<double>& sorted, double q);

// The host's speed during a set from its repetitions' reference-loop medians (ns), against the
// run's median over every set's repetitions: + means the host ran slower during this set.
// NaN where either is missing.
double host_slowdown(const std::vector<double>& set_ref_ns, const std::vector<double>& run_ref_ns);

}  // namespace swapbench
