// The journal's restore logic on a fake sysfs root: what a killed run leaves is put back, newest
// change first, exactly once; damage is reported by line and never stops the rest; a run never
// appends onto another run's record; after a reboot only files are removed, and only the files the
// suite itself created.
#include <gtest/gtest.h>
#include <signal.h>

#include "tests/unit/system_fixture.h"
#include "workloads/system/guards.h"
#include "workloads/system/journal.h"
#include "workloads/system/lock.h"
#include "workloads/system/swap_area.h"
#include "workloads/system/zswap.h"

using namespace swapbench;
using namespace swapbench_test;

namespace {

class JournalTest : public FakeRootTest {};

bool has(const std::vector<std::string>& lines, const std::string& part) {
  for (const auto& l : lines)
    if (l.find(part) != std::string::npos) return true;
  return false;
}

std::string lines_of(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& l : v) s += l + "\n";
  return s;
}

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
  // The run really dies (SIGKILL in a child): no destructor runs, nothing leaks in this process.
  int status = in_child([&] {
    FakeOps ops(root.string());
    Journal j(journal, ops);
    j.record("create_file", "/var/tmp/swapbench-1.swap", "", make_file("/var/tmp/swapbench-1.swap"));
    j.record("swapon", "/var/tmp/swapbench-1.swap");
    ZswapGuard zg(j, ops);
    zg.set("enabled", "Y");
    zg.set("compressor", "deflate");
    ValueGuard pc(j, ops, kPc);
    pc.set("0");
    fs::create_directories(root / "sys/fs/cgroup/memory/swapbench-1");
    j.record("mkdir_cgroup", "/sys/fs/cgroup/memory/swapbench-1", "", "/sys/fs/cgroup/memory/cgroup.procs");
    j.record("mount", "/sys/kernel/debug");
    kill(getpid(), SIGKILL);
  });
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  EXPECT_EQ(read(kComp), "deflate");
  FakeOps ops(root.string());
  Journal later(journal, ops);
  EXPECT_EQ(later.pending().size(), 7u);
  auto r = later.restore_all_result();
  EXPECT_TRUE(r.success()) << lines_of(r.lines());
  EXPECT_EQ(read(kComp), "lzo");
  EXPECT_EQ(read("/sys/module/zswap/parameters/enabled"), "N");
  EXPECT_EQ(read(kPc), "3");
  EXPECT_FALSE(fs::exists(root / "sys/fs/cgroup/memory/swapbench-1"));
  EXPECT_FALSE(fs::exists(root / "var/tmp/swapbench-1.swap"));
  // umount before anything else, swapoff after the settings and before the file goes.
  std::vector<std::string> want = {"umount /sys/kernel/debug", "swapoff /var/tmp/swapbench-1.swap"};
  EXPECT_EQ(ops.calls, want);
  EXPECT_FALSE(fs::exists(journal)) << "a fully restored journal is removed";
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

TEST_F(JournalTest, ATornLastLineIsWarnedAboutAndNothingIsGluedOntoIt) {
  int id = 0;
  killed_run_set_page_cluster(journal, [&](Journal& j) { id = j.record("write", "/proc/sys/vm/swappiness", "60"); });
  FakeOps ops(root.string());
  std::ofstream(journal, std::ios::app) << "{\"id\": 9, \"op\": \"wri";
  Journal j(journal, ops);
  EXPECT_EQ(j.pending().size(), 2u);
  j.restore(id);  // its done marker must not be glued onto the torn line (and lost)
  EXPECT_EQ(j.pending().size(), 1u);
  auto r = j.restore_all_result();
  EXPECT_EQ(read(kPc), "3");
  EXPECT_TRUE(r.success()) << lines_of(r.lines());
  EXPECT_TRUE(has(r.warnings, "cut-short line 4")) << lines_of(r.lines());
}

TEST_F(JournalTest, DamagedLinesAreNamedAndEverythingReadableIsRestored) {
  killed_run_set_page_cluster(journal);
  FakeOps ops(root.string());
  std::ofstream(journal, std::ios::app) << "garbage\n[1,2]\n{\"id\":\"x\",\"op\":\"write\",\"path\":\"/a\"}\n"
                                        << "{\"done\":\"x\"}\n{\"id\":7,\"op\":5,\"path\":\"/a\"}\n{\"what\":1}\n";
  Journal j(journal, ops);
  RestoreResult r;
  ASSERT_NO_THROW(r = j.restore_all_result());
  EXPECT_EQ(read(kPc), "3") << "the readable entry is restored despite the damage";
  EXPECT_FALSE(r.success());
  for (int line = 3; line <= 8; ++line)
    EXPECT_TRUE(has(r.failed, "line " + std::to_string(line) + " is not a swapbench entry")) << line << "\n"
                                                                                           << lines_of(r.lines());
  EXPECT_FALSE(has(r.failed, "garbage")) << "a line that is not ours is never repeated";
  EXPECT_TRUE(has(r.failed, "'id' is not a whole number"));
  EXPECT_TRUE(has(r.failed, "'op' is missing or not text"));
  EXPECT_TRUE(fs::exists(journal)) << "kept until restore retires it";
}

