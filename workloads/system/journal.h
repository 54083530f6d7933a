// The journal of borrowed system state. Each change is recorded (and fsync'd) before it is made,
// so whatever kills the run, the next start or `swapbench restore` can put the machine back.
//
// Format: one JSON object per line. {"id", "op", "path", "original", "extra"} records a change;
// {"done": id} says it was undone. ops: "write" (restore `original` into `path`), "create_file",
// "swapon", "mkdir_cgroup" (extra: the cgroup.procs file its tasks go back to), "mount".
#pragma once
#include <mutex>
#include <string>
#include <vector>

#include "workloads/system/sysroot.h"

namespace swapbench {

struct JournalEntry {
  int id = 0;
  std::string op, path, original, extra;
};

class Journal {
 public:
  Journal(std::string file, SysOps& ops);
  const std::string& file() const { return file_; }
  int record(const std::string& op, const std::string& path, const std::string& original = "",
             const std::string& extra = "");
  // Undoes one entry if still pending. Never throws: a failure is returned as text and logged.
  std::string restore(int id);
  // Undoes every pending entry, newest first; removes the journal when all succeeded.
  // Returns one line per action (what was restored or what failed).
  std::vector<std::string> restore_all();
  std::vector<JournalEntry> pending() const;
  // Makes one change (journal entry + the change itself) under the journal's lock, so a restore
  // started by a signal never interleaves with it, and no change follows that restore.
  template <class F>
  void change(F&& f) {
    std::lock_guard<std::recursive_mutex> l(mu_);
    if (sealed_) throw SystemError("the run is exiting: no further system changes");
    f();
  }
  // For the signal thread: takes the lock for good (the process _exits holding it), so the main
  // thread blocks at its next change instead of redoing one after the restore.
  void seal_for_exit() {
    mu_.lock();
    sealed_ = true;
  }
  int writer_pid() const;  // pid recorded in the journal's header line, 0 if none
  // The boot the journal was written in. After a reboot the kernel state it describes is already
  // back to boot values (restoring would overwrite settings made since), but files persist: then
  // only files are removed.
  std::string writer_boot_id() const;
  static std::string current_boot_id(const SysOps& ops);

 private:
  std::vector<JournalEntry> pending_locked() const;
  std::string undo_locked(const JournalEntry& e);
  void append_locked(const std::string& line);
  std::string file_;
  SysOps& ops_;
  mutable std::recursive_mutex mu_;
  int next_id_ = 1;
  bool sealed_ = false;
};

}  // namespace swapbench
