// What the kinds that time one page per iteration share (swap-in, swap-out, the floors, writeback):
// the region and its stamped content, the visit order with page-interleaved arms, the fault loop,
// and the check of every page. A kind of that shape derives from PageSet and keeps only its own
// decisions in its file.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "bench/kind.h"
#include "bench/set_runner.h"
#include "bench/threads.h"
#include "workloads/measure/host_ref.h"

namespace swapbench {

class PageSet : public SetPhases {
 public:
  // The interleaved arms' figures, when the set has them (the base arm's become the set's).
  void record(SetRun& run) override;

 protected:
  // The set's content, generation, sample buffer and visit order (with each visit's arm).
  void start(SetRun& run);
  // A region of the set's pages, filled inside the cgroup (tagged first on the mte suite), with its
  // measured compressibility. Throws.
  void fill_region(SetRun& run);
  // start() and fill_region(), a failure recorded as the set's error; false then.
  bool start_filled(SetRun& run);
  // Every page pushed out; the mte suite's sets record the slab and vmstat readings around it.
  void push_out(SetRun& run);
  // One timed fault per iteration, in visit order; the host probe between faults, outside the counts.
  // With threads, time_threads() of the same fault.
  void time_faults(SetRun& run, benchmark::State& st, bool write, uint8_t byte);
  // One timed operation on one page: its ns in `ns`, errno or 0.
  using PageOp = std::function<int(size_t page, uint64_t& ns)>;
  // A set with --threads N (bench/threads.h), as one Google Benchmark iteration: every thread
  // times `op` on each page of its own slice of the region (in the set's pattern, seeded per
  // thread, when `in_pattern`; else in address order); the set's samples are every thread's, and
  // its result block gains "threads". An op's errno fails the set as "thread i: <failed> ...".
  void time_threads(SetRun& run, benchmark::State& st, bool in_pattern, const char* failed, const PageOp& op);
  // Every kHostRefEvery iterations: the host-drift probe, with the counters paused around it.
  void sample_host(SetRun& run, std::vector<double>& host_ref);
  // The region's footprint in its backend's own device (zram's), and the device with the region stored.
  void record_device(SetRun& run, const Stats& pre, const Stats& stored);
  // Every page's stamp (faulting swapped-out pages back in, untimed), then every granule's tag;
  // a threaded set's wrong pages counted per thread.
  void check_pages(SetRun& run);

  const PageProfile* prof_ = nullptr;
  uint64_t gen_ = 0;
  std::unique_ptr<Region> r_;
  std::vector<uint32_t> order_;
  Stats device_pre_;  // the device before the region is pushed out: what the region adds is its footprint

 private:
  void stamps_per_thread(SetRun& run);
  uint64_t arm_seed_ = 0;
  std::vector<uint8_t> arm_of_, write_at_;
  std::vector<uint64_t> inject_at_;
};

}  // namespace swapbench