TEST_F(JournalTest, AnEmptyJournalIsAFailureNotNothingToRestore) {
  std::ofstream(journal).close();
  FakeOps ops(root.string());
  Journal j(journal, ops);
  auto r = j.restore_all_result();
  EXPECT_FALSE(r.success());
  EXPECT_TRUE(has(r.failed, "is empty")) << lines_of(r.lines());
}

TEST_F(JournalTest, ARunNeverAppendsOntoAnotherRunsJournal) {
  killed_run_set_page_cluster(journal);
  FakeOps ops(root.string());
  Journal next(journal, ops);
  try {
    next.record("write", "/proc/sys/vm/swappiness", "60");
    FAIL() << "a second run recorded into the first run's journal";
  } catch (const SystemError& e) {
    EXPECT_NE(std::string(e.what()).find("never appended to"), std::string::npos) << e.what();
  }
  EXPECT_EQ(next.pending().size(), 1u);
  EXPECT_TRUE(next.restore_all_result().success());
  next.record("write", "/proc/sys/vm/swappiness", "60");  // once restored, a fresh file of its own
  std::ifstream f(journal);
  std::string header;
  std::getline(f, header);
  EXPECT_NE(header.find("\"pid\":" + std::to_string(getpid())), std::string::npos) << header;
}

TEST_F(JournalTest, AfterARebootOnlyFilesAreRemoved) {
  FakeOps ops(root.string());
  {
    Journal j(journal, ops);
    j.record("create_file", "/var/tmp/swapbench-2.swap", "", make_file("/var/tmp/swapbench-2.swap"));
    j.record("write", kPc, "3");
    ops.write(kPc, "7");  // set by the user after the reboot
  }
  ops.write("/proc/sys/kernel/random/boot_id", "99999999-0000-0000-0000-000000000000");
  Journal j(journal, ops);
  auto r = j.restore_all_result();
  EXPECT_EQ(read(kPc), "7");
  EXPECT_FALSE(fs::exists(root / "var/tmp/swapbench-2.swap"));
  EXPECT_TRUE(has(r.ok, "rebooted since")) << lines_of(r.lines());
}

// The stale-header defect: a run after a reboot must get a header of its own, so that when it is
// killed its changes are restored and not skipped as "rebooted since".
TEST_F(JournalTest, ARunAfterARebootIsRestoredInFull) {
  FakeOps ops(root.string());
  {
    Journal before_reboot(journal, ops);
    before_reboot.record("write", "/proc/sys/vm/swappiness", "60");
  }
  ops.write("/proc/sys/kernel/random/boot_id", "99999999-0000-0000-0000-000000000000");
  {
    Journal run(journal, ops);
    EXPECT_TRUE(run.restore_all_result().success());
    run.record("write", kPc, "3");
    ops.write(kPc, "0");  // then SIGKILL
  }
  Journal restorer(journal, ops);
  auto r = restorer.restore_all_result();
  EXPECT_EQ(read(kPc), "3") << lines_of(r.lines());
}

TEST_F(JournalTest, FailedRestoreStaysPendingAndNamesTheCommandThatUndoesIt) {
  FakeOps ops(root.string());
  Journal j(journal, ops);
  j.record("write", kZpool, "zsmalloc");  // a parameter this (fake) kernel does not have
  auto log = j.restore_all();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].rfind("FAILED", 0), 0u);
  EXPECT_NE(log[0].find(std::string("by hand: echo zsmalloc > ") + kZpool), std::string::npos) << log[0];
  EXPECT_EQ(j.pending().size(), 1u);
  EXPECT_TRUE(fs::exists(journal));
}

