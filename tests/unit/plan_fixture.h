// A machine and a plan's refusal as the plan tests see them: 2 CPUs, 8 GiB available, results in
// the test's temporary folder. Listing plans (for_list) check no swap place or result path.
#pragma once
#include <gtest/gtest.h>

#include <string>

#include "bench/plan.h"

namespace swapbench::testing_plan {

inline MachineFacts facts(bool root) {
  return {.root = root, .mem_available = 8ull << 30, .cpus = {0, 1}, .results_dir = ::testing::TempDir(),
          .host = "host", .release = "6.18.0", .utc = "20261208T000000Z"};
}

// The BadInput's message, or "" when the plan was accepted.
inline std::string refusal(const RunOptions& o, bool root = true, bool for_list = true) {
  try {
    make_plan(o, facts(root), for_list);
    return "";
  } catch (const BadInput& e) {
    return e.what();
  }
}

}  // namespace swapbench::testing_plan
