// Environment variables that name a program or a folder, as a run as root may take them: the C++
// side of analysis/environment.py (the same rule, for the variables this binary reads). README.md
// "Environment variables" lists every variable and how each is treated.
#pragma once
#include <string>
#include <vector>

namespace swapbench {

enum class PathKind { program, folder };

// "" when root alone can change `path` and every folder above it (owned by root, writable by
// neither group nor others; a root-owned sticky folder such as /tmp may be above it but not hold it
// directly); else why not. Links are resolved first and each component is opened without following
// links, so what is checked is what is used. A path that does not exist yet is judged by the part
// that exists, unless others could create it first.
std::string untrusted_reason(const std::string& path, PathKind kind);

// For a run as root: the first variable naming a folder the run writes into that fails
// untrusted_reason, as a message naming it and the fix; "" when none does. SWAPBENCH_RESULTS_DIR
// always; the option twins SWAPBENCH_OUT (its folder) and SWAPBENCH_SWAP_DIR unless `argv` gives
// the option itself (the command line wins over the twin, as in CLI11).
std::string root_environment_problem(const std::vector<std::string>& argv);

}  // namespace swapbench