TEST_F(JournalTest, OnlyTheFileTheSuiteCreatedIsRemoved) {
  FakeOps ops(root.string());
  Journal j(journal, ops);
  j.record("create_file", "/var/tmp/swapbench-a.swap", "", make_file("/var/tmp/swapbench-a.swap"));
  fs::remove(root / "var/tmp/swapbench-a.swap");
  make_file("/var/tmp/swapbench-a.swap", "someone else's");  // took the name after ours was gone
  j.record("create_file", "/var/tmp/swapbench-old.swap");  // an older swapbench recorded before creating
  make_file("/var/tmp/swapbench-old.swap", "maybe not ours");
  auto r = j.restore_all_result();
  EXPECT_TRUE(fs::exists(root / "var/tmp/swapbench-a.swap"));
  EXPECT_TRUE(fs::exists(root / "var/tmp/swapbench-old.swap"));
  EXPECT_TRUE(has(r.ok, "left alone: /var/tmp/swapbench-a.swap")) << lines_of(r.lines());
  EXPECT_TRUE(has(r.failed, "rm /var/tmp/swapbench-old.swap")) << lines_of(r.lines());
}

// A file already in the swap folder (the names an older swapbench used, taken in advance by another
// user) is never touched, and cannot stop the run: its file takes a random name beside them.
TEST_F(JournalTest, ExistingFilesInTheSwapFolderAreLeftAloneAndDoNotBlock) {
  FakeOps ops(root.string());
  Journal j(journal, ops);
  for (int pid = 1; pid <= 400; ++pid) make_file("/var/tmp/swapbench-" + std::to_string(pid) + ".swap", "precious");
  make_file("/var/tmp/swapbench-" + std::to_string(getpid()) + ".swap", "precious");
  {
    SwapAreaGuard g(j, ops, "/var/tmp", 1 << 20);
    EXPECT_EQ(g.path().rfind("/var/tmp/swapbench-" + std::to_string(getpid()) + "-", 0), 0u) << g.path();
  }
  for (const auto& e : fs::directory_iterator(root / "var/tmp")) {
    std::ifstream f(e.path());
    std::string content;
    std::getline(f, content);
    EXPECT_EQ(content, "precious") << e.path();
  }
  EXPECT_EQ(std::distance(fs::directory_iterator(root / "var/tmp"), fs::directory_iterator()), 401);
}

TEST_F(JournalTest, ASwapFileIsJournalledOnceItExistsAndRemovedAfter) {
  FakeOps ops(root.string());
  Journal j(journal, ops);
  std::string path;
  {
    SwapAreaGuard g(j, ops, "/var/tmp", 1 << 20);
    path = g.path();
    auto p = j.pending();
    ASSERT_EQ(p.size(), 2u);
    EXPECT_EQ(p[0].op, "create_file");
    EXPECT_EQ(p[0].path, path);
    EXPECT_FALSE(p[0].extra.empty()) << "the file's identity is kept";
    EXPECT_EQ(fs::file_size(root.string() + path), 1u << 20);
    EXPECT_EQ(fs::status(root.string() + path).permissions(), fs::perms::owner_read | fs::perms::owner_write);
    const int fd = ::open((root.string() + path).c_str(), O_RDONLY);
    EXPECT_NE(device_signature(fd, path).find("swap (a swap area, label swapbench"), std::string::npos);
    ::close(fd);
  }
  EXPECT_FALSE(fs::exists(root.string() + path));
  std::vector<std::string> want = {"swapon " + path + " 32767", "swapoff " + path};
  EXPECT_EQ(ops.calls, want);
}

