// The root run trusts nothing a non-root user can write, on a fixture state folder:
// each attack as it was reproduced on /var/lib/swapbench, here on a folder of the
// test's own (tests/privileged/test_state_trust.sh repeats them on the machine's folder). Those
// that need another user (a file owned by nobody, nobody opening the lock) run only as root.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tests/unit/system_fixture.h"
#include "workloads/system/guards.h"
#include "workloads/system/journal.h"
#include "workloads/system/lock.h"
#include "workloads/system/session.h"
#include "workloads/system/state_dir.h"

using namespace swapbench;
using namespace swapbench_test;

namespace {

constexpr uid_t kNobody = 65534;

class StateTrustTest : public FakeRootTest {
 protected:
  void SetUp() override {
    FakeRootTest::SetUp();
    state = (dir / "state").string();
  }
  std::string content(const std::string& file) {
    std::ifstream f(file);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }
  unsigned mode(const std::string& p) {
    struct stat st {};
    EXPECT_EQ(lstat(p.c_str(), &st), 0) << p;
    return st.st_mode & 07777;
  }
  // The state folder as a run leaves it, with a journal of `lines` (the header first).
  void plant_journal(const std::string& lines) {
    { FakeOps ops(root.string()); Session s(ops, state); }
    std::ofstream(state + "/journal") << lines;
  }
  std::string header() {
    return R"({"swapbench_journal":2,"pid":4242,"boot_id":")" + read("/proc/sys/kernel/random/boot_id") + "\"}\n";
  }
  std::string state;
};

std::string all(const RestoreResult& r) {
  std::string s;
  for (const auto& l : r.lines()) s += l + "\n";
  return s;
}

// restore_leftovers_result with stderr captured: what reaches the terminal is checked too.
RestoreResult restore_capturing(SysOps& ops, const std::string& state, std::string* err) {
  testing::internal::CaptureStderr();
  RestoreResult r;
  try {
    r = restore_leftovers_result(ops, state);
  } catch (const std::exception& e) {
    r.failed.push_back(e.what());
  }
  *err = testing::internal::GetCapturedStderr();
  return r;
}

}  // namespace

TEST_F(StateTrustTest, TheFolderIsMade0700AndItsFiles0600) {
  FakeOps ops(root.string());
  {
    Session s(ops, state);
    ValueGuard g(s.journal(), ops, kPc);
    g.set("0");
    EXPECT_EQ(mode(state + "/journal"), 0600u);
  }
  EXPECT_EQ(mode(state), 0700u);
  EXPECT_EQ(mode(state + "/lock"), 0600u);
  EXPECT_EQ(mode(state + "/boot-values.json"), 0600u);
}

// What an older swapbench left (folder 0755, lock and boot values 0644, all ours): tightened, not
// refused, because nobody else could ever have written there.
TEST_F(StateTrustTest, AnOlderFolderOfOursIsTightenedInPlace) {
  fs::create_directories(state);
  chmod(state.c_str(), 0755);
  std::ofstream(state + "/lock") << "1\n";
  chmod((state + "/lock").c_str(), 0644);
  FakeOps ops(root.string());
  { Session s(ops, state); }
  EXPECT_EQ(mode(state), 0700u);
  EXPECT_EQ(mode(state + "/lock"), 0600u);
}

TEST_F(StateTrustTest, AFolderOthersMayWriteToIsRefusedWithTheFix) {
  fs::create_directories(state);
  chmod(state.c_str(), 0777);
  FakeOps ops(root.string());
  try {
    Session s(ops, state);
    FAIL() << "a run used a folder anyone may write to";
  } catch (const SystemError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("is writable by group and others (mode 0777)"), std::string::npos) << m;
    EXPECT_NE(m.find("chmod 0700 " + state), std::string::npos) << m;
  }
  EXPECT_EQ(mode(state), 0777u) << "refused, not repaired: anything in it may have been planted";
  EXPECT_FALSE(fs::exists(state + "/lock"));
  std::string err;
  auto r = restore_capturing(ops, state, &err);
  EXPECT_NE(all(r).find("is writable by group and others"), std::string::npos) << all(r);
}

