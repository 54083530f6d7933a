// zram: its counters read from a fixture sysfs tree, its comp_algorithm list, and the device guard's
// journal entry on a fake root: created -> journalled with its diskseq -> given back (swapoff, reset,
// hot_remove), by the guard or by the next process after a SIGKILL; a device that is no longer the
// suite's (another diskseq) is never touched.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "tests/unit/system_fixture.h"
#include "workloads/measure/kstat.h"
#include "workloads/system/swap_area.h"
#include "workloads/system/zram.h"

using namespace swapbench;
using namespace swapbench_test;

namespace {

const std::string kZram1 = std::string(FIXTURES) + "/sysroot-v1/sys/block/zram1";

// comp_algorithm answers as the kernel does: the list, the selected name in brackets.
struct FakeZramOps : FakeOps {
  using FakeOps::FakeOps;
  bool keeps_its_own = false;  // a kernel that ignores the name written
  void write(const std::string& p, const std::string& v) override {
    if (p.size() > 15 && p.compare(p.size() - 15, 15, "/comp_algorithm") == 0) {
      if (keeps_its_own) return;
      std::string list;
      for (const char* c : {"lzo-rle", "lzo", "lz4"}) list += (v == c ? "[" + v + "]" : std::string(c)) + " ";
      return FakeOps::write(p, list);
    }
    FakeOps::write(p, v);
  }
};

class ZramTest : public FakeRootTest {
 protected:
  void SetUp() override {
    FakeRootTest::SetUp();
    fs::create_directories(root / "dev");
    // mkswap's target under the fake root: written (no holes) and private, as mkswap wants a file.
    std::ofstream(root / "dev/zram1") << std::string(1 << 20, '\0');
    fs::permissions(root / "dev/zram1", fs::perms::owner_read | fs::perms::owner_write);
  }
  void list_as_swap(const std::string& dev) {
    std::ofstream(root / "proc/swaps", std::ios::app) << dev << " partition 73728 0 32767\n";
  }
};

bool has(const std::vector<std::string>& lines, const std::string& part) {
  for (const auto& l : lines)
    if (l.find(part) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST(ZramCounters, EveryFieldByItsDocumentedName) {
  Stats s = read_zram_stats(kZram1);
  EXPECT_EQ(s.at("mm_stat.orig_data_size"), 8392704);
  EXPECT_EQ(s.at("mm_stat.compr_data_size"), 4435784);
  EXPECT_EQ(s.at("mm_stat.mem_used_total"), 4501504);
  EXPECT_EQ(s.at("mm_stat.huge_pages_since"), 0);
  EXPECT_EQ(s.at("io_stat.notify_free"), 2048);
  EXPECT_EQ(s.at("stat.read_ios"), 2048);
  EXPECT_EQ(s.at("stat.read_sectors"), 16384);
  EXPECT_EQ(s.at("stat.write_sectors"), 16392);
  EXPECT_EQ(s.at("stat.flush_ticks"), 0);
  EXPECT_EQ(s.size(), 9u + 4u + 17u);
  EXPECT_TRUE(read_zram_stats(kZram1 + "-missing").empty());
}

TEST(ZramCounters, AnOlderKernelsShorterLineGivesFewerKeys) {
  const fs::path d = fs::temp_directory_path() / ("swapbench-zram-old-" + std::to_string(getpid()));
  fs::create_directories(d);
  std::ofstream(d / "mm_stat") << "4096 100 8192 0 8192 0 0\n";  // 5.x: no huge_pages yet
  Stats s = read_zram_stats(d.string());
  fs::remove_all(d);
  EXPECT_EQ(s.at("mm_stat.pages_compacted"), 0);
  EXPECT_EQ(s.count("mm_stat.huge_pages"), 0u);
  EXPECT_EQ(s.count("io_stat.failed_reads"), 0u);
}

TEST(ZramCounters, FootprintIsWhatThePushOutAdded) {
  Stats before = {{"mm_stat.orig_data_size", 4096}, {"mm_stat.compr_data_size", 73}, {"mm_stat.mem_used_total", 12288},
                  {"mm_stat.same_pages", 0}, {"mm_stat.huge_pages", 1}};
  Stats after = read_zram_stats(kZram1);
  auto f = zram_footprint(before, after);
  EXPECT_EQ(f["orig_data_size"], 8392704 - 4096);
  EXPECT_EQ(f["compr_data_size"], 4435784 - 73);
  EXPECT_EQ(f["mem_used_total"], 4501504 - 12288);
  EXPECT_EQ(f["huge_pages"], -1);
  EXPECT_EQ(f.size(), kZramFootprint.size());
  EXPECT_TRUE(zram_footprint({}, after)["same_pages"].is_null()) << "a missing field is null, never 0";
}

TEST(ZramAlgorithms, OfferedInOrderAndTheSelectedOne) {
  auto a = parse_comp_algorithm("[lzo-rle] lzo lz4 \n");
  const std::vector<std::string> want = {"lzo-rle", "lzo", "lz4"};
  EXPECT_EQ(a.offered, want);
  EXPECT_EQ(a.selected, "lzo-rle");
  EXPECT_EQ(parse_comp_algorithm("lzo lzo-rle [lz4] zstd").selected, "lz4");
  EXPECT_TRUE(parse_comp_algorithm("").offered.empty());
}

TEST_F(ZramTest, NoZramControlSaysHowToGetIt) {
  fs::remove_all(root / "sys/class/zram-control");
  auto why = zram_problem(SysOps(root.string()));
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("modprobe zram"), std::string::npos) << *why;
  EXPECT_FALSE(zram_problem(SysOps(std::string(FIXTURES) + "/sysroot-v1")));
}

TEST_F(ZramTest, ADeviceIsJournalledWithItsDiskseqAndGivenBackInOrder) {
  FakeZramOps ops(root.string());
  Journal j(journal, ops);
  {
    ZramGuard z(j, ops);
    EXPECT_EQ(z.device(), "/dev/zram1");
    auto p = j.pending();
    ASSERT_EQ(p.size(), 1u);
    EXPECT_EQ(p[0].op, "zram_device");
    EXPECT_EQ(p[0].path, "/dev/zram1");
    EXPECT_EQ(p[0].extra, "31");
    const std::vector<std::string> offered = {"lzo-rle", "lzo", "lz4"};
    EXPECT_EQ(z.algorithms().offered, offered);
    z.configure("lz4", 72 << 20);
    EXPECT_EQ(z.algorithms().selected, "lz4");
    EXPECT_EQ(read("/sys/block/zram1/disksize"), std::to_string(72 << 20));
    z.swapon(32767);
    list_as_swap("/dev/zram1");
    EXPECT_EQ(j.pending().size(), 1u) << "swapon is covered by the device's own entry";
  }
  EXPECT_TRUE(j.pending().empty());
  EXPECT_EQ(read("/sys/block/zram1/reset"), "1");
  EXPECT_EQ(read("/sys/class/zram-control/hot_remove"), "1");
  const std::vector<std::string> want = {"swapon /dev/zram1 32767", "swapoff /dev/zram1"};
  EXPECT_EQ(ops.calls, want);
}

TEST_F(ZramTest, TheSwapHeaderGoesOnTheBlankDeviceThisRunMade) {
  FakeZramOps ops(root.string());
  Journal j(journal, ops);
  ZramGuard z(j, ops);
  z.configure("lzo", 1 << 20);
  const int fd = ::open((root / "dev/zram1").c_str(), O_RDONLY);
  const std::string found = device_signature(fd, "/dev/zram1");
  ::close(fd);
  EXPECT_NE(found.find("swap (a swap area, label swapbench, UUID "), std::string::npos) << found;
}

// A device that holds anything is not the blank device hot_add made a moment ago: someone else's
// (a number reused, a device node replaced), and never formatted.
TEST_F(ZramTest, ADeviceHoldingSomethingIsNotFormatted) {
  FakeZramOps ops(root.string());
  Journal j(journal, ops);
  ZramGuard z(j, ops);
  const std::string theirs = "0f0e0d0c-0b0a-4908-8706-050403020100";
  {
    const int fd = ::open((root / "dev/zram1").c_str(), O_RDWR);
    write_swap_header(fd, "their swap", 1 << 20, theirs);
    ::close(fd);
  }
  try {
    z.configure("lzo", 1 << 20);
    FAIL() << "a device holding a swap area was formatted";
  } catch (const SystemError& e) {
    EXPECT_NE(std::string(e.what()).find("/dev/zram1 holds swap (a swap area, label swapbench, UUID " + theirs +
                                         "), not the blank device this run made: left alone"),
              std::string::npos)
        << e.what();
  }
  const int fd = ::open((root / "dev/zram1").c_str(), O_RDONLY);
  EXPECT_NE(device_signature(fd, "/dev/zram1").find(theirs), std::string::npos) << "their header is untouched";
  ::close(fd);
}

TEST_F(ZramTest, ADeviceOfAnotherDiskseqIsNotFormatted) {
  FakeZramOps ops(root.string());
  Journal j(journal, ops);
  ZramGuard z(j, ops);
  write("/sys/block/zram1/diskseq", "32");  // removed and made again by someone else since hot_add
  try {
    z.configure("lzo", 1 << 20);
    FAIL() << "a device of another diskseq was formatted";
  } catch (const SystemError& e) {
    EXPECT_NE(std::string(e.what()).find("/dev/zram1 is not the zram device this run made (diskseq 32, made as 31)"),
              std::string::npos)
        << e.what();
  }
  const int fd = ::open((root / "dev/zram1").c_str(), O_RDONLY);
  EXPECT_EQ(device_signature(fd, "/dev/zram1"), "");
  ::close(fd);
}

TEST_F(ZramTest, ACompressorTheDeviceDoesNotTakeIsAnError) {
  FakeZramOps ops(root.string());
  ops.keeps_its_own = true;
  Journal j(journal, ops);
  ZramGuard z(j, ops);
  try {
    z.configure("lz4", 1 << 20);
    FAIL() << "a compressor the device kept its own instead of must not pass";
  } catch (const SystemError& e) {
    EXPECT_NE(std::string(e.what()).find("kept compressor lzo-rle when given lz4"), std::string::npos) << e.what();
  }
}

TEST_F(ZramTest, AKilledRunsDeviceIsRemovedByTheNextProcess) {
  int status = in_child([&] {
    FakeZramOps ops(root.string());
    Journal j(journal, ops);
    ZramGuard z(j, ops);
    z.configure("lzo", 1 << 20);
    z.swapon(32767);
    list_as_swap("/dev/zram1");
    kill(getpid(), SIGKILL);
  });
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  EXPECT_EQ(read("/sys/block/zram1/reset"), "");
  FakeOps ops(root.string());
  Journal later(journal, ops);
  auto r = later.restore_all_result();
  EXPECT_TRUE(r.success());
  EXPECT_TRUE(has(r.ok, "removed zram device /dev/zram1"));
  EXPECT_EQ(read("/sys/block/zram1/reset"), "1");
  EXPECT_EQ(read("/sys/class/zram-control/hot_remove"), "1");
  const std::vector<std::string> want = {"swapoff /dev/zram1"};
  EXPECT_EQ(ops.calls, want);
}

TEST_F(ZramTest, ADeviceThatTookTheNumberSinceIsLeftAlone) {
  FakeOps ops(root.string());
  Journal j(journal, ops);
  j.record("zram_device", "/dev/zram1", "", "30");  // ours was zram1 with diskseq 30; now 31 is there
  list_as_swap("/dev/zram1");
  auto r = j.restore_all_result();
  EXPECT_TRUE(r.success());
  EXPECT_TRUE(has(r.ok, "left alone: /dev/zram1 is no longer the zram device swapbench created (diskseq 31, created as 30)"));
  EXPECT_TRUE(ops.calls.empty()) << "not even swapped off";
  EXPECT_EQ(read("/sys/block/zram1/reset"), "");
  EXPECT_EQ(read("/sys/class/zram-control/hot_remove"), "");
}

TEST_F(ZramTest, AGoneDeviceAndADamagedEntryTouchNothing) {
  FakeOps ops(root.string());
  Journal j(journal, ops);
  j.record("zram_device", "/dev/zram7", "", "40");
  // Not a path the suite records (record() refuses it), so written as a damaged file would hold it.
  std::ofstream(journal, std::ios::app) << R"({"id":2,"op":"zram_device","path":"/dev/sda","extra":"1"})" << "\n";
  auto r = j.restore_all_result();
  EXPECT_TRUE(has(r.ok, "already gone: /dev/zram7"));
  EXPECT_TRUE(has(r.failed, "line 3 is not a swapbench entry (a device that is not a zram device)"))
      << r.lines().size();
  EXPECT_TRUE(ops.calls.empty());
  EXPECT_EQ(read("/sys/class/zram-control/hot_remove"), "");
}

TEST_F(ZramTest, AfterARebootTheDeviceIsNotLookedFor) {
  FakeOps ops(root.string());
  Journal j(journal, ops);
  j.record("zram_device", "/dev/zram1", "", "31");
  ops.write("/proc/sys/kernel/random/boot_id", "99999999-0000-0000-0000-000000000000");
  auto r = j.restore_all_result();
  EXPECT_TRUE(has(r.ok, "skipped (the machine rebooted since"));
  EXPECT_EQ(read("/sys/block/zram1/reset"), "");
}

TEST(ZramManualUndo, ChecksTheDiskseqFirst) {
  const std::string cmd = manual_undo({1, "zram_device", "/dev/zram3", "", "33", "", 1});
  EXPECT_EQ(cmd, "if [ \"$(cat /sys/block/zram3/diskseq)\" = 33 ]; then swapoff /dev/zram3; echo 1 > "
                 "/sys/block/zram3/reset; echo 3 > /sys/class/zram-control/hot_remove; fi");
}
