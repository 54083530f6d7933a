// What the user asked for, as the command line (or an environment twin) gave it. Numbers stay text
// here: make_plan() turns them into a typed, validated Plan in one place, so "-1", "nan" or "0"
// get an error naming the option instead of wrapping around or silently meaning "the default".
#pragma once
#include <string>
#include <vector>

namespace swapbench {

struct RunOptions {
  std::string suite = "quick";
  std::vector<std::string> backends, compressors, profiles, patterns;  // empty: the suite's
  std::string pages, cpu, repetitions, inject_ns, duration_s;          // empty: not given
  std::string threads;                                                 // empty: 1
  std::string fault;                                                   // empty: read
  std::string workers, worker_bytes, loops;  // the standard workloads' size; empty: not given
  // cycles and instructions, kernel and user apart: a fault's cost is kernel work, the harness's
  // own is user work, and mixing them would hide which one moved.
  std::vector<std::string> events = {"cycles:k", "instructions:k", "cycles:u", "instructions:u"};
  bool events_given = false;
  std::string out;          // "": results/<host>-<kernel>-<UTC>.json
  std::string swap_dir;     // "": kDefaultSwapDir, root's own folder
  std::string swap_device;  // "": a swap file under swap_dir; else this blank block device gets a swap header (guests)
  bool swap_device_wipe = false;  // the device may hold something: it is destroyed
  std::string filter;       // "": every set of the suite
  std::string race_mechanism;  // "": the first writeback mechanism the kernel offers
  bool thp = false;
  bool no_floors = false;
  bool fixed_order = false;  // sets in declared order, repetitions back to back (counted guests)
  long test_corrupt_page = -1;  // tests only: flip a byte of this page after swap-in, before the check
  long test_stale_page = -1;    // tests only: the race hands this page to the detector one generation old
  std::string command_line;
};

}  // namespace swapbench
