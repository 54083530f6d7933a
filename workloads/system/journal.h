// The journal of borrowed system state. Each change is recorded (and fsync'd) before it is made,
// so whatever kills the run, the next start or `swapbench restore` can put the machine back.
//
// One run, one file. A run creates its journal exclusively (header written and fsync'd under a
// temporary name, then linked into place), so no run ever appends its changes onto another run's
// record or onto a damaged tail; a restorer only appends {"done": id} markers (after closing a torn
// last line with a newline, so a marker is never glued onto garbage).
//
// Format: one JSON object per line. The header {"swapbench_journal": 2, "pid", "boot_id"} opens the
// file; {"id", "op", "path", "original", "extra", "boot"} records a change; {"done": id} says it was
// undone. ops: "write" (restore `original` into `path`), "create_file" (extra: the file_identity of
// the file created, so a file that later took the same name is never removed), "swapon",
// "mkdir_cgroup" (extra: the cgroup.procs file its tasks go back to), "mount", "zram_device" (path
// /dev/zramN, extra: its diskseq, so a device that later took the number is never touched; undone by
// swapoff, reset, hot_remove: workloads/system/zram.h), "swap_signature" (path a block device given
// by --swap-device, extra: the UUID of the swap header the suite wrote; undone by zeroing that header
// while it is still there, so the device is left blank; kept across a reboot, like a file).
//
// Trust: the file lives in the state folder (workloads/system/state_dir.h) and is opened only
// through it, so a journal that is a link, someone else's, or writable by others is never read.
// Even then, only the entries this suite writes are replayed: not_replayable() is the one
// list of them (workloads/system/journal_entry.h), checked when an entry is recorded and again when
// it is read back.
#pragma once
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "workloads/system/journal_entry.h"
#include "workloads/system/state_dir.h"
#include "workloads/system/sysroot.h"

namespace swapbench {

// What a restore did. `failed` lines each name the change and the command that undoes it by hand;
// `warnings` are what a human should know but nothing is left changed because of them.
struct RestoreResult {
  std::vector<std::string> ok, warnings, failed;
  // The journal file itself was refused (a link, someone else's, writable by others): nothing of it
  // was read, and it is left where it is for a human, never retired into retired.log.
  bool journal_refused = false;
  bool success() const { return failed.empty(); }
  bool empty() const { return ok.empty() && warnings.empty() && failed.empty(); }
  // ok lines as they are, then "FAILED: ...", then "warning: ..." (a warning may speak of the
  // failures above it).
  std::vector<std::string> lines() const;
};

class Journal {
 public:
  // `name` in the state folder `dir`.
  Journal(std::shared_ptr<const StateDir> dir, SysOps& ops, std::string name = "journal");
  // The same for a path: its folder is opened as a state folder (it must exist).
  Journal(const std::string& file, SysOps& ops);
  const std::string& file() const { return file_; }  // for messages
  const StateDir& dir() const { return *dir_; }
  // Creates the file on the first call. Throws SystemError if the file already holds another run's
  // record: it must be restored first (`swapbench restore`), never appended to.
  int record(const std::string& op, const std::string& path, const std::string& original = "",
             const std::string& extra = "");
  // Undoes one entry if still pending. Never throws: a failure is returned as text and logged,
  // with the command that undoes it by hand.
  std::string restore(int id);
  // Undoes every pending entry, newest first; removes the journal when nothing failed. Lines that
  // cannot be read are reported by number (a torn last line as a warning: its change was never
  // made). Never throws.
  RestoreResult restore_all_result();
  std::vector<std::string> restore_all() { return restore_all_result().lines(); }
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
  // only files are removed. Decided per entry (each carries its boot), the header is the fallback.
  std::string writer_boot_id() const;
  static std::string current_boot_id(const SysOps& ops);

  // A guarded value as found before a change. The first value seen for `path` in this boot is kept
  // (boot-values.json next to the journal); a later different value is returned as a warning: a
  // killed run whose restore failed, or someone else, changed it since. It is still the value the
  // guard gives back: the suite cannot know which of the two the owner wants.
  std::optional<std::string> check_original(const std::string& path, const std::string& value);

 private:
  struct Contents;
  Contents read_locked() const;
  std::string undo_locked(const JournalEntry& e);
  void create_locked();
  void append_locked(const std::string& line);
  std::shared_ptr<const StateDir> dir_;
  std::string name_, file_;
  SysOps& ops_;
  mutable std::recursive_mutex mu_;
  int next_id_ = 1;
  bool owned_ = false;  // this object created file_ (only then may it record changes into it)
  bool sealed_ = false;
};

}  // namespace swapbench
