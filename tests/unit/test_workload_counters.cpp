// The counters of a workload result, read from fixture trees: deltas, absent counters recorded as
// absent, PSI where the kernel has it, per-order mTHP counters, the configuration header.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "workloads/measure/workload_counters.h"
#include "workloads/proof/proof.h"

using namespace swapbench;
namespace fs = std::filesystem;

namespace {

class CountersTree : public ::testing::Test {
 protected:
  void SetUp() override {
    root = fs::temp_directory_path() / ("swapbench-counters-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root);
    fs::copy(std::string(FIXTURES) + "/sysroot-counters", root, fs::copy_options::recursive);
  }
  void TearDown() override { fs::remove_all(root); }
  void put(const std::string& abs, const std::string& text) { std::ofstream(root.string() + abs) << text; }
  WorkloadSnapshot snap(MemcgVersion v = MemcgVersion::V2) {
    return snapshot_workload(SysOps(root.string()), "/sys/fs/cgroup/wl", v, "/sys/kernel/debug");
  }
  fs::path root;
};

const std::string kVm = "/proc/vmstat";

}  // namespace

TEST(Psi, ParsesSomeAndFullTotals) {
  std::istringstream in("some avg10=0.10 avg60=0.00 avg300=0.00 total=123\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=45\n");
  PsiReading r = parse_psi(in);
  EXPECT_TRUE(r.available);
  EXPECT_EQ(*r.some_us, 123);
  EXPECT_EQ(*r.full_us, 45);
}

TEST(Psi, NoTotalIsUnavailableWithAReason) {
  std::istringstream in("some avg10=0.10\n");
  PsiReading r = parse_psi(in);
  EXPECT_FALSE(r.available);
  EXPECT_FALSE(r.reason.empty());
}

TEST_F(CountersTree, DeltasOfVmstatPsiMthpAndTheCgroup) {
  WorkloadSnapshot a = snap();
  put(kVm, "pswpin 11\npswpout 25\nzswpin 30\nzswpout 140\nzswpwb 9\n");
  put("/proc/pressure/memory", "some avg10=1 total=1600\nfull avg10=1 total=500\n");
  put("/sys/fs/cgroup/wl/memory.pressure", "some avg10=1 total=80\nfull avg10=1 total=20\n");
  put("/sys/kernel/mm/transparent_hugepage/hugepages-64kB/stats/swpout", "10\n");
  put("/sys/fs/cgroup/wl/memory.swap.current", "131072\n");
  put("/sys/kernel/debug/zswap/stored_pages", "160\n");
  auto j = workload_counters(a, snap(), MemcgVersion::V2);
  EXPECT_EQ(j["vmstat"]["pswpout"], 5);
  EXPECT_EQ(j["vmstat"]["zswpout"], 100);
  EXPECT_EQ(j["vmstat"]["zswpwb"], 4);
  EXPECT_TRUE(j["vmstat_absent"].empty());
  EXPECT_EQ(j["psi"]["system"]["some_us"], 600);
  EXPECT_EQ(j["psi"]["system"]["full_us"], 100);
  EXPECT_EQ(j["psi"]["cgroup"]["some_us"], 30);
  EXPECT_EQ(j["psi"]["cgroup"]["full_us"], 0);
  EXPECT_EQ(j["mthp"]["64kB"]["swpout"], 3);
  EXPECT_EQ(j["mthp"]["2048kB"]["swpout_fallback"], 0);
  EXPECT_EQ(j["memcg"]["zswap_bytes"], 8192);
  EXPECT_EQ(j["memcg"]["zswapped_bytes"], 16384);
  EXPECT_EQ(j["memcg"]["swap_bytes"], 131072);
  EXPECT_EQ(j["memcg"]["swap_bytes_delta"], 65536);
  EXPECT_EQ(j["zswap_debugfs"]["stored_pages"], 60);
  EXPECT_EQ(j["zswap_stored_pages"], 160);
}

TEST_F(CountersTree, AKernelWithoutZswpwbRecordsItAbsentNotZero) {
  put(kVm, "pswpin 10\npswpout 20\nzswpin 30\nzswpout 40\n");
  auto j = workload_counters(snap(), snap(), MemcgVersion::V2);
  EXPECT_TRUE(j["vmstat"]["zswpwb"].is_null());
  ASSERT_EQ(j["vmstat_absent"].size(), 1u);
  EXPECT_EQ(j["vmstat_absent"][0], "zswpwb");
  EXPECT_EQ(j["vmstat"]["pswpout"], 0);
}

TEST_F(CountersTree, NoPsiFileIsUnavailableWithTheReason) {
  fs::remove(root / "proc/pressure/memory");
  auto j = workload_counters(snap(), snap(), MemcgVersion::V2);
  EXPECT_FALSE(j["psi"]["system"]["available"]);
  EXPECT_NE(j["psi"]["system"]["reason"].get<std::string>().find("CONFIG_PSI"), std::string::npos);
  EXPECT_TRUE(j["psi"]["cgroup"]["available"]);
}

TEST_F(CountersTree, CgroupV1SaysItHasNoZswapCountsNorPressure) {
  put("/sys/fs/cgroup/wl/memory.stat", "rss 4096\nswap 8192\n");
  put("/sys/fs/cgroup/wl/memory.memsw.usage_in_bytes", "1048576\n");
  auto j = workload_counters(snap(MemcgVersion::V1), snap(MemcgVersion::V1), MemcgVersion::V1);
  EXPECT_TRUE(j["memcg"]["zswap_bytes"].is_null());
  EXPECT_TRUE(j["memcg"]["zswapped_bytes"].is_null());
  EXPECT_NE(j["memcg"]["zswap_note"].get<std::string>().find("v1"), std::string::npos);
  EXPECT_EQ(j["memcg"]["swap_source"], "memory.memsw.usage_in_bytes");
  EXPECT_EQ(j["memcg"]["swap_bytes"], 1048576);
  EXPECT_FALSE(j["psi"]["cgroup"]["available"]);
  EXPECT_TRUE(j["psi"]["system"]["available"]);
}

TEST_F(CountersTree, ConfigurationHeader) {
  auto c = config_header(SysOps(root.string()));
  EXPECT_EQ(c["zswap"]["enabled"], "Y");
  EXPECT_EQ(c["zswap"]["compressor"], "lzo");
  EXPECT_EQ(c["zswap"]["zpool"], "zsmalloc");
  EXPECT_EQ(c["zswap"]["max_pool_percent"], "20");
  EXPECT_EQ(c["page_cluster"], "3");
  ASSERT_EQ(c["swap_devices"].size(), 2u);
  EXPECT_EQ(c["swap_devices"][1]["name"], "/dev/vdb");
  EXPECT_EQ(c["swap_devices"][1]["size_kib"], 1048572);
  EXPECT_EQ(c["thp"]["enabled"], "madvise");
  EXPECT_EQ(c["thp"]["defrag"], "madvise");
  EXPECT_EQ(c["kernel_release"], "6.12.0-test");
  fs::remove(root / "sys/module/zswap/parameters/zpool");  // 6.15+ has no zpool parameter
  EXPECT_TRUE(config_header(SysOps(root.string()))["zswap"]["zpool"].is_null());
}

TEST(WorkloadProof, ZswapNeedsStoresAndStoredPages) {
  EXPECT_TRUE(prove_workload_swapped(Backend::Zswap, {{"zswpout", 500}, {"pswpout", 0}}, 300).valid);
  Verdict none = prove_workload_swapped(Backend::Zswap, {{"zswpout", 0}, {"pswpout", 0}}, 0);
  EXPECT_FALSE(none.valid);
  EXPECT_NE(none.reason.find("zswpout delta 0"), std::string::npos);
  EXPECT_FALSE(prove_workload_swapped(Backend::Zswap, {{"zswpout", 500}}, std::nullopt).valid);
  EXPECT_FALSE(prove_workload_swapped(Backend::Zswap, {{"pswpout", 500}}, 10).valid);  // no zswpout counter
}

TEST(WorkloadProof, DiskNeedsPswpoutAndNoZswapStores) {
  EXPECT_TRUE(prove_workload_swapped(Backend::Disk, {{"pswpout", 800}, {"zswpout", 0}}, std::nullopt).valid);
  EXPECT_TRUE(prove_workload_swapped(Backend::Disk, {{"pswpout", 800}}, std::nullopt).valid);
  Verdict leaked = prove_workload_swapped(Backend::Disk, {{"pswpout", 800}, {"zswpout", 3}}, std::nullopt);
  EXPECT_FALSE(leaked.valid);
  EXPECT_NE(leaked.reason.find("zswpout delta 3"), std::string::npos);
  EXPECT_FALSE(prove_workload_swapped(Backend::Disk, {{"pswpout", 0}, {"zswpout", 0}}, std::nullopt).valid);
}
