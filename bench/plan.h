// From what the user asked (RunOptions) and a suite to a typed, validated Plan, and from a Plan and
// what the borrowed machine offers to the list of sets. Every bad input is caught by make_plan()
// before anything on the machine changes; the one input that can only be judged by asking the
// kernel (an explicit --compressor it refuses) is caught by expand(), still before any set runs.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/options.h"
#include "bench/results.h"
#include "bench/suites.h"
#include "bench/writeback.h"

namespace swapbench {

// Bad input: exit 2, with the option, the value and what would be accepted.
struct BadInput : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// Facts about this machine the plan is checked against, read once (tests pass their own).
struct MachineFacts {
  bool root = false;
  uint64_t mem_available = 0;  // bytes
  std::vector<int> cpus;       // OS indexes of usable CPUs
  std::string results_dir;     // where a result goes when --out is not given
  std::string host, release, utc;  // name the default result: <host>-<release>[-<suite>]-<utc>.json
};
MachineFacts read_machine_facts();

struct Plan {
  const SuiteDef* suite = nullptr;
  size_t pages = 0;
  int repetitions = 0;
  std::vector<Backend> backends;
  // Asked for by name, for every backend that compresses (zswap, zram); empty: every one the kernel
  // accepts (zswap) or the zram device offers.
  std::vector<std::string> compressors;
  std::vector<ProfileSpec> profiles;
  std::vector<Pattern> patterns;
  bool write_faults = false;
  bool floors = true;
  std::optional<int> cpu;      // unset: the last CPU (with threads: thread 0's, bench/threads.h)
  int threads = 1;             // of the kinds that take them (KindInfo::threads); pages are split over them
  std::vector<std::string> events;
  uint64_t inject_ns = 0;      // added to every timed fault (on top of a calibration arm's)
  double duration_s = 10;      // the race's time budget
  // The standard workloads (usemem, swap-w). 2 workers: this VM's CPU count, and the issue's
  // figure (2 workers in a cgroup at half their size). 128 MiB each: large enough that the pages
  // pushed out dwarf what else swaps, small enough that 5 repetitions on two backends fit in 3
  // minutes here. 2 loops: the second faults back what the first pushed out, so usemem's figure
  // holds both directions (swap-w writes once, as vm-scalability's does).
  unsigned workers = 2;
  uint64_t worker_bytes = 128ull << 20;
  unsigned loops = 2;
  std::string swap_dir;         // "": kDefaultSwapDir (workloads/system/swap_area.h)
  std::string swap_device;
  bool swap_device_wipe = false;  // --swap-device-wipe: what is on the device is destroyed
  uint64_t swap_bytes = 0;     // the swap area the run needs
  bool swap_exact = false;     // the area is exactly swap_bytes, even on a larger device (SuiteDef::swap_slack_pages)
  std::string out;             // resolved result path
  std::shared_ptr<HeldOutput> out_held;  // a FIFO given as --out, open since the plan was made
  std::string filter;          // a regular expression the sets' names must match ("": all)
  std::optional<WritebackMech> race_mechanism;  // unset: the first usable one
  bool thp = false;
  // Google Benchmark's random interleaving spreads drift over the sets of a timed run; a counted run
  // wants the opposite: the same order in every boot, so zswap's pool holds the same pages when
  // each set starts and per-call counts repeat.
  bool fixed_order = false;
  bool root = false;
  long test_corrupt_page = -1, test_stale_page = -1;
  std::string command_line;
  bool has(Backend b) const;
  // Some backend of the run swaps to the run's swap file (or --swap-device): BackendInfo::swap_file.
  bool needs_swap_file() const;
};

// Throws BadInput naming the option and what would be accepted. Checks nothing that needs a
// change to the machine; the swap place and the result path are checked read-only (not for
// `list`, which writes and borrows nothing).
Plan make_plan(const RunOptions& o, const MachineFacts& m, bool for_list = false);

// The swap area a run of `pages` pages needs: the region, and room for whatever else swaps meanwhile.
uint64_t swap_bytes_for(size_t pages);

// A problem with a result path, found before the run (nullopt: writable). A FIFO must have a reader
// now; with hold, its write end is kept open there (see HeldOutput).
std::optional<std::string> output_path_problem(const std::string& path, std::shared_ptr<HeldOutput>* hold = nullptr);

// What the borrowed machine offers (filled after borrowing; `list` uses listing()).
// What the borrowed kernel offers for one backend; the backend's probe() fills it.
struct BackendCaps {
  bool available = false;
  std::string reason;                          // why not, with the fix
  std::vector<std::string> compressors;        // those it takes, in the order its sets run
  std::map<std::string, std::string> refused;  // why the kernel refused others, where it says
};

struct Capabilities {
  bool root = false;
  std::map<Backend, BackendCaps> backends;          // every registered backend, once probed
  bool memcg = false;
  std::string memcg_reason;                         // why there is none
  std::vector<WritebackMechanism> writeback;        // every mechanism, usable or not (with why)
  bool listing = false;  // nothing asked of the kernel yet: compressors and mechanisms unresolved
  static Capabilities for_listing(bool root);
  const BackendCaps& of(Backend b) const;  // one not probed: not available, no reason
};

struct Skip {
  std::string benchmark, reason, fix;
};

struct Expansion {
  std::vector<Scenario> sets;
  std::vector<Skip> skipped;
};

// The sets, in the order results list them. Throws BadInput when a compressor asked for by name is
// refused by every compressing backend of the run (naming the ones each accepts; refused by one
// only, that backend's sets are skipped with why), or when --filter leaves no set.
Expansion expand(const Plan& p, const Capabilities& c);

}  // namespace swapbench
