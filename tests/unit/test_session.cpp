// Sessions on a fake root: one state folder per machine, a killed run restored first, no start on
// top of changes that cannot be undone, `restore` retiring what failed after showing it once, every
// terminating signal restoring before the exit, SIGPIPE not ending the process. And the swap
// prechecks a plan runs before anything changes.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>

#include "tests/unit/system_fixture.h"
#include "workloads/system/guards.h"
#include "workloads/system/session.h"
#include "workloads/system/swap_area.h"

using namespace swapbench;
using namespace swapbench_test;

namespace {

class SessionTest : public FakeRootTest {
 protected:
  std::string state() { return (dir / "state").string(); }
  // A run that changed page-cluster and a sysctl that cannot be written back, then was killed.
  void killed_run_with_an_impossible_entry() {
    fs::create_directories(state());
    killed_run_set_page_cluster(state() + "/journal",
                                [](Journal& j) { j.record("write", kZpool, "zsmalloc"); });
  }
};

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& l : v) s += l + "\n";
  return s;
}

// A session in a child process that sets page-cluster, then receives `sig`; its wait status.
int session_signalled(const std::string& rootdir, const std::string& state, int sig) {
  return in_child([&] {
    FakeOps ops(rootdir);
    Session s(ops, state);
    ValueGuard g(s.journal(), ops, kPc);
    g.set("0");
    kill(getpid(), sig);
    sleep(10);  // the signal thread restores and exits before this ends
    _exit(99);
  });
}

}  // namespace

TEST(StateDir, RootAlwaysUsesTheMachineFolder) {
  setenv("SWAPBENCH_STATE_DIR", "/tmp/elsewhere", 1);
  if (geteuid() == 0) {
    try {
      state_dir();
      FAIL() << "a root run accepted a second state folder";
    } catch (const SystemError& e) {
      EXPECT_NE(std::string(e.what()).find("unset SWAPBENCH_STATE_DIR"), std::string::npos) << e.what();
    }
  } else {
    EXPECT_EQ(state_dir(), "/tmp/elsewhere") << "without root nothing global changes";
  }
  unsetenv("SWAPBENCH_STATE_DIR");
  EXPECT_EQ(state_dir(), kMachineStateDir);
}

TEST_F(SessionTest, TheRealMachineHasOneStateFolder) {
  SysOps real;
  try {
    Session s(real, state());
    FAIL() << "a session on the real machine used " << state();
  } catch (const SystemError& e) {
    std::string want = geteuid() == 0 ? "one lock and one journal per machine" : "needs root";
    EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(state())) << "refused before anything was made";
}