TEST_F(StateTrustTest, AFolderThatIsALinkIsRefusedNotFollowed) {
  fs::create_directories(dir / "elsewhere");
  fs::create_directory_symlink(dir / "elsewhere", state);
  FakeOps ops(root.string());
  try {
    Session s(ops, state);
    FAIL() << "a run followed a link for its state folder";
  } catch (const SystemError& e) {
    EXPECT_NE(std::string(e.what()).find("is a symbolic link"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("rm " + state), std::string::npos) << e.what();
  }
  EXPECT_TRUE(fs::is_empty(dir / "elsewhere"));
}

TEST_F(StateTrustTest, AFolderOfAnotherUserIsRefused) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to give the folder to nobody (run the unit tests as root)";
  fs::create_directories(state);
  chmod(state.c_str(), 0700);
  ASSERT_EQ(chown(state.c_str(), kNobody, kNobody), 0);
  FakeOps ops(root.string());
  try {
    Session s(ops, state);
    FAIL() << "a run used nobody's folder";
  } catch (const SystemError& e) {
    EXPECT_NE(std::string(e.what()).find("belongs to nobody (uid 65534), not root (uid 0)"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("chown root:root " + state + " && chmod 0700 " + state), std::string::npos)
        << e.what();
  }
  auto report = inspect_state_dir(state);
  EXPECT_FALSE(report.safe);
  EXPECT_EQ(report.uid, kNobody);
}

// Item 2: `ln -s /tmp/vp /var/lib/swapbench/lock` and a plain run emptied /tmp/vp.
TEST_F(StateTrustTest, ALockThatIsALinkLeavesItsTargetAlone) {
  const std::string vp = (dir / "vp").string();
  std::ofstream(vp) << "precious\n";
  fs::create_directories(state);
  fs::create_symlink(vp, state + "/lock");
  FakeOps ops(root.string());
  try {
    Session s(ops, state);
    FAIL() << "a run took a lock that is a link";
  } catch (const SystemError& e) {
    EXPECT_NE(std::string(e.what()).find(state + "/lock is a symbolic link: refused, never followed"),
              std::string::npos)
        << e.what();
  }
  std::string err;
  auto r = restore_capturing(ops, state, &err);
  EXPECT_FALSE(r.success());
  EXPECT_EQ(content(vp), "precious\n");
  // A dangling one is not created at its target either.
  fs::remove(state + "/lock");
  fs::create_symlink((dir / "made-by-root").string(), state + "/lock");
  EXPECT_THROW(RunLock(*StateDir::open(state, false)), SystemError);
  EXPECT_FALSE(fs::exists(dir / "made-by-root"));
}

TEST_F(StateTrustTest, ALockWithASecondNameIsRefused) {
  fs::create_directories(state);
  const std::string other = (dir / "other").string();
  std::ofstream(other) << "precious\n";
  chmod(other.c_str(), 0600);
  ASSERT_EQ(link(other.c_str(), (state + "/lock").c_str()), 0);
  EXPECT_THROW(RunLock(*StateDir::open(state, false)), SystemError);
  EXPECT_EQ(content(other), "precious\n");
}

// Item 3: a journal line `write PATH VALUE` restored any path (/tmp/victim became "PWNED").
TEST_F(StateTrustTest, AWriteToAPathTheSuiteNeverChangesIsRefusedByLine) {
  fs::create_directories(root / "tmp");
  std::ofstream(root / "tmp/victim") << "untouched";
  plant_journal(header() + R"({"id":1,"op":"write","path":"/tmp/victim","original":"PWNED","extra":""})" + "\n" +
                "write /tmp/victim PWNED\n");
  FakeOps ops(root.string());
  std::string err;
  auto r = restore_capturing(ops, state, &err);
  EXPECT_EQ(content((root / "tmp/victim").string()), "untouched");
  EXPECT_FALSE(r.success());
  EXPECT_NE(all(r).find("line 2 is not a swapbench entry (a write to a path swapbench never changes)"),
            std::string::npos)
      << all(r);
  EXPECT_NE(all(r).find("line 3 is not a swapbench entry (not a JSON object)"), std::string::npos) << all(r);
  for (const std::string& s : {all(r), err, content(state + "/retired.log")}) {
    EXPECT_EQ(s.find("PWNED"), std::string::npos) << s;
    EXPECT_EQ(s.find("/tmp/victim"), std::string::npos) << s;
  }
  EXPECT_EQ(mode(state + "/retired.log"), 0600u);
}

// The same for every kind: only the suite's own changes, to the suite's own things.
TEST_F(StateTrustTest, EveryKindOutsideTheSuitesOwnIsRefused) {
  const std::string boot = read("/proc/sys/kernel/random/boot_id");
  auto entry = [&](int id, const std::string& op, const std::string& path, const std::string& orig,
                   const std::string& extra) {
    return R"({"id":)" + std::to_string(id) + R"(,"op":")" + op + R"(","path":")" + path + R"(","original":")" + orig +
           R"(","extra":")" + extra + R"(","boot":")" + boot + "\"}\n";
  };
  fs::create_directories(root / "sys/fs/cgroup/memory/process_api");
  fs::create_directories(root / "etc");
  std::ofstream(root / "etc/passwd") << "root:x:0:0\n";
  plant_journal(header() + entry(1, "write", "/proc/sys/vm/../../../etc/passwd", "x", "") +
                entry(2, "write", "/proc/sys/vm/overcommit_memory", "1", "") +
                entry(3, "write", "/proc/sys/vm/swappiness", "60 > /etc/passwd", "") +
                entry(4, "create_file", "/etc/passwd", "", "1:2:3") +
                entry(5, "mkdir_cgroup", "/sys/fs/cgroup/memory/process_api", "", "/sys/fs/cgroup/memory/cgroup.procs") +
                entry(6, "mkdir_cgroup", "/sys/fs/cgroup/memory/swapbench-9", "", "/etc/passwd") +
                entry(7, "mount", "/", "", "") + entry(8, "swapon", "/etc/passwd", "", "") +
                entry(9, "exec", "/bin/sh", "", "") + entry(10, "zram_device", "/dev/zram1/../sda", "", "1") +
                entry(11, "write", "/proc/sys/vm/swappiness", "6\\u00000", ""));
  FakeOps ops(root.string());
  std::string err;
  auto r = restore_capturing(ops, state, &err);
  for (int line = 2; line <= 12; ++line)
    EXPECT_NE(all(r).find("line " + std::to_string(line) + " is not a swapbench entry"), std::string::npos)
        << line << "\n" << all(r);
  EXPECT_TRUE(ops.calls.empty());
  EXPECT_EQ(content((root / "etc/passwd").string()), "root:x:0:0\n");
  EXPECT_TRUE(fs::exists(root / "sys/fs/cgroup/memory/process_api"));
  EXPECT_EQ(read(kPc), "3");
}

