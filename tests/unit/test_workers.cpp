// The workload engine without a cgroup: workers write and check every page, report their times,
// and hold their pages until the peak's readings are taken.
#include <gtest/gtest.h>

#include "workloads/standard/workers.h"

using namespace swapbench;

TEST(Workers, EveryWorkerWritesAndChecksEveryPage) {
  PageProfile prof(ProfileSpec{ProfileKind::Ratio, 2.0, ""});
  WorkersSpec spec{.workers = 2, .worker_bytes = (1u << 20) + 100, .loops = 2, .pattern = Pattern::Random,
                   .profile = &prof, .generation = 7};
  int forked = 0, peaks = 0;
  WorkersRun r = run_workers(spec, [&] { ++forked; }, [&] { ++peaks; });
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(forked, 1);
  EXPECT_EQ(peaks, 1);
  ASSERT_EQ(r.workers.size(), 2u);
  for (const auto& w : r.workers) {
    EXPECT_EQ(w.pages_checked, 256u);  // the odd 100 bytes are not a page
    EXPECT_EQ(w.pages_bad, 0u) << w.first_failure;
    EXPECT_EQ(w.bytes_written, 2u * (1u << 20));
    EXPECT_GT(w.elapsed_s, 0);
  }
  EXPECT_GT(r.real_s, 0);
  EXPECT_EQ(r.bytes_written(), 4u * (1u << 20));
  EXPECT_GT(r.throughput(), 0);
}

TEST(Workers, AWorkerThatCannotMapItsMemoryIsAnError) {
  PageProfile prof(ProfileSpec{ProfileKind::Ratio, 2.0, ""});
  // More than any address space holds: mmap fails in the worker, which says so.
  WorkersSpec spec{.workers = 1, .worker_bytes = 1ull << 62, .loops = 1, .profile = &prof};
  int peaks = 0;
  WorkersRun r = run_workers(spec, [] {}, [&] { ++peaks; });
  EXPECT_NE(r.error.find("mmap failed"), std::string::npos) << r.error;
  EXPECT_EQ(peaks, 0);
}
