// Turning an option's text into a number, or BadInput naming the option and what is accepted; and
// the standard workloads' sizes (--workers, --worker-bytes, --loops). Internal to bench/.
#pragma once
#include <cstdint>
#include <string>

#include "bench/options.h"
#include "bench/plan.h"

namespace swapbench {

// A whole number within [lo, hi], or BadInput naming the option: "-1" for a count must not wrap
// around to 18446744073709551615, and "0" must not quietly mean "the suite's".
long long parse_whole(const std::string& opt, const std::string& text, long long lo, long long hi);
double parse_seconds(const std::string& opt, const std::string& text, double lo, double hi);
// Bytes, with an optional binary suffix: "67108864", "64M", "64MiB", "1G" (K, M, G: powers of 1024).
uint64_t parse_bytes(const std::string& opt, const std::string& text, uint64_t lo, uint64_t hi);
// A standard workload suite's size: workers, bytes per worker, loops, and the pages they total
// (which size the swap area). --pages does not apply: refused, naming what does.
void parse_workload(const RunOptions& o, Plan& p);

}  // namespace swapbench
