#include <gtest/gtest.h>

#include "bench/backend.h"
#include "workloads/proof/proof.h"

using namespace swapbench;

TEST(Proof, ZswapSwapinValidOnlyWhenEveryPageCameFromZswap) {
  EXPECT_TRUE(prove_swapin(backend_of(Backend::Zswap), 100, 0, {{"zswpin", 100}, {"pswpin", 0}}, false).valid);
  auto v = prove_swapin(backend_of(Backend::Zswap), 100, 0, {{"zswpin", 90}, {"pswpin", 10}}, false);
  EXPECT_FALSE(v.valid);
  EXPECT_NE(v.reason.find("zswpin delta 90, expected 100"), std::string::npos) << v.reason;
  EXPECT_NE(v.reason.find("pswpin delta 10, expected 0"), std::string::npos) << v.reason;
}

TEST(Proof, DiskSwapinWithPagesStillInTheSwapCacheIsInvalid) {
  auto v = prove_swapin(backend_of(Backend::Disk), 100, 100, {{"pswpin", 0}, {"zswpin", 0}}, false);
  EXPECT_FALSE(v.valid);
  EXPECT_NE(v.reason.find("resident"), std::string::npos) << v.reason;
  EXPECT_TRUE(prove_swapin(backend_of(Backend::Disk), 100, 0, {{"pswpin", 100}, {"zswpin", 0}}, false).valid);
}

TEST(Proof, MissingCounterIsNotSilentlyZero) {
  auto v = prove_swapin(backend_of(Backend::Zswap), 10, 0, {{"pswpin", 0}}, false);
  EXPECT_FALSE(v.valid);
  EXPECT_NE(v.reason.find("zswpin not in /proc/vmstat"), std::string::npos) << v.reason;
}

TEST(Proof, ZeroPagesTakeTheZeroPathWhereTheKernelHasIt) {
  auto v = prove_swapin(backend_of(Backend::Zswap), 10, 0, {{"swpin_zero", 10}, {"zswpin", 0}, {"pswpin", 0}}, true);
  EXPECT_TRUE(v.valid) << v.reason;
  EXPECT_EQ(v.path, "zero");
  // 6.1 has no swpin_zero: zero pages are judged like any other zswap page.
  EXPECT_TRUE(prove_swapin(backend_of(Backend::Zswap), 10, 0, {{"zswpin", 10}, {"pswpin", 0}}, true).valid);
}

TEST(Proof, Swapout) {
  EXPECT_TRUE(prove_swapout(backend_of(Backend::Zswap), 8, 0, {{"zswpout", 8}, {"pswpout", 0}}, false).valid);
  EXPECT_FALSE(prove_swapout(backend_of(Backend::Zswap), 8, 2, {{"zswpout", 8}, {"pswpout", 0}}, false).valid);
  EXPECT_TRUE(prove_swapout(backend_of(Backend::Disk), 8, 8, {{"zswpout", 0}, {"pswpout", 8}}, false).valid);
  EXPECT_FALSE(prove_swapout(backend_of(Backend::Disk), 8, 8, {{"zswpout", 8}, {"pswpout", 0}}, false).valid);
}

TEST(Proof, Floors) {
  EXPECT_TRUE(prove_swapcache_floor(5, 5, {{"pswpin", 0}, {"zswpin", 0}}).valid);
  EXPECT_FALSE(prove_swapcache_floor(5, 3, {{"pswpin", 0}, {"zswpin", 0}}).valid);
  EXPECT_FALSE(prove_swapcache_floor(5, 5, {{"pswpin", 2}, {"zswpin", 0}}).valid);
  EXPECT_TRUE(prove_firsttouch_floor(5, {{"pswpin", 0}, {"zswpin", 0}, {"pgfault", 5}}).valid);
  EXPECT_FALSE(prove_firsttouch_floor(5, {{"pswpin", 0}, {"zswpin", 0}, {"pgfault", 2}}).valid);
}

TEST(ProofWriteback, EveryWrittenBackPageFromDiskTheRestFromZswap) {
  swapbench::Stats d{{"pswpin", 600}, {"zswpin", 424}};
  auto v = swapbench::prove_writeback(1024, 600, 600, 0, d);
  EXPECT_TRUE(v.valid) << v.reason;
  EXPECT_EQ(v.path, "writeback");
}

TEST(ProofWriteback, NothingWrittenBackIsInvalid) {
  swapbench::Stats d{{"pswpin", 0}, {"zswpin", 1024}};
  auto v = swapbench::prove_writeback(1024, 0, 0, 0, d);
  EXPECT_FALSE(v.valid);
  EXPECT_NE(v.reason.find("no page was written back"), std::string::npos) << v.reason;
}

TEST(ProofWriteback, MorePagesFromDiskThanWrittenBackIsInvalid) {
  swapbench::Stats d{{"pswpin", 700}, {"zswpin", 324}};
  auto v = swapbench::prove_writeback(1024, 600, 600, 0, d);
  EXPECT_FALSE(v.valid);
  EXPECT_NE(v.reason.find("pswpin delta 700, expected 600"), std::string::npos) << v.reason;
}

TEST(ProofWriteback, SomeoneElsesWritebackAndSwapCacheLeftoversAreNamed) {
  swapbench::Stats d{{"pswpin", 1024}, {"zswpin", 0}};
  auto v = swapbench::prove_writeback(1024, 2000, 2000, 3, d);
  EXPECT_FALSE(v.valid);
  EXPECT_NE(v.reason.find("more than the region's 1024"), std::string::npos) << v.reason;
  EXPECT_NE(v.reason.find("3 pages were still in the swap cache"), std::string::npos) << v.reason;
}