// The ordinary user's answers, checked as nobody when the tests run as root (as CI runs them), so
// that the branches above for a user who is not root are not left to whoever runs the tests so.
TEST(StateDir, AnOrdinaryUserMayNameItsOwnFolder) {
  int status = in_child([] {
    if (geteuid() == 0 && setresuid(65534, 65534, 65534) != 0) _exit(2);
    setenv("SWAPBENCH_STATE_DIR", "/tmp/elsewhere", 1);
    _exit(state_dir() == "/tmp/elsewhere" ? 0 : 3);
  });
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST_F(SessionTest, TheRealMachineNeedsRootForAnOrdinaryUser) {
  std::string dir = state();
  int status = in_child([&] {
    if (geteuid() == 0 && setresuid(65534, 65534, 65534) != 0) _exit(2);
    SysOps real;
    try {
      Session s(real, dir);
    } catch (const SystemError& e) {
      _exit(std::string(e.what()).find("needs root") != std::string::npos ? 0 : 3);
    }
    _exit(4);
  });
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_FALSE(fs::exists(dir)) << "refused before anything was made";
}

TEST_F(SessionTest, RestoreWithoutRootSaysSoPlainly) {
  int status = in_child([] {
    if (geteuid() == 0 && setresuid(65534, 65534, 65534) != 0) _exit(2);
    SysOps real;
    try {
      restore_leftovers_result(real);
    } catch (const SystemError& e) {
      _exit(std::string(e.what()).rfind("restore needs root: it undoes swapon", 0) == 0 ? 0 : 3);
    }
    _exit(4);
  });
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST_F(SessionTest, AKilledRunIsRestoredWhenTheNextStarts) {
  fs::create_directories(state());
  killed_run_set_page_cluster(state() + "/journal");
  FakeOps ops(root.string());
  Session s(ops, state());
  EXPECT_EQ(read(kPc), "3");
  ASSERT_FALSE(s.recovered().empty());
  EXPECT_EQ(s.recovered()[0], "restoring what an earlier run (PID " + std::to_string(getpid()) + ") left changed:");
}

TEST_F(SessionTest, NoStartOnTopOfChangesThatCannotBeUndoneAndRestoreRetiresThemOnce) {
  killed_run_with_an_impossible_entry();
  FakeOps ops(root.string());
  try {
    Session s(ops, state());
    FAIL() << "a run started on top of an unrestored entry";
  } catch (const SystemError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find(std::string("echo zsmalloc > ") + kZpool), std::string::npos) << m;
    EXPECT_NE(m.find("./swapbench restore"), std::string::npos) << m;
  }
  EXPECT_EQ(read(kPc), "3") << "what could be restored was";

  auto r = restore_leftovers_result(ops, state());
  EXPECT_FALSE(r.success()) << "restore must exit non-zero";
  EXPECT_NE(joined(r.failed).find(std::string("by hand: echo zsmalloc > ") + kZpool), std::string::npos)
      << joined(r.lines());
  EXPECT_NE(joined(r.warnings).find("retired.log"), std::string::npos) << joined(r.lines());
  EXPECT_TRUE(fs::exists(state() + "/retired.log"));

  auto again = restore_leftovers_result(ops, state());
  EXPECT_TRUE(again.success()) << joined(again.lines());
  EXPECT_EQ(again.lines(), std::vector<std::string>{"nothing to restore: no run left changes behind"});
  Session s(ops, state());  // starts now
}

TEST_F(SessionTest, AGarbageJournalIsNeverNothingToRestore) {
  fs::create_directories(state());
  std::ofstream(state() + "/journal") << "garbage\n";
  FakeOps ops(root.string());
  auto r = restore_leftovers_result(ops, state());
  EXPECT_FALSE(r.success());
  EXPECT_EQ(joined(r.lines()).find("nothing to restore"), std::string::npos) << joined(r.lines());
  EXPECT_NE(joined(r.failed).find("line 1 is not a swapbench entry (not a JSON object)"), std::string::npos)
      << joined(r.lines());
}

TEST_F(SessionTest, EveryTerminatingSignalRestoresThenExitsWith128PlusIt) {
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGXCPU, SIGIO, SIGPWR, SIGRTMIN + 2,
                  SIGRTMAX}) {
    int status = session_signalled(root.string(), state(), sig);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 128 + sig) << strsignal(sig) << ": status " << status;
    EXPECT_EQ(read(kPc), "3") << strsignal(sig);
    EXPECT_FALSE(fs::exists(state() + "/journal")) << strsignal(sig);
  }
}

TEST_F(SessionTest, SigpipeDoesNotEndARun) {
  int status = in_child([&] {
    FakeOps ops(root.string());
    Session s(ops, state());
    int p[2];
    if (pipe(p) != 0) _exit(2);
    ::close(p[0]);
    bool epipe = ::write(p[1], "x", 1) < 0 && errno == EPIPE;
    _exit(epipe ? 0 : 3);
  });
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST_F(SessionTest, NoExitIsRequestedWithoutASignal) {
  FakeOps ops(root.string());
  Session s(ops, state());
  EXPECT_FALSE(exit_requested());
}

TEST_F(SessionTest, SwapDirProblemsAreFoundBeforeAnythingChanges) {
  auto missing = swap_dir_problem((dir / "nope").string(), 1 << 20);
  ASSERT_TRUE(missing);
  EXPECT_NE(missing->find("No such file or directory"), std::string::npos) << *missing;
  make_file("/file");
  auto file = swap_dir_problem((root / "file").string(), 1 << 20);
  ASSERT_TRUE(file);
  EXPECT_NE(file->find("is not a folder"), std::string::npos) << *file;
  auto huge = swap_dir_problem(dir.string(), 1ull << 60);
  ASSERT_TRUE(huge);
  EXPECT_TRUE(huge->find("free; a ") != std::string::npos || huge->find("tmpfs") != std::string::npos) << *huge;
  auto fine = swap_dir_problem(dir.string(), 1 << 20);
  EXPECT_TRUE(!fine || fine->find("tmpfs") != std::string::npos) << *fine;
  if (geteuid() != 0) {  // root may write anywhere
    fs::permissions(dir, fs::perms::owner_read | fs::perms::owner_exec);
    auto ro = swap_dir_problem(dir.string(), 1 << 20);
    fs::permissions(dir, fs::perms::owner_all);
    ASSERT_TRUE(ro);
    EXPECT_NE(ro->find("not writable"), std::string::npos) << *ro;
  }
}

TEST_F(SessionTest, SwapDeviceProblemsAreFoundBeforeAnythingChanges) {
  auto chr = swap_device_problem("/dev/null", 1 << 20);
  ASSERT_TRUE(chr);
  EXPECT_NE(chr->find("/dev/null is not a block device"), std::string::npos) << *chr;
  auto missing = swap_device_problem("/dev/swapbench-no-such-disk", 1 << 20);
  ASSERT_TRUE(missing);
  EXPECT_NE(missing->find("No such file"), std::string::npos) << *missing;
}
