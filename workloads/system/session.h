// A privileged session: the run lock, the journal (with leftovers of a killed run restored first),
// and a thread that turns every terminating signal into a full restore before the process exits.
#pragma once
#include <signal.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "workloads/system/journal.h"
#include "workloads/system/lock.h"
#include "workloads/system/state_dir.h"

namespace swapbench {

// /var/lib, not /run: the swap file a killed run leaves must still be found after a reboot.
constexpr const char* kMachineStateDir = "/var/lib/swapbench";

// Where the lock and journal live: kMachineStateDir for root, whatever the environment says. The
// folder is root's alone (0700) and its files are opened without following links, checked for
// owner and mode first (workloads/system/state_dir.h): whoever else could put a file there could
// have root truncate what it points to, replay changes of their choosing, or block every run.
// SWAPBENCH_STATE_DIR is honoured only without root, where nothing global can change; as root it
// is refused (SystemError) rather than ignored, so whoever set it learns it has no effect there.
std::string state_dir();

// True once a terminating signal (or a crash) has arrived: set before the restore begins, so a
// timing loop still running on another thread can stop calling its sets valid.
bool exit_requested();

class Session {
 public:
  // On the real machine (ops.root() "/") this needs root and kMachineStateDir: one lock and one
  // journal per machine. A fake root (unit tests) may use any folder. Throws SystemError when an
  // earlier run's changes cannot all be undone (the run must not start on top of them), and when
  // the state folder or a file in it is not safe to use (StateDir says why and the fix).
  explicit Session(SysOps& ops, const std::string& dir = state_dir());
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  Journal& journal() { return *journal_; }
  SysOps& ops() { return ops_; }
  const std::vector<std::string>& recovered() const { return recovered_; }

 private:
  void watch_signals();
  SysOps& ops_;
  std::shared_ptr<StateDir> dir_;
  std::unique_ptr<RunLock> lock_;
  std::unique_ptr<Journal> journal_;
  std::vector<std::string> recovered_;
  bool real_machine_ = false;
  int signal_fd_ = -1, stop_fd_ = -1;
  sigset_t old_mask_{};
  std::thread signals_;
};

// `swapbench restore`: takes the lock (refused while a run is alive), undoes a dead run's changes,
// and exits non-zero where result.success() is false. What cannot be undone is shown once with the
// command that undoes it by hand, then retired (kept in <dir>/retired.log, never retried), so one
// impossible entry does not make every later run and restore fail. A journal refused unread (a
// link, someone else's, writable by others) is left for a human instead. Without root on the real
// machine: SystemError saying restore needs root.
RestoreResult restore_leftovers_result(SysOps& ops, const std::string& dir = state_dir());
// The same as lines when everything was restored; otherwise throws SystemError holding every line
// (so a caller that prints lines and exits 1 on an exception exits 1 when anything failed).
std::vector<std::string> restore_leftovers(SysOps& ops, const std::string& dir = state_dir());

}  // namespace swapbench
