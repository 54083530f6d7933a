// Page-interleaved arms: arms of one set that differ only in what the process controls (today the
// injected delay) are timed in ONE loop over one region, page by page, so every arm sees the same
// host speed within microseconds; the host's drift over seconds (56% of the per-repetition variance
// on a 2-vCPU cloud VM) then moves every arm alike and cancels in their ratio.
//
// Pure logic here (the assignment of visits to arms, the per-arm figures and the paired statistic);
// the timed loop that uses it is PageSet::time_faults (bench/kinds/page_set.cpp).
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "bench/suites.h"
#include "workloads/measure/histogram.h"

namespace swapbench {

// Which arm each visit of the timed loop belongs to. Blocked randomisation: visits 0..n-1 hold
// every arm once, visits n..2n-1 again, and so on, each block in an order shuffled on its own (a
// last, partial block takes the first visits % n arms of its shuffle). So the arms are balanced
// (counts differ by at most one), spread evenly over the loop's time (drift within a repetition
// reaches each arm alike), and no arm always follows another (an effect that spills into the next
// fault - a cache or TLB left warm - is spread over every arm instead of charged to one).
// Deterministic per seed: the same set and repetition get the same assignment on every machine
// (its own splitmix64 stream and Fisher-Yates, not std::shuffle, whose algorithm the standard leaves open).
std::vector<uint8_t> assign_arms(size_t visits, size_t arms, uint64_t seed);

// At most this many arms in one set: an arm index is a byte, and every arm needs pages enough for
// a stable per-repetition median.
constexpr size_t kMaxArms = 16;

// Per arm, its samples' summary; per arm other than the base (arm 0), the paired statistic of this
// repetition: the ratio of its per-page median to the base arm's (and the difference in ns).
// `samples` in visit order, `assignment` from assign_arms (only its first samples.size() used).
struct ArmFigures {
  CalibrationArm arm;
  LatencySummary lat;
};
struct InterleavedFigures {
  std::vector<ArmFigures> arms;
  std::vector<uint64_t> base_samples;  // arm 0's samples: the set's own latency_ns and histogram
  nlohmann::json to_json(uint64_t seed, uint64_t extra_inject_ns) const;
};
InterleavedFigures interleaved_figures(const std::vector<CalibrationArm>& arms, const std::vector<uint64_t>& samples,
                                       const std::vector<uint8_t>& assignment);

}  // namespace swapbench