TEST_F(StateTrustTest, TheSuiteCannotRecordAnEntryItWouldNotReplay) {
  FakeOps ops(root.string());
  Session s(ops, state);
  EXPECT_THROW(s.journal().record("write", "/proc/sys/vm/overcommit_memory", "1"), SystemError);
  EXPECT_THROW(ValueGuard(s.journal(), ops, "/proc/sys/kernel/random/boot_id").set("x"), SystemError);
}

// Item 3: a journal owned by nobody with mode 0666 was accepted.
TEST_F(StateTrustTest, AJournalOthersMayWriteIsNeverRead) {
  FakeOps ops(root.string());
  plant_journal(header() + R"({"id":1,"op":"write","path":"/proc/sys/vm/page-cluster","original":"5"})" + "\n");
  chmod((state + "/journal").c_str(), 0666);
  if (geteuid() == 0) {
    ASSERT_EQ(chown((state + "/journal").c_str(), kNobody, kNobody), 0);
  }
  std::string err;
  auto r = restore_capturing(ops, state, &err);
  EXPECT_FALSE(r.success());
  EXPECT_TRUE(r.journal_refused);
  EXPECT_NE(all(r).find(geteuid() == 0 ? "belongs to nobody" : "is writable by group and others"), std::string::npos)
      << all(r);
  EXPECT_EQ(read(kPc), "3") << "nothing of it was replayed";
  EXPECT_TRUE(fs::exists(state + "/journal")) << "left for a human, not retired";
  EXPECT_FALSE(fs::exists(state + "/retired.log"));
  EXPECT_THROW(Session(ops, state), SystemError) << "no run starts on top of it";
}

// Item 3: a header without boot_id skipped the reboot check (its entries were replayed).
TEST_F(StateTrustTest, AJournalWithoutABootIsNotReplayed) {
  write(kPc, "0");
  plant_journal(R"({"swapbench_journal":2,"pid":4242})" "\n"
                R"({"id":1,"op":"write","path":"/proc/sys/vm/page-cluster","original":"3"})" "\n");
  FakeOps ops(root.string());
  try {
    Session s(ops, state);
    FAIL() << "a run started on top of a journal of an unknown boot";
  } catch (const SystemError& e) {
    EXPECT_NE(std::string(e.what()).find("the boot it was made in is unknown"), std::string::npos) << e.what();
  }
  EXPECT_EQ(read(kPc), "0") << "not replayed: after a reboot it would overwrite what was set since";
  std::string err;
  auto r = restore_capturing(ops, state, &err);
  EXPECT_FALSE(r.success());
  EXPECT_NE(all(r).find("if the machine has not rebooted since, undo it by hand: echo 3 > /proc/sys/vm/page-cluster"),
            std::string::npos)
      << all(r);
  EXPECT_EQ(read(kPc), "0");
  EXPECT_TRUE(restore_leftovers_result(ops, state).success()) << "shown once, then retired";
}

