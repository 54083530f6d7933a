// What the system layer's unit tests share: a fake sysfs root copied from a fixture into a fresh
// folder per test, and SysOps that record the privileged operations such a root cannot perform.
#pragma once
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "workloads/system/journal.h"

namespace swapbench_test {

namespace fs = std::filesystem;

// Records the privileged kernel operations a fake root cannot perform; file writes are real.
struct FakeOps : swapbench::SysOps {
  std::vector<std::string> calls;
  using SysOps::SysOps;
  void swapon(const std::string& p, int prio) override { calls.push_back("swapon " + p + " " + std::to_string(prio)); }
  void swapoff(const std::string& p) override { calls.push_back("swapoff " + p); }
  void mount_debugfs(const std::string& p) override { calls.push_back("mount " + p); }
  void umount(const std::string& p) override { calls.push_back("umount " + p); }
};

// Runs `body` in a child process and returns its wait status: how a killed run is imitated
// without leaking in this process (LeakSanitizer) or killing the test runner.
inline int in_child(const std::function<void()>& body) {
  pid_t pid = fork();
  if (pid == 0) {
    body();
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

class FakeRootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("swapbench-system-" + std::to_string(getpid()) + "-" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
    root = dir / "root";
    fs::copy(std::string(FIXTURES) + "/sysroot-v1", root, fs::copy_options::recursive);
    fs::create_directories(root / "var/tmp");
    journal = (dir / "journal").string();
  }
  void TearDown() override { fs::remove_all(dir); }
  std::string read(const std::string& abs) { return swapbench::SysOps(root.string()).read(abs); }
  void write(const std::string& abs, const std::string& v) { swapbench::SysOps(root.string()).write(abs, v); }
  // A file made under the fake root, and the identity a create_file entry keeps of it.
  std::string make_file(const std::string& abs, const std::string& content = "x") {
    std::ofstream(root.string() + abs) << content;
    return swapbench::file_identity(AT_FDCWD, root.string() + abs);
  }
  // What a run killed after setting page-cluster to 0 leaves in `file` (its restore puts back 3);
  // `more` records further entries before the kill.
  void killed_run_set_page_cluster(const std::string& file, const std::function<void(swapbench::Journal&)>& more = {}) {
    FakeOps ops(root.string());
    swapbench::Journal j(file, ops);
    j.record("write", "/proc/sys/vm/page-cluster", "3");
    ops.write("/proc/sys/vm/page-cluster", "0");
    if (more) more(j);
  }
  fs::path dir, root;
  std::string journal;
};

inline const char* kComp = "/sys/module/zswap/parameters/compressor";
inline const char* kPc = "/proc/sys/vm/page-cluster";
inline const char* kZpool = "/sys/module/zswap/parameters/zpool";  // absent from the fixtures (as on 6.18)

}  // namespace swapbench_test