// Another user who may write the folder (no sticky bit) could rename the swap file away and put
// theirs in its place before swapon; such a folder is refused and nothing is made in it.
TEST_F(JournalTest, ASwapFolderOthersMayWriteIsRefusedUnlessSticky) {
  FakeOps ops(root.string());
  Journal j(journal, ops);
  fs::create_directories(root / "var/open");
  fs::permissions(root / "var/open", fs::perms::all);
  try {
    SwapAreaGuard g(j, ops, "/var/open", 1 << 20);
    FAIL() << "a folder writable by everyone was used";
  } catch (const SystemError& e) {
    EXPECT_NE(std::string(e.what()).find("is writable by other users (mode 0777) without the sticky bit"),
              std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(fs::is_empty(root / "var/open"));
  EXPECT_TRUE(j.pending().empty());
  fs::permissions(root / "var/open", fs::perms::all | fs::perms::sticky_bit);
  SwapAreaGuard g(j, ops, "/var/open", 1 << 20);  // /var/tmp's mode: others cannot replace root's file
  EXPECT_EQ(g.path().rfind("/var/open/swapbench-", 0), 0u);
}

// The header the suite wrote on a --swap-device is zeroed by the restore (the device is left blank,
// so the next run may use it), but only while it is still that header.
TEST_F(JournalTest, TheSuitesSwapHeaderIsZeroedAndAnyOtherLeftAlone) {
  FakeOps ops(root.string());
  fs::create_directories(root / "dev");
  std::ofstream(root / "dev/vda") << std::string(1 << 20, '\0');
  std::ofstream(root / "dev/vdb") << std::string(1 << 20, '\0');
  const std::string ours = new_swap_uuid(), theirs = new_swap_uuid();
  for (auto [dev, uuid] : {std::pair{"dev/vda", ours}, std::pair{"dev/vdb", theirs}}) {
    const int fd = ::open((root / dev).c_str(), O_RDWR);
    write_swap_header(fd, dev, 1 << 20, uuid);
    ::close(fd);
  }
  Journal j(journal, ops);
  j.record("swap_signature", "/dev/vda", "", ours);
  j.record("swap_signature", "/dev/vdb", "", ours);  // since taken by someone's own swap area
  auto r = j.restore_all_result();
  EXPECT_TRUE(r.success()) << lines_of(r.lines());
  EXPECT_TRUE(has(r.ok, "zeroed the swap header swapbench wrote on /dev/vda")) << lines_of(r.lines());
  EXPECT_TRUE(has(r.ok, "left alone: /dev/vdb no longer holds the swap area swapbench made")) << lines_of(r.lines());
  auto signature = [&](const char* dev) {
    const int fd = ::open((root / dev).c_str(), O_RDONLY);
    std::string s = device_signature(fd, dev);
    ::close(fd);
    return s;
  };
  EXPECT_EQ(signature("dev/vda"), "");
  EXPECT_NE(signature("dev/vdb").find(theirs), std::string::npos);
  JournalEntry e;
  e.op = "swap_signature";
  e.path = "/dev/vda";
  e.extra = ours;
  EXPECT_EQ(manual_undo(e), "[ \"$(blkid -p -s UUID -o value /dev/vda)\" = " + ours + " ] && wipefs -a -t swap /dev/vda");
}

TEST_F(JournalTest, AValueUnlikeTheBootValueIsWarnedAboutAndStillGivenBack) {
  FakeOps ops(root.string());
  Journal j(journal, ops);
  {
    ValueGuard first(j, ops, kPc);  // the first look this boot: 3
    EXPECT_FALSE(first.boot_warning());
  }
  ops.write(kPc, "0");  // left by a run whose restore failed
  {
    ValueGuard later(j, ops, kPc);
    ASSERT_TRUE(later.boot_warning());
    EXPECT_NE(later.boot_warning()->find("was 3 when swapbench first saw it this boot"), std::string::npos)
        << *later.boot_warning();
    EXPECT_EQ(later.original(), "0");
    later.set("1");
  }
  EXPECT_EQ(read(kPc), "0");
  ops.write("/proc/sys/kernel/random/boot_id", "99999999-0000-0000-0000-000000000000");
  ValueGuard after_reboot(j, ops, kPc);
  EXPECT_FALSE(after_reboot.boot_warning()) << "a new boot starts a new record";
}

TEST(ManualUndo, EveryOpHasACommand) {
  auto cmd = [](const std::string& op, const std::string& path, const std::string& orig = "",
                const std::string& extra = "") { return manual_undo({1, op, path, orig, extra, "", 1}); };
  EXPECT_EQ(cmd("write", "/proc/sys/vm/swappiness", "60"), "echo 60 > /proc/sys/vm/swappiness");
  EXPECT_EQ(cmd("write", "/x", "a b"), "echo 'a b' > /x");
  EXPECT_EQ(cmd("swapon", "/var/tmp/x.swap"), "swapoff /var/tmp/x.swap");
  EXPECT_EQ(cmd("mount", "/sys/kernel/debug"), "umount /sys/kernel/debug");
  EXPECT_EQ(cmd("create_file", "/var/tmp/x.swap").rfind("rm /var/tmp/x.swap", 0), 0u);
  EXPECT_NE(cmd("mkdir_cgroup", "/cg/swapbench-1", "", "/cg/cgroup.procs").find("rmdir /cg/swapbench-1"), std::string::npos);
}

TEST_F(JournalTest, TheLockNamesItsHolder) {
  auto sd = StateDir::open(dir.string(), false);
  RunLock a(*sd);
  try {
    RunLock b(*sd);
    FAIL() << "a second lock was granted";
  } catch (const SystemError& e) {
    EXPECT_NE(std::string(e.what()).find("PID " + std::to_string(getpid())), std::string::npos) << e.what();
  }
}