// Item 4: a journal symlinked to a 0600 file holding a shadow-style line; restore copied the line
// into retired.log (0644) and onto stderr.
TEST_F(StateTrustTest, ASecretBehindAJournalLinkReachesNoLog) {
  const std::string secret = "root:$6$Zx9Qw$S3cr3tHashNobodyMaySee:19700:0:99999:7:::";
  const std::string shadow = (dir / "shadow").string();
  std::ofstream(shadow) << secret << "\n";
  chmod(shadow.c_str(), 0600);
  FakeOps ops(root.string());
  { Session s(ops, state); }
  fs::create_symlink(shadow, state + "/journal");
  std::string err;
  auto r = restore_capturing(ops, state, &err);
  EXPECT_FALSE(r.success());
  EXPECT_NE(all(r).find(state + "/journal is a symbolic link: refused, never followed"), std::string::npos) << all(r);
  for (const std::string& s : {all(r), err, content(state + "/retired.log")})
    EXPECT_EQ(s.find("S3cr3tHash"), std::string::npos) << s;
  EXPECT_EQ(content(shadow), secret + "\n");
  EXPECT_FALSE(fs::exists(state + "/retired.log"));
  // The same line in a journal of our own (a copy, not a link) is named by number only.
  fs::remove(state + "/journal");
  std::ofstream(state + "/journal") << secret << "\n";
  r = restore_capturing(ops, state, &err);
  EXPECT_NE(all(r).find("line 1 is not a swapbench entry (not a JSON object)"), std::string::npos) << all(r);
  for (const std::string& s : {all(r), err, content(state + "/retired.log")})
    EXPECT_EQ(s.find("S3cr3tHash"), std::string::npos) << s;
  EXPECT_EQ(mode(state + "/retired.log"), 0600u);
}

TEST_F(StateTrustTest, ARetiredLogThatIsALinkIsNotWrittenThrough) {
  const std::string target = (dir / "target").string();
  std::ofstream(target) << "precious\n";
  plant_journal(header() + "garbage\n");
  fs::create_symlink(target, state + "/retired.log");
  FakeOps ops(root.string());
  std::string err;
  auto r = restore_capturing(ops, state, &err);
  EXPECT_EQ(content(target), "precious\n");
  EXPECT_NE(all(r).find("cannot retire"), std::string::npos) << all(r);
  EXPECT_TRUE(fs::exists(state + "/journal")) << "kept: it could not be retired";
}

TEST_F(StateTrustTest, BootValuesThatAreALinkAreRefused) {
  const std::string target = (dir / "target").string();
  std::ofstream(target) << "precious\n";
  FakeOps ops(root.string());
  Session s(ops, state);
  fs::create_symlink(target, state + "/boot-values.json");
  EXPECT_THROW(ValueGuard(s.journal(), ops, kPc), SystemError);
  EXPECT_EQ(content(target), "precious\n");
}

// Item 5: `runuser -u nobody -- flock -x /var/lib/swapbench/lock sleep 15` blocked root's run and
// restore. In a 0700 folder nobody cannot even open the lock.
TEST_F(StateTrustTest, NobodyCannotOpenTheLock) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to become nobody (run the unit tests as root)";
  FakeOps ops(root.string());
  { Session s(ops, state); }
  chmod(dir.c_str(), 0755);  // the folders above are open to all, as /var/lib is
  const std::string lock = state + "/lock";
  int status = in_child([&] {
    if (setresgid(kNobody, kNobody, kNobody) != 0 || setresuid(kNobody, kNobody, kNobody) != 0) _exit(2);
    int fd = ::open(lock.c_str(), O_RDONLY);
    _exit(fd < 0 && errno == EACCES ? 0 : 3);
  });
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  Session s(ops, state);  // root's own still takes it
}

TEST_F(StateTrustTest, CheckReportsTheFolder) {
  auto missing = inspect_state_dir(state);
  EXPECT_TRUE(missing.safe);
  EXPECT_FALSE(missing.exists);
  if (geteuid() != 0) GTEST_SKIP() << "the rest is about a folder of root's (run the unit tests as root)";
  FakeOps ops(root.string());
  { Session s(ops, state); }
  auto made = inspect_state_dir(state);
  EXPECT_TRUE(made.safe) << made.problem;
  EXPECT_EQ(made.mode, 0700u);
  ASSERT_EQ(made.files.size(), 1u);
  EXPECT_EQ(made.files[0], "lock 0600");
  fs::create_symlink(dir / "x", state + "/journal");
  EXPECT_NE(inspect_state_dir(state).files.at(1).find("journal is a symbolic link: refused"), std::string::npos);
  chmod(state.c_str(), 0770);
  auto open = inspect_state_dir(state);
  EXPECT_FALSE(open.safe);
  EXPECT_NE(open.fix.find("chmod 0700"), std::string::npos) << open.fix;
}
