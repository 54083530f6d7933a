// The table a run ends with: per set, the median over valid repetitions of each repetition's p50
// and p99, how many repetitions were valid, and why the others were not.
#pragma once
#include <vector>

#include "bench/plan.h"
#include "bench/set_runner.h"

namespace swapbench {

// Per set, over its valid repetitions: Tukey outliers of the per-repetition p50 (bench/outliers.h
// says why those) and the host's speed against the run's median (context.swapbench.set_noise).
nlohmann::json set_noise(const std::vector<Scenario>& scs, const std::vector<SetRecord>& recs);

void print_summary(const std::vector<Scenario>& scs, const std::vector<SetRecord>& recs, const std::vector<Skip>& skipped);

}  // namespace swapbench
