// `swapbench run` and `swapbench list`.
#pragma once
#include "bench/options.h"
#include "bench/plan.h"

namespace swapbench {

// Returns the process exit status: 0 ok, 1 a hard failure (stamp mismatch, error), 2 bad input.
int run_command(const RunOptions& o);
int list_command(const RunOptions& o);

}  // namespace swapbench
