// Read-only checks of where a run's swap area would go, made before anything changes, so a bad
// --swap-dir or --swap-device is bad input (exit 2) rather than a failure halfway through borrowing.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace swapbench {

// Why `dir` cannot hold a swap file of `bytes` (nullopt: it can).
std::optional<std::string> swap_dir_problem(const std::string& dir, uint64_t bytes);
// Why `dev` cannot be the run's swap area of at least `bytes` (nullopt: it can).
std::optional<std::string> swap_device_problem(const std::string& dev, uint64_t bytes);

}  // namespace swapbench
