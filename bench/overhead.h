// What the harness itself costs per sample, and what each injected delay really adds: the floor
// under every timed figure, recorded with the result.
#pragma once
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/suites.h"
#include "workloads/measure/timer.h"

namespace swapbench {

// The timed loop's body on a page that is already mapped: what every sample costs besides the fault.
TimerOverhead harness_overhead();
// What each injected delay adds to a sample (the timed body on a resident page with and without
// the busy-wait, p50 against p50). Calibration reports these, not the requested figures.
nlohmann::json inject_check(const std::vector<Scenario>& scs, uint64_t extra_ns);
nlohmann::json to_json(const TimerOverhead& t);
// Which clock times the samples, why that one, and its frequency (context.swapbench.timer.sample_timer).
nlohmann::json to_json(const SampleTimer& t);

}  // namespace swapbench
