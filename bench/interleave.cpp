#include "bench/interleave.h"

#include <numeric>
#include <stdexcept>
#include <string>

namespace swapbench {

namespace {
uint64_t splitmix64(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
}  // namespace

std::vector<uint8_t> assign_arms(size_t visits, size_t arms, uint64_t seed) {
  if (arms == 0 || arms > kMaxArms)
    throw std::invalid_argument("interleaved arms: " + std::to_string(arms) + " asked; 1 to " +
                                std::to_string(kMaxArms) + " accepted");
  std::vector<uint8_t> out;
  out.reserve(visits);
  std::vector<uint8_t> block(arms);
  uint64_t s = seed;
  while (out.size() < visits) {
    std::iota(block.begin(), block.end(), uint8_t{0});
    for (size_t i = arms - 1; i > 0; --i) {
      // Lemire's multiply-shift: an unbiased-enough index for i + 1 <= 16 choices (bias < 2^-59).
      const size_t j = static_cast<size_t>((static_cast<unsigned __int128>(splitmix64(s)) * (i + 1)) >> 64);
      std::swap(block[i], block[j]);
    }
    for (size_t i = 0; i < arms && out.size() < visits; ++i) out.push_back(block[i]);
  }
  return out;
}

InterleavedFigures interleaved_figures(const std::vector<CalibrationArm>& arms, const std::vector<uint64_t>& samples,
                                       const std::vector<uint8_t>& assignment) {
  if (assignment.size() < samples.size())
    throw std::invalid_argument("interleaved figures: fewer arm assignments than samples");
  std::vector<std::vector<uint64_t>> per(arms.size());
  for (auto& v : per) v.reserve(samples.size() / arms.size() + 1);
  for (size_t k = 0; k < samples.size(); ++k) per.at(assignment[k]).push_back(samples[k]);
  InterleavedFigures f;
  for (size_t a = 0; a < arms.size(); ++a) f.arms.push_back({arms[a], summarize(per[a])});
  f.base_samples = std::move(per[0]);
  return f;
}

nlohmann::json InterleavedFigures::to_json(uint64_t seed, uint64_t extra_inject_ns) const {
  nlohmann::json a = nlohmann::json::array(), paired = nlohmann::json::array();
  const double base = arms.empty() ? 0 : arms[0].lat.p50;
  for (const auto& x : arms) {
    a.push_back({{"label", x.arm.label}, {"inject_ns", x.arm.inject_ns + extra_inject_ns}, {"pages", x.lat.count},
                 {"write_fault", x.arm.write_fault}, {"latency_ns", x.lat.to_json()}});
    if (&x == &arms[0]) continue;
    const bool ok = base > 0 && x.lat.count > 0;
    paired.push_back({{"label", x.arm.label}, {"inject_ns", x.arm.inject_ns + extra_inject_ns},
                      {"p50_ratio", ok ? nlohmann::json(x.lat.p50 / base) : nlohmann::json(nullptr)},
                      {"p50_diff_ns", ok ? nlohmann::json(x.lat.p50 - base) : nlohmann::json(nullptr)}});
  }
  return {{"base", arms.empty() ? "" : arms[0].arm.label},
          {"arms", a},
          {"paired", paired},
          {"paired_statistic", "per arm, this repetition's per-page p50 over the base arm's (nearest rank), and "
                               "their difference in ns"},
          {"assignment", {{"method", "blocked: each run of N consecutive visits holds every one of the N arms once, "
                                     "in an order shuffled per block (splitmix64 + Fisher-Yates)"},
                          {"seed", seed}}},
          {"proof", "per set: the counter deltas cover the one loop in which every arm's pages were faulted, so "
                    "a valid set means every page of every arm took the path"},
          {"set_figures", "the set's latency_ns, histogram, real_time and iterations are the base arm's"}};
}

}  // namespace swapbench
