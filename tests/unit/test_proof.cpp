#include <gtest/gtest.h>

#include "workloads/proof.h"

using namespace swapbench;

TEST(Proof, ZswapSwapinValidOnlyWhenEveryPageCameFromZswap) {
  EXPECT_TRUE(prove_swapin(Backend::Zswap, 100, 0, {{"zswpin", 100}, {"pswpin", 0}}, false).valid);
  auto v = prove_swapin(Backend::Zswap, 100, 0, {{"zswpin", 90}, {"pswpin", 10}}, false);
  EXPECT_FALSE(v.valid);
  EXPECT_NE(v.reason.find("zswpin delta 90, expected 100"), std::string::npos) << v.reason;
  EXPECT_NE(v.reason.find("pswpin delta 10, expected 0"), std::string::npos) << v.reason;
}

TEST(Proof, DiskSwapinWithPagesStillInTheSwapCacheIsInvalid) {
  auto v = prove_swapin(Backend::Disk, 100, 100, {{"pswpin", 0}, {"zswpin", 0}}, false);
  EXPECT_FALSE(v.valid);
  EXPECT_NE(v.reason.find("resident"), std::string::npos) << v.reason;
  EXPECT_TRUE(prove_swapin(Backend::Disk, 100, 0, {{"pswpin", 100}, {"zswpin", 0}}, false).valid);
}

TEST(Proof, MissingCounterIsNotSilentlyZero) {
  auto v = prove_swapin(Backend::Zswap, 10, 0, {{"pswpin", 0}}, false);
  EXPECT_FALSE(v.valid);
  EXPECT_NE(v.reason.find("zswpin not in /proc/vmstat"), std::string::npos) << v.reason;
}

TEST(Proof, ZeroPagesTakeTheZeroPathWhereTheKernelHasIt) {
  auto v = prove_swapin(Backend::Zswap, 10, 0, {{"swpin_zero", 10}, {"zswpin", 0}, {"pswpin", 0}}, true);
  EXPECT_TRUE(v.valid) << v.reason;
  EXPECT_EQ(v.path, "zero");
  // 6.1 has no swpin_zero: zero pages are judged like any other zswap page.
  EXPECT_TRUE(prove_swapin(Backend::Zswap, 10, 0, {{"zswpin", 10}, {"pswpin", 0}}, true).valid);
}

TEST(Proof, Swapout) {
  EXPECT_TRUE(prove_swapout(Backend::Zswap, 8, 0, {{"zswpout", 8}, {"pswpout", 0}}, false).valid);
  EXPECT_FALSE(prove_swapout(Backend::Zswap, 8, 2, {{"zswpout", 8}, {"pswpout", 0}}, false).valid);
  EXPECT_TRUE(prove_swapout(Backend::Disk, 8, 8, {{"zswpout", 0}, {"pswpout", 8}}, false).valid);
  EXPECT_FALSE(prove_swapout(Backend::Disk, 8, 8, {{"zswpout", 8}, {"pswpout", 0}}, false).valid);
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

TEST(ProofWriteback, PagesZswapRefusedComeFromDiskToo) {
  // memory.zswap.max: stores over the limit that could not write back went straight to disk
  swapbench::Stats d{{"pswpin", 900}, {"zswpin", 124}};
  auto v = swapbench::prove_writeback(1024, 700, 900, 0, d);
  EXPECT_TRUE(v.valid) << v.reason;
}
