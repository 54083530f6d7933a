// The sampler's command line, declared once: swapbench-capacity parses it, and `swapbench list
// --json` describes it (options.capacity), so the Python verb that runs the sampler takes the
// help and defaults of the options it passes through from there instead of typing them again.
#pragma once
#include <CLI/CLI.hpp>

#include <string>

#include "bench/capacity/capacity.h"
#include "bench/capacity/capacity_validate.h"

namespace swapbench {

// What the command line asked for, before it is checked.
struct CapacityArgs {
  CapacityOptions o;
  ValidateOptions vo;
  std::string pids, validate;
  bool all = false;
};

void add_capacity_options(CLI::App& app, CapacityArgs& a);

}  // namespace swapbench
