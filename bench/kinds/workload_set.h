// What the standard workloads' kinds share (usemem, swap-w): worker processes in the run's memory
// cgroup under a limit below their total (workloads/standard/workers.h), timed whole, with the
// workload counters (workloads/measure/workload_counters.h) from before the fork to the peak, when
// every worker still holds its pages. Not a per-page timing: one Google Benchmark iteration is
// one whole workload, and its figures are real/user/sys time and throughput.
#pragma once
#include <string>

#include "bench/kind.h"
#include "bench/set_runner.h"
#include "workloads/measure/workload_counters.h"
#include "workloads/standard/workers.h"

namespace swapbench {

class WorkloadSet : public SetPhases {
 public:
  // limit_share: the cgroup's limit as a share of the workers' total bytes; loops: fixed (swap-w
  // writes once) or 0 for the plan's --loops.
  WorkloadSet(double limit_share, unsigned loops) : limit_share_(limit_share), loops_(loops) {}
  void prepare(SetRun& run) override;
  void time(SetRun& run, benchmark::State& st) override;
  void prove(SetRun& run) override;
  void record(SetRun& run) override;

 private:
  void limit(SetRun& run);
  void unlimit(SetRun& run);
  double limit_share_;
  unsigned loops_;
  WorkersSpec spec_;
  WorkersRun out_;
  WorkloadSnapshot before_, peak_;
  std::string limit_file_, unlimited_;
  uint64_t limit_bytes_ = 0;
  bool limited_ = false;
};

// What the workload kinds share beyond their phases: one Google Benchmark iteration is one whole
// workload (its time is the figure; the Runner's repetitions give the runs), and the summary shows
// mean ± stdev over the valid repetitions of real, user and sys time and of the total throughput,
// in place of the per-page p50/p99, which mean nothing here.
class WorkloadKind : public SetKind {
 public:
  using SetKind::SetKind;
  int64_t iterations(const Scenario&) const override { return 1; }
  std::string summary_over(const std::vector<const SetRecord*>& reps, bool& figures) const override;
};

// The options every workload kind takes, with the refusal for a suite without one.
std::vector<std::pair<std::string, std::string>> workload_options(bool loops);

}  // namespace swapbench
