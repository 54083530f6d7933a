#include "bench/outliers.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace swapbench {

double quantile_linear(const std::vector<double>& s, double q) {
  if (s.empty()) return std::numeric_limits<double>::quiet_NaN();
  const double pos = q * static_cast<double>(s.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, s.size() - 1);
  return s[lo] + (s[hi] - s[lo]) * (pos - static_cast<double>(lo));
}

Outliers tukey_outliers(std::vector<double> v) {
  Outliers o;
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return std::isnan(x); }), v.end());
  o.n = v.size();
  if (v.size() < 4) return o;  // quartiles of fewer than 4 values fence nothing meaningful
  std::sort(v.begin(), v.end());
  o.q1 = quantile_linear(v, 0.25);
  o.q3 = quantile_linear(v, 0.75);
  const double iqr = o.q3 - o.q1;
  for (double x : v) {
    if (x < o.q1 - 3 * iqr) ++o.low_severe;
    else if (x < o.q1 - 1.5 * iqr) ++o.low_mild;
    else if (x > o.q3 + 3 * iqr) ++o.high_severe;
    else if (x > o.q3 + 1.5 * iqr) ++o.high_mild;
  }
  return o;
}

nlohmann::json Outliers::to_json() const {
  const double iqr = q3 - q1;
  return {{"n", n}, {"mild", mild()}, {"severe", severe()}, {"low_mild", low_mild}, {"low_severe", low_severe},
          {"high_mild", high_mild}, {"high_severe", high_severe},
          {"fences", n >= 4 ? nlohmann::json{q1 - 3 * iqr, q1 - 1.5 * iqr, q3 + 1.5 * iqr, q3 + 3 * iqr}
                            : nlohmann::json(nullptr)}};
}

static double median_of(std::vector<double> v) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return std::isnan(x) || x <= 0; }), v.end());
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(v.begin(), v.end());
  return quantile_linear(v, 0.5);
}

double host_slowdown(const std::vector<double>& set_ref_ns, const std::vector<double>& run_ref_ns) {
  return median_of(set_ref_ns) / median_of(run_ref_ns) - 1.0;
}

}  // namespace swapbench
