// `swapbench run` and `swapbench list`.
#pragma once
#include <nlohmann/json.hpp>

#include "bench/options.h"
#include "bench/plan.h"

namespace swapbench {

// Returns the process exit status: 0 ok, 1 a hard failure (stamp mismatch, error), 2 bad input.
int run_command(const RunOptions& o);
int list_command(const RunOptions& o);
// Writes the result to p.out; when that fails, to the results folder under an "unsaved" name, so
// nothing measured is lost. 0: written where asked.
int write_result(const Plan& p, const MachineFacts& m, const nlohmann::json& doc);
// The exit status, made 1 when the summary could not be written to stdout.
int check_stdout(int status);

}  // namespace swapbench