TEST(ProofWriteback, MachineWideCounterSeparatesAnotherCgroupsWriteback) {
  // The pool limit's worker wrote back 2049 entries; 2048 of the region's pages came back from
  // disk (seen in CI: one entry of another cgroup went with them).
  swapbench::Stats d{{"pswpin", 2048}, {"zswpin", 0}};
  auto v = swapbench::prove_writeback(2048, 2049, 2049, 0, d, swapbench::WritebackScope::Machine);
  EXPECT_TRUE(v.valid) << v.reason;
  EXPECT_EQ(v.foreign_written_back, 1u);
  // Region scope: the same figures are a failure.
  v = swapbench::prove_writeback(2048, 2049, 2049, 0, d);
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(v.foreign_written_back, 0u);
  // 2047 of the region's pages plus one foreign entry: 2048 written back, 2047 from disk.
  d = {{"pswpin", 2047}, {"zswpin", 1}};
  v = swapbench::prove_writeback(2048, 2048, 2048, 0, d, swapbench::WritebackScope::Machine);
  EXPECT_TRUE(v.valid) << v.reason;
  EXPECT_EQ(v.foreign_written_back, 1u);
  // More pages from disk than were written back is never someone else's doing.
  d = {{"pswpin", 1500}, {"zswpin", 548}};
  v = swapbench::prove_writeback(2048, 1400, 1400, 0, d, swapbench::WritebackScope::Machine);
  EXPECT_FALSE(v.valid);
  EXPECT_NE(v.reason.find("pswpin delta 1500, expected 1400"), std::string::npos) << v.reason;
  // Nothing of the region on disk: none of it was written back.
  d = {{"pswpin", 0}, {"zswpin", 2048}};
  v = swapbench::prove_writeback(2048, 30, 30, 0, d, swapbench::WritebackScope::Machine);
  EXPECT_FALSE(v.valid);
  EXPECT_NE(v.reason.find("no page was written back"), std::string::npos) << v.reason;
}

TEST(ProofWriteback, PagesZswapRefusedComeFromDiskToo) {
  // memory.zswap.max: stores over the limit that could not write back went straight to disk
  swapbench::Stats d{{"pswpin", 900}, {"zswpin", 124}};
  auto v = swapbench::prove_writeback(1024, 700, 900, 0, d);
  EXPECT_TRUE(v.valid) << v.reason;
}

namespace {
// A zram device's counters over a 100-page set, as read_zram_stats names them.
swapbench::Stats zram_read(int64_t sectors, int64_t failed = 0) {
  return {{"stat.read_sectors", sectors}, {"io_stat.failed_reads", failed}};
}
}  // namespace

TEST(ProofZram, SwapinValidOnlyWhenTheDeviceReadEveryPage) {
  Stats vm{{"pswpin", 100}, {"zswpin", 0}};
  auto v = prove_swapin(backend_of(Backend::Zram), 100, 0, vm, false, zram_read(800));
  EXPECT_TRUE(v.valid) << v.reason;
  EXPECT_EQ(v.path, "zram");
  // pswpin counts every swap device: 100 pages read, but only 60 from the zram device.
  v = prove_swapin(backend_of(Backend::Zram), 100, 0, vm, false, zram_read(480));
  EXPECT_FALSE(v.valid);
  EXPECT_NE(v.reason.find("stat.read_sectors delta 480, expected 800"), std::string::npos) << v.reason;
  v = prove_swapin(backend_of(Backend::Zram), 100, 0, {{"pswpin", 100}, {"zswpin", 100}}, false, zram_read(800, 2));
  EXPECT_FALSE(v.valid);
  EXPECT_NE(v.reason.find("zswpin delta 100, expected 0"), std::string::npos) << v.reason;
  EXPECT_NE(v.reason.find("io_stat.failed_reads delta 2, expected 0"), std::string::npos) << v.reason;
}

TEST(ProofZram, MissingDeviceCountersAreNamed) {
  auto v = prove_swapin(backend_of(Backend::Zram), 10, 0, {{"pswpin", 10}, {"zswpin", 0}}, false, {});
  EXPECT_FALSE(v.valid);
  EXPECT_NE(v.reason.find("stat.read_sectors not in the zram device's counters"), std::string::npos) << v.reason;
}

TEST(ProofZram, ZeroPagesNeverReachTheDevice) {
  Stats vm{{"swpin_zero", 10}, {"pswpin", 0}, {"zswpin", 0}};
  EXPECT_TRUE(prove_swapin(backend_of(Backend::Zram), 10, 0, vm, true, zram_read(0)).valid);
  EXPECT_FALSE(prove_swapin(backend_of(Backend::Zram), 10, 0, vm, true, zram_read(80)).valid);
}

TEST(ProofZram, SwapoutStoresEveryPageSynchronously) {
  Stats vm{{"pswpout", 8}, {"zswpout", 0}};
  Stats dev{{"stat.write_sectors", 64}, {"io_stat.failed_writes", 0}, {"mm_stat.orig_data_size", 8 * 4096}};
  EXPECT_TRUE(prove_swapout(backend_of(Backend::Zram), 8, 0, vm, false, dev).valid);
  auto v = prove_swapout(backend_of(Backend::Zram), 8, 3, vm, false, dev);
  EXPECT_FALSE(v.valid);
  EXPECT_NE(v.reason.find("3 pages still resident"), std::string::npos) << v.reason;
  dev["mm_stat.orig_data_size"] = 4 * 4096;
  v = prove_swapout(backend_of(Backend::Zram), 8, 0, vm, false, dev);
  EXPECT_FALSE(v.valid);
  EXPECT_NE(v.reason.find("mm_stat.orig_data_size delta 16384, expected 32768"), std::string::npos) << v.reason;
}
