// Several threads in one timed set (the swap-in, swap-out and writeback kinds, --threads N): how
// the set's pages are split, how the threads are started together and always joined, and what
// the result holds per thread and over all of them. The pure parts (split, figures) are apart
// from the threads so unit tests reach them.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "workloads/cpu/pinning.h"

namespace swapbench {

struct SuiteDef;
struct RunOptions;

// Past this many threads a set times the scheduler more than the swap path on the machines the
// suite is for (a few to a few dozen CPUs per swap device); raise it for a larger one.
inline constexpr int kMaxThreads = 64;
// KindInfo::options of each kind with KindInfo::threads: --threads > 1 applies only to a suite
// holding one of them.
inline const std::pair<std::string, std::string> kThreadsOption = {
    "--threads", "> 1 runs several threads only in swap-in, swap-out and writeback sets; suite {suite} has none"};

// --threads as given, 1 when not. Throws BadInput (bench/plan.h) for a non-number, 0, a negative
// or more than kMaxThreads.
int threads_asked(const RunOptions& o);
// --threads as the Plan takes it: threads_asked(), and BadInput for more threads than pages, a
// suite whose sets are timed in one loop by their nature (page-interleaved arms, known work), and
// explicit --events with more than one thread.
int parse_threads(const RunOptions& o, const SuiteDef& s, size_t pages);

// --pages is the set's total, split over its threads: memory use, the swap area and the proof's
// totals stay those of the same --pages on one thread, so only the concurrency differs.
struct Slice {
  size_t first = 0, pages = 0;  // thread t faults pages [first, first + pages) of the set's region
};
// Contiguous slices, the first `pages % threads` one page larger. threads >= 1.
std::vector<Slice> split_pages(size_t pages, int threads);

// One thread's timed work as it ran.
struct ThreadRun {
  int index = 0;
  Slice slice;
  std::vector<uint64_t> samples;  // ns per page, in its visit order; done = samples.size()
  uint64_t start_ns = 0, end_ns = 0;  // CLOCK_MONOTONIC around its loop (comparable across threads)
  Binding binding;
  std::string error;  // "": it did all its pages
};

// The figures of a threaded set: each thread's and the aggregate (total pages over the span from
// the first start to the last end, latencies merged). Pure.
nlohmann::json thread_figures(const std::vector<ThreadRun>& runs, const Placement& where);
// The first failed thread's error, prefixed with its index ("" when none failed).
std::string thread_failure(const std::vector<ThreadRun>& runs);

// Runs body(run) on one thread per slice, each pinned to its placed CPU; all start together
// after every thread has been created and pinned, and all are joined before it returns, whatever
// failed. A thread that could not be created fails the set without any thread starting its loop.
using ThreadBody = std::function<void(ThreadRun&)>;
std::vector<ThreadRun> run_threads(const std::vector<Slice>& slices, const Placement& where, const ThreadBody& body);

}  // namespace swapbench
