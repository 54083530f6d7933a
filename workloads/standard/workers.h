// The standard workloads' engine (usemem, swap-w in the vm-scalability sense): N worker processes,
// each writing every page of its own anonymous region, L times, in sequential or random order, and
// then checking every page's content. Processes, not threads: each has its own mm, as usemem's
// default mode does, so the figures are those the mm list quotes; rusage is then per worker.
// The caller enters the workload's cgroup before run_workers() and leaves it in after_fork (the
// workers stay in it), and reads the kernel's counters in at_peak, when every worker still holds
// its pages.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "workloads/pages/page_profile.h"
#include "workloads/pages/region.h"

namespace swapbench {

struct WorkersSpec {
  unsigned workers = 1;
  uint64_t worker_bytes = 0;  // rounded down to whole pages
  unsigned loops = 1;
  Pattern pattern = Pattern::Sequential;  // Random: every page once per loop, in a shuffled order
  const PageProfile* profile = nullptr;
  uint64_t generation = 1;  // loop l writes generation + l, so a page left from an earlier loop is caught
};

struct WorkerResult {
  double elapsed_s = 0;  // the worker's write loops
  double user_s = 0, sys_s = 0;  // its rusage over the same loops
  uint64_t bytes_written = 0;
  uint64_t pages_checked = 0, pages_bad = 0;
  std::string first_failure;  // the first bad page: address, expected and found
  double throughput() const { return elapsed_s > 0 ? static_cast<double>(bytes_written) / elapsed_s : 0; }
};

struct WorkersRun {
  double real_s = 0;  // from the first fork to the last worker's end of its loops
  std::vector<WorkerResult> workers;
  std::string error;  // a worker that could not map its memory, died or was killed ("": none)
  double user_s() const;
  double sys_s() const;
  uint64_t bytes_written() const;
  uint64_t pages_bad() const;
  double throughput() const { return real_s > 0 ? static_cast<double>(bytes_written()) / real_s : 0; }
};

// Runs the workers to completion. after_fork runs once every worker is forked; at_peak once every
// worker has reported (its pages written and checked, still mapped); the workers exit after it.
WorkersRun run_workers(const WorkersSpec& spec, const std::function<void()>& after_fork,
                       const std::function<void()>& at_peak);

}  // namespace swapbench
