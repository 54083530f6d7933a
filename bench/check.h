#pragma once
#include <string>
#include <vector>

namespace swapbench {
// `swapbench check`: for each benchmark, can it run here, and if not, why and how to fix it.
int check_command(const std::vector<std::string>& events, const std::string& swap_dir);
}  // namespace swapbench
