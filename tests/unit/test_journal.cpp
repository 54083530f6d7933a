// The journal's restore logic on a fake sysfs root: what a killed run leaves is put back, newest
// change first, exactly once; a torn line is ignored; after a reboot only files are removed.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "workloads/system/guards.h"
#include "workloads/system/journal.h"
#include "workloads/system/lock.h"
#include "workloads/system/zswap.h"

using namespace swapbench;
namespace fs = std::filesystem;

namespace {

// Records the privileged kernel operations a fake root cannot perform; file writes are real.
struct FakeOps : SysOps {
  std::vector<std::string> calls;
  using SysOps::SysOps;
  void swapon(const std::string& p, int prio) override { calls.push_back("swapon " + p + " " + std::to_string(prio)); }
  void swapoff(const std::string& p) override { calls.push_back("swapoff " + p); }
  void mount_debugfs(const std::string& p) override { calls.push_back("mount " + p); }
  void umount(const std::string& p) override { calls.push_back("umount " + p); }
};

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("swapbench-journal-" + std::to_string(getpid()) + "-" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
    root = dir / "root";
    fs::copy(std::string(FIXTURES) + "/sysroot-v1", root, fs::copy_options::recursive);
    journal = (dir / "journal").string();
  }
  void TearDown() override { fs::remove_all(dir); }
  std::string read(const std::string& abs) { return SysOps(root.string()).read(abs); }
  fs::path dir, root;
  std::string journal;
};

const char* kComp = "/sys/module/zswap/parameters/compressor";
const char* kPc = "/proc/sys/vm/page-cluster";

}  // namespace

TEST_F(JournalTest, GuardsRestoreOnDestruction) {
  FakeOps ops(root.string());
  Journal j(journal, ops);
  {
    ValueGuard g(j, ops, kPc);
    g.set("0");
    g.set("1");
    EXPECT_EQ(read(kPc), "1");
  }
  EXPECT_EQ(read(kPc), "3");
  EXPECT_TRUE(j.pending().empty());
}

TEST_F(JournalTest, AKilledRunIsRestoredByTheNextProcessNewestFirst) {
  {
    FakeOps ops(root.string());
    Journal j(journal, ops);
    j.record("create_file", "/var/tmp/swapbench-1.swap");
    std::ofstream(root / "var/tmp/swapbench-1.swap") << "x";
    j.record("swapon", "/var/tmp/swapbench-1.swap");
    auto* zg = new ZswapGuard(j, ops);  // leaked on purpose: a SIGKILL runs no destructor
    zg->set("enabled", "Y");
    zg->set("compressor", "deflate");
    auto* pc = new ValueGuard(j, ops, kPc);
    pc->set("0");
    j.record("mkdir_cgroup", "/sys/fs/cgroup/memory/swapbench-1", "", "/sys/fs/cgroup/memory/cgroup.procs");
    fs::create_directories(root / "sys/fs/cgroup/memory/swapbench-1");
    j.record("mount", "/sys/kernel/debug");
  }
  EXPECT_EQ(read(kComp), "deflate");
  FakeOps ops(root.string());
  Journal later(journal, ops);
  EXPECT_EQ(later.pending().size(), 7u);
  auto log = later.restore_all();
  EXPECT_EQ(read(kComp), "lzo");
  EXPECT_EQ(read("/sys/module/zswap/parameters/enabled"), "N");
  EXPECT_EQ(read(kPc), "3");
  EXPECT_FALSE(fs::exists(root / "sys/fs/cgroup/memory/swapbench-1"));
  EXPECT_FALSE(fs::exists(root / "var/tmp/swapbench-1.swap"));
  // umount before anything else, swapoff after the settings and before the file goes.
  std::vector<std::string> want = {"umount /sys/kernel/debug", "swapoff /var/tmp/swapbench-1.swap"};
  EXPECT_EQ(ops.calls, want);
  EXPECT_FALSE(fs::exists(journal)) << "a fully restored journal is removed";
  for (auto& l : log) EXPECT_EQ(l.find("FAILED"), std::string::npos) << l;
}

TEST_F(JournalTest, RestoredEntriesAreNotUndoneTwice) {
  FakeOps ops(root.string());
  Journal j(journal, ops);
  int id = j.record("write", kPc, "3");
  ops.write(kPc, "0");
  j.restore(id);
  ops.write(kPc, "5");  // someone changes it afterwards: not ours to touch any more
  j.restore_all();
  EXPECT_EQ(read(kPc), "5");
}

TEST_F(JournalTest, ATornLastLineIsIgnored) {
  FakeOps ops(root.string());
  {
    Journal j(journal, ops);
    j.record("write", kPc, "3");
    ops.write(kPc, "0");
  }
  std::ofstream(journal, std::ios::app) << "{\"id\": 9, \"op\": \"wri";
  Journal j(journal, ops);
  EXPECT_EQ(j.pending().size(), 1u);
  j.restore_all();
  EXPECT_EQ(read(kPc), "3");
}

TEST_F(JournalTest, AfterARebootOnlyFilesAreRemoved) {
  FakeOps ops(root.string());
  {
    Journal j(journal, ops);
    j.record("create_file", "/var/tmp/swapbench-2.swap");
    std::ofstream(root / "var/tmp/swapbench-2.swap") << "x";
    j.record("write", kPc, "3");
    ops.write(kPc, "7");  // set by the user after the reboot
  }
  ops.write("/proc/sys/kernel/random/boot_id", "99999999-0000-0000-0000-000000000000");
  Journal j(journal, ops);
  auto log = j.restore_all();
  EXPECT_EQ(read(kPc), "7");
  EXPECT_FALSE(fs::exists(root / "var/tmp/swapbench-2.swap"));
}

TEST_F(JournalTest, FailedRestoreStaysPendingAndIsReported) {
  FakeOps ops(root.string());
  Journal j(journal, ops);
  j.record("write", "/proc/sys/vm/no_such_sysctl", "1");
  auto log = j.restore_all();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].rfind("FAILED", 0), 0u);
  EXPECT_EQ(j.pending().size(), 1u);
  EXPECT_TRUE(fs::exists(journal));
}

TEST_F(JournalTest, TheLockNamesItsHolder) {
  std::string lockfile = (dir / "lock").string();
  RunLock a(lockfile);
  try {
    RunLock b(lockfile);
    FAIL() << "a second lock was granted";
  } catch (const SystemError& e) {
    EXPECT_NE(std::string(e.what()).find("PID " + std::to_string(getpid())), std::string::npos) << e.what();
  }
}
