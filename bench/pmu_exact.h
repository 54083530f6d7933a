// On a host with a hardware PMU, the exact metric's figure from libpfm4:
// instructions:k per fault under the same metric name as a counted guest's
// (swapbench.exact.kernel_instructions_per_op), with its source, so compare treats host and guest
// counts alike but never mixes the two (the source is one of the fields that must match).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/set_runner.h"

namespace swapbench {

// The set's exact block from its valid repetitions' instructions:k (and :u) per fault; nullopt
// where no repetition counted instructions:k (no PMU: this VM, TCG guests).
std::optional<nlohmann::json> pmu_exact_block(const std::vector<const SetRecord*>& reps, const std::string& cpu_model,
                                              const std::string& accelerator);

}  // namespace swapbench
