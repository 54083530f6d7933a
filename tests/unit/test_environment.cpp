// bench/environment.h: which folders named by the environment a run as root writes into.
// The ownership cases need root (chown); as an ordinary user they are skipped.
#include "bench/environment.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace {

struct Tree {
  std::string dir;
  Tree() {
    char t[] = "/tmp/swapbench-env.XXXXXX";
    dir = mkdtemp(t);  // root's, 0700, under the sticky /tmp
  }
  ~Tree() { std::system(("rm -rf '" + dir + "'").c_str()); }
};

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(Environment, RootsOwnFolderUnderTmpIsTakenTmpItselfIsNot) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (the files made here are root's only then)";
  Tree t;
  ASSERT_EQ(mkdir((t.dir + "/results").c_str(), 0755), 0);
  EXPECT_EQ(swapbench::untrusted_reason(t.dir + "/results", swapbench::PathKind::folder), "");
  EXPECT_EQ(swapbench::untrusted_reason(t.dir + "/not/yet", swapbench::PathKind::folder), "");
  // Directly in /tmp, even root's own: the name is anyone's whenever root's folder is not there.
  EXPECT_TRUE(has(swapbench::untrusted_reason(t.dir, swapbench::PathKind::folder), "/tmp is writable"));
  EXPECT_TRUE(has(swapbench::untrusted_reason("/tmp", swapbench::PathKind::folder), "/tmp is writable by group and others"));
  EXPECT_TRUE(has(swapbench::untrusted_reason("/tmp/swapbench-no-such/x", swapbench::PathKind::folder),
                  "others could create it first"));
  EXPECT_EQ(swapbench::untrusted_reason("/usr/bin/env", swapbench::PathKind::program), "");
  EXPECT_TRUE(has(swapbench::untrusted_reason("/usr/bin", swapbench::PathKind::program), "not a regular file"));
}

TEST(Environment, AnotherUsersOrAWritableFolderIsRefused) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  Tree t;
  ASSERT_EQ(mkdir((t.dir + "/a").c_str(), 0755), 0);
  ASSERT_EQ(chown((t.dir + "/a").c_str(), 65534, 65534), 0);
  EXPECT_TRUE(has(swapbench::untrusted_reason(t.dir + "/a/b", swapbench::PathKind::folder), "belongs to nobody"));
  ASSERT_EQ(mkdir((t.dir + "/w").c_str(), 0755), 0);
  ASSERT_EQ(chmod((t.dir + "/w").c_str(), 0775), 0);
  EXPECT_TRUE(has(swapbench::untrusted_reason(t.dir + "/w", swapbench::PathKind::folder), "writable by group (mode 0775)"));
  ASSERT_EQ(symlink("/tmp", (t.dir + "/l").c_str()), 0);
  EXPECT_TRUE(has(swapbench::untrusted_reason(t.dir + "/l", swapbench::PathKind::folder), "/tmp is writable"));
}

TEST(Environment, RootRunRefusesTheTwinsButNotTheFlag) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (the refusal is for root runs)";
  unsetenv("SWAPBENCH_RESULTS_DIR");
  unsetenv("SWAPBENCH_SWAP_DIR");
  setenv("SWAPBENCH_OUT", "/tmp/swapbench-result.json", 1);
  const std::string why = swapbench::root_environment_problem({"run"});
  EXPECT_TRUE(has(why, "SWAPBENCH_OUT=/tmp/swapbench-result.json: /tmp is writable")) << why;
  EXPECT_TRUE(has(why, "give --out on the command line")) << why;
  EXPECT_EQ(swapbench::root_environment_problem({"run", "--out", "/tmp/x.json"}), "");  // the flag wins
  unsetenv("SWAPBENCH_OUT");
  setenv("SWAPBENCH_SWAP_DIR", "/var/tmp", 1);
  EXPECT_TRUE(has(swapbench::root_environment_problem({"run"}), "SWAPBENCH_SWAP_DIR=/var/tmp"));
  unsetenv("SWAPBENCH_SWAP_DIR");
  EXPECT_EQ(swapbench::root_environment_problem({"run"}), "");
}

}  // namespace
