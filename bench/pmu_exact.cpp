#include "bench/pmu_exact.h"

#include <algorithm>

namespace swapbench {

namespace {

std::vector<double> per_fault(const std::vector<const SetRecord*>& reps, const char* event) {
  std::vector<double> v;
  for (const auto* r : reps) {
    if (!r->valid || !r->sb.contains("pmu")) continue;
    const auto& p = r->sb["pmu"];
    if (p.contains(event) && p[event].is_number()) v.push_back(p[event].get<double>());
  }
  return v;
}

json summary(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  const double median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  double sum = 0;
  for (double x : v) sum += x;
  return {{"median", median}, {"min", v.front()}, {"mean", sum / static_cast<double>(n)}};
}

}  // namespace

std::optional<json> pmu_exact_block(const std::vector<const SetRecord*>& reps, const std::string& cpu_model,
                                    const std::string& accelerator) {
  const std::vector<double> k = per_fault(reps, "instructions:k"), u = per_fault(reps, "instructions:u");
  if (k.empty()) return std::nullopt;
  json b = {{"schema", 1}, {"source", "pmu (libpfm4 instructions:k, instructions:u)"},
            {"qemu_version", nullptr}, {"cpu_model", cpu_model}, {"icount", nullptr},
            {"accelerator", accelerator}, {"repetitions", k.size()},
            {"ops_per_repetition", reps.front()->sc.pages}, {"kernel_instructions_per_op", summary(k)},
            {"functions", json::object()},
            {"spread", {{"kernel_median_per_op", *std::max_element(k.begin(), k.end()) - *std::min_element(k.begin(), k.end())}}},
            {"note", "a hardware counter over the whole timed loop divided by its faults: kernel instructions per "
                     "fault include interrupts that landed meanwhile; no per-function figures"}};
  if (!u.empty()) {
    b["user_instructions_per_op"] = summary(u);
    b["spread"]["user_median_per_op"] = *std::max_element(u.begin(), u.end()) - *std::min_element(u.begin(), u.end());
  }
  return b;
}

}  // namespace swapbench
