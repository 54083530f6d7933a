// The zswap writeback race, provoked on purpose, with a stale-data detector.
//
// One thread keeps zswap writing entries back (through the hooks the runner gives it: the system
// layer does the writing), while this thread takes random pages of the region, a few at a time,
// through a cycle that frees and reuses swap slots: fault the pages in and check their stamps, drop
// them (MADV_DONTNEED frees the slots), write a new generation, push them out again (new stores into
// recycled slots: the run's swap area has only a few spare slots, SuiteDef::swap_slack_pages).
// A kernel without the writeback recheck can write an old entry's data into a reused slot; the
// page then comes back with an older generation, which the detector reports with the page, the
// generations and the time. Zero stale pages is the expected outcome on a fixed kernel.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "workloads/pages/page_profile.h"
#include "workloads/pages/stamp.h"

namespace swapbench {

struct StaleReport {
  uint64_t page = 0, expected_generation = 0, found_generation = 0;
  double at_s = 0;
  StampFault fault = StampFault::NotAStamp;
  std::string what;  // the stamp check's verdict in words ("stale generation (older data)", ...)
  bool stale() const { return fault == StampFault::StaleGeneration; }
  std::string describe() const;
};

// The detector: nullopt when the page holds its own index, the expected generation and an intact
// body; otherwise what is wrong, stale data included.
std::optional<StaleReport> check_page(const uint8_t* page, uint64_t index, uint64_t expected_generation, double at_s);

struct RaceHooks {
  std::function<void()> pressure_on, pressure_off;  // start / stop forcing writeback
  std::function<uint64_t()> written_back;          // pages written back so far (machine-wide counter)
  std::function<void()> enter, leave;               // charge the region to the workload's cgroup
};

struct RaceConfig {
  size_t pages = 2048;
  double duration_s = 10;
  int fault_cpu = -1, writeback_cpu = -1;  // -1: leave the thread where it is
  uint64_t seed = 1;
  long test_stale_page = -1;  // tests only: this page is handed to the detector one generation old
};

struct RaceResult {
  uint64_t operations = 0;   // fault + check + free + refill + push out cycles
  uint64_t writebacks = 0;   // pages written back during the run
  uint64_t pressure_cycles = 0;
  uint64_t stale_pages = 0;  // older generation found (the bug the recheck fixes)
  uint64_t damaged_pages = 0;  // any other stamp failure
  uint64_t final_checked = 0;
  double seconds = 0;
  std::vector<StaleReport> first;  // the first few failures, stale or damaged
  std::string error;
};

RaceResult run_race(const RaceConfig& cfg, const PageProfile& prof, RaceHooks& hooks);

}  // namespace swapbench
