// `swapbench run`: turns options into scenarios, borrows the system state they need, runs them as
// Google Benchmark benchmarks (repetitions interleaved), and writes the result.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace swapbench {

struct RunOptions {
  std::string suite = "quick";
  std::vector<std::string> backends, compressors, profiles, patterns;  // empty: the suite's
  size_t pages = 0;                                                     // 0: the suite's
  int cpu = -1;                                                         // -1: the last CPU
  // cycles and instructions, kernel and user apart: a fault's cost is kernel work, the harness's
  // own is user work, and mixing them would hide which one moved.
  std::vector<std::string> events = {"cycles:k", "instructions:k", "cycles:u", "instructions:u"};
  int repetitions = 0;  // 0: the suite's
  std::string out;      // "": results/<host>-<kernel>-<UTC>.json
  std::string fault = "read";
  uint64_t inject_ns = 0;
  std::string swap_dir = "/var/tmp";
  std::string swap_device;  // "": a swap file under swap_dir; else this block device is mkswap'd (guests)
  bool thp = false;
  bool floors = true;
  long test_corrupt_page = -1;  // tests only: flip a byte of this page after swap-in, before the check
  long test_stale_page = -1;    // tests only: the race hands this page to the detector one generation old
  // The race's time budget: long enough for thousands of free/reuse cycles under writeback, short
  // enough for a suite run.
  double duration_s = 10;
  std::string command_line;
};

// Returns the process exit status: 0 ok, 1 a hard failure (stamp mismatch, error), 2 bad input.
int run_command(const RunOptions& o);
int list_command(const RunOptions& o);

}  // namespace swapbench
