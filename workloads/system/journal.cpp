#include "workloads/system/journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "workloads/system/swap_area.h"
#include "workloads/system/zram.h"

namespace swapbench {

using nlohmann::json;

namespace {

constexpr int kFormat = 2;

bool is_swap_area(const SysOps& ops, const std::string& path) {
  try {
    for (const auto& a : read_swaps(ops))
      if (a.path == path) return true;
  } catch (const SystemError&) {  // no /proc/swaps (a fake root): nothing is swapped on there
  }
  return false;
}

}  // namespace

std::vector<std::string> RestoreResult::lines() const {
  std::vector<std::string> out = ok;
  for (const auto& f : failed) out.push_back("FAILED: " + f);
  for (const auto& w : warnings) out.push_back("warning: " + w);
  return out;
}

struct Journal::Contents : JournalLines {
  bool exists = false;
};

Journal::Journal(std::shared_ptr<const StateDir> dir, SysOps& ops, std::string name)
    : dir_(std::move(dir)), name_(std::move(name)), file_(dir_->where(name_)), ops_(ops) {}

namespace {
std::shared_ptr<const StateDir> existing_state_dir(const std::string& d) {
  auto sd = StateDir::open(d, false);
  if (!sd) throw SystemError("the state folder " + d + " does not exist");
  return sd;
}
}  // namespace

Journal::Journal(const std::string& file, SysOps& ops) : Journal(existing_state_dir(dir_of(file)), ops, base_of(file)) {}

Journal::Contents Journal::read_locked() const {
  Contents c;
  // Opened through the state folder: a link, someone else's file or one others may write is
  // refused (SystemError) before a byte is read, so none of it can reach a message or a log.
  int fd = dir_->open_file(name_, O_RDONLY);
  if (fd < 0) {
    if (errno != ENOENT) throw SystemError("cannot read the journal " + file_ + ": " + std::strerror(errno));
    return c;
  }
  c.exists = true;
  std::string text;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  int err = errno;
  ::close(fd);
  if (n < 0) throw SystemError("cannot read the journal " + file_ + ": " + std::strerror(err));
  static_cast<JournalLines&>(c) = read_journal_lines(text, ops_);
  return c;
}

void Journal::create_locked() {
  // Written under a temporary name and linked into place: the journal a restorer finds always
  // has its header, and link() refuses to replace a file another run left (no append onto it).
  const std::string tmp = name_ + ".new";
  dir_->remove(tmp);  // a start killed before its link: only a header, nothing recorded
  int fd = dir_->open_file(tmp, O_WRONLY | O_CREAT | O_EXCL);
  if (fd < 0) throw SystemError("cannot create the journal " + dir_->where(tmp) + ": " + std::strerror(errno));
  std::string head = json{{"swapbench_journal", kFormat}, {"pid", getpid()}, {"boot_id", current_boot_id(ops_)}}.dump() + "\n";
  bool ok = ::write(fd, head.data(), head.size()) == static_cast<ssize_t>(head.size()) && fsync(fd) == 0;
  int err = errno;
  ::close(fd);
  if (ok && !dir_->link(tmp, name_)) {
    ok = false;
    err = errno;
  }
  dir_->remove(tmp);
  if (!ok && err == EEXIST)
    throw SystemError("the journal " + file_ + " holds the record of another run (PID " + std::to_string(writer_pid()) +
                      "): it is restored, never appended to (run ./swapbench restore)");
  if (!ok) throw SystemError("cannot create the journal " + file_ + ": " + std::strerror(err));
  dir_->sync();  // the new name must survive a crash as much as the entries in it
  owned_ = true;
  next_id_ = 1;
}

void Journal::append_locked(const std::string& line) {
  int fd = dir_->open_file(name_, O_RDWR | O_APPEND);
  if (fd < 0) throw SystemError("cannot write the journal " + file_ + ": " + std::strerror(errno));
  std::string text = line + "\n";
  struct stat st {};
  char last = '\n';
  // A torn last line is closed first, so this line stays readable on its own.
  if (fstat(fd, &st) == 0 && st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n')
    text = "\n" + text;
  ssize_t n = ::write(fd, text.data(), text.size());
  // fsync: the entry must be on disk before the change it describes is made.
  int rc = fsync(fd);
  int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size()) || rc != 0)
    throw SystemError("cannot write the journal " + file_ + ": " + std::strerror(n < 0 || rc != 0 ? err : ENOSPC));
}

int Journal::record(const std::string& op, const std::string& path, const std::string& original,
                    const std::string& extra) {
  std::lock_guard<std::recursive_mutex> l(mu_);
  // Checked here too, so a guard added without its place in not_replayable() fails the first time
  // it runs, not in a restore after a crash.
  if (auto why = not_replayable({0, op, path, original, extra, "", 0}, ops_))
    throw SystemError("swapbench would journal " + op + " " + path + ", " + *why +
                      ": a restore would refuse it (add it to not_replayable in workloads/system/journal.cpp)");
  if (!owned_) create_locked();
  int id = next_id_++;
  append_locked(json{{"id", id}, {"op", op}, {"path", path}, {"original", original}, {"extra", extra},
                     {"boot", current_boot_id(ops_)}}
                    .dump());
  return id;
}

int Journal::writer_pid() const {
  std::lock_guard<std::recursive_mutex> l(mu_);
  try {
    return read_locked().pid;
  } catch (const SystemError&) {  // a refused or unreadable journal: restore_all_result says why
    return 0;
  }
}

std::string Journal::writer_boot_id() const {
  std::lock_guard<std::recursive_mutex> l(mu_);
  try {
    return read_locked().boot_id;
  } catch (const SystemError&) {
    return "";
  }
}

std::string Journal::current_boot_id(const SysOps& ops) {
  try {
    return ops.read("/proc/sys/kernel/random/boot_id");
  } catch (const SystemError&) {
    return "";
  }
}

std::vector<JournalEntry> Journal::pending() const {
  std::lock_guard<std::recursive_mutex> l(mu_);
  return read_locked().pending;
}

std::string Journal::undo_locked(const JournalEntry& e) {
  if (e.op == "write") {
    ops_.write(e.path, e.original);
    return "restored " + e.path + " = " + e.original;
  }
  if (e.op == "create_file") {
    const std::string now = file_identity(AT_FDCWD, ops_.at(e.path));
    if (now.empty()) {
      if (errno == ENOENT || errno == ENOTDIR) return "already gone: " + e.path;
      throw SystemError("cannot look at " + e.path + ": " + std::strerror(errno));
    }
    if (e.extra.empty())
      throw SystemError("not removed: an older swapbench recorded " + e.path +
                        " before creating it, so it may be a file swapbench did not make");
    if (now != e.extra)
      return "left alone: " + e.path + " is no longer the file swapbench created (another file took its name)";
    if (is_swap_area(ops_, e.path)) throw SystemError(e.path + " is still a swap area (swapoff failed above?)");
    ops_.unlink(e.path);
    return "removed " + e.path;
  }
  if (e.op == "swapon") {
    ops_.swapoff(e.path);
    return "swapoff " + e.path;
  }
  if (e.op == "mount") {
    ops_.umount(e.path);
    return "unmounted " + e.path;
  }
  if (e.op == "mkdir_cgroup") {
    // Our own tasks (if this process is still alive) go back where they came from first:
    // a cgroup with tasks cannot be removed.
    if (ops_.exists(e.path + "/cgroup.procs")) {
      std::istringstream procs(ops_.read(e.path + "/cgroup.procs"));
      std::string pid;
      while (procs >> pid) {
        try {
          ops_.write(e.extra, pid);
        } catch (const SystemError&) {  // the task may have exited meanwhile
        }
      }
    }
    ops_.rmdir(e.path);
    return "removed cgroup " + e.path;
  }
  if (e.op == "zram_device") return undo_zram_device(ops_, e.path, e.extra);
  if (e.op == "swap_signature") return erase_swap_signature(ops_, e.path, e.extra);
  throw SystemError("journal entry " + std::to_string(e.id) + " has unknown op '" + e.op + "'");
}

std::string Journal::restore(int id) {
  std::lock_guard<std::recursive_mutex> l(mu_);
  try {
    for (const auto& e : read_locked().pending) {
      if (e.id != id) continue;
      try {
        std::string what = undo_locked(e);
        append_locked(json{{"done", id}}.dump());
        return what;
      } catch (const std::exception& ex) {
        std::string msg = "swapbench: could not " + describe(e) + ": " + ex.what() + "; by hand: " + manual_undo(e) +
                          " (the end of the run and ./swapbench restore try again)";
        std::cerr << msg << "\n";
        return msg;
      }
    }
  } catch (const std::exception& ex) {  // the journal itself unreadable: restore_all reports it
    std::cerr << "swapbench: " << ex.what() << "\n";
    return ex.what();
  }
  return {};
}

RestoreResult Journal::restore_all_result() {
  std::lock_guard<std::recursive_mutex> l(mu_);
  RestoreResult r;
  Contents c;
  try {
    c = read_locked();
  } catch (const std::exception& ex) {
    r.failed.push_back(std::string("the journal was not read: ") + ex.what() +
                       "; what it recorded, if anything, is not undone: compare the machine with `./swapbench check` "
                       "and /proc/swaps");
    r.journal_refused = true;
    return r;
  }
  if (!c.exists) return r;
  const std::string check = "; what it recorded, if anything, is not undone: compare the machine with "
                            "`./swapbench check` and /proc/swaps, and undo what swapbench left by hand";
  if (c.empty) r.failed.push_back("the journal " + file_ + " is empty (the file was cut)" + check);
  for (const auto& d : c.damaged) r.failed.push_back("the journal " + file_ + ": " + d + ", not replayed" + check);
  if (c.torn)
    r.warnings.push_back("the journal " + file_ + " ends in a cut-short line " + std::to_string(c.torn) +
                         ": a run killed while writing it never made that change; if the file was cut "
                         "instead, later changes are lost: compare the machine with `./swapbench check`");
  const std::string now = current_boot_id(ops_);
  for (auto it = c.pending.rbegin(); it != c.pending.rend(); ++it) {
    const JournalEntry& e = *it;
    try {
      if (e.op == "create_file" || e.op == "swap_signature") {
        // Undone in any boot: only while it is still the very file created (its identity), or the
        // very header written (its UUID).
        r.ok.push_back(undo_locked(e));
      } else if (e.boot_id.empty() || now.empty()) {
        // No boot named by the entry nor its header (this suite always writes both): replayed, a
        // change from before a reboot would overwrite what was set since; skipped, a change of
        // this boot would stay made without a word. Neither: it fails, with its command, and
        // restore shows it once and retires it.
        r.failed.push_back(describe(e) + " (journal line " + std::to_string(e.line) +
                           "): not replayed: the boot it was made in is unknown (no boot_id in the journal); if the "
                           "machine has not rebooted since, undo it by hand: " + manual_undo(e));
        continue;
      } else if (e.boot_id != now) {
        r.ok.push_back("skipped (the machine rebooted since; the kernel is back to its boot state): " + e.op + " " + e.path);
      } else {
        r.ok.push_back(undo_locked(e));
      }
    } catch (const std::exception& ex) {
      r.failed.push_back(describe(e) + " (journal line " + std::to_string(e.line) + "): " + ex.what() +
                         "; by hand: " + manual_undo(e));
      continue;
    }
    try {
      append_locked(json{{"done", e.id}}.dump());
    } catch (const std::exception& ex) {
      r.warnings.push_back(std::string(ex.what()) + ": '" + r.ok.back() + "' is done but not marked done");
    }
  }
  if (r.failed.empty()) {
    try {
      dir_->remove(name_);
    } catch (const SystemError& ex) {
      r.warnings.push_back(ex.what());
    }
    owned_ = false;
  }
  return r;
}

std::optional<std::string> Journal::check_original(const std::string& path, const std::string& value) {
  std::lock_guard<std::recursive_mutex> l(mu_);
  const std::string name = "boot-values.json", tmp = name + ".new";
  const std::string boot = current_boot_id(ops_);
  json doc;
  int fd = dir_->open_file(name, O_RDONLY);  // a link or another's file: SystemError, the guard fails
  if (fd >= 0) {
    std::string text;
    char buf[8192];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
    ::close(fd);
    doc = json::parse(text, nullptr, false);
  }
  // A different boot, or a damaged file: the values as found now are the first seen this boot.
  if (!doc.is_object() || !doc.contains("boot_id") || doc["boot_id"] != boot || !doc.contains("values") ||
      !doc["values"].is_object())
    doc = json{{"boot_id", boot}, {"values", json::object()}};
  json& v = doc["values"];
  // Repeated in a warning only when it looks like a value the suite read (a short token).
  if (v.contains(path) && v[path].is_string() && v[path].get<std::string>().size() <= 64 &&
      made_of(v[path].get<std::string>(), "._-")) {
    const std::string first = v[path].get<std::string>();
    if (first == value) return std::nullopt;
    return path + " is " + value + ", but was " + first +
           " when swapbench first saw it this boot: something changed it since (a killed run whose restore "
           "failed, or someone else); " + value + " is taken as the value to give back (to return to the boot "
           "value afterwards: echo " + shell_quote(first) + " > " + path + ")";
  }
  v[path] = value;
  // Written whole under a new name, then renamed over: a reader never sees half a file.
  dir_->remove(tmp);
  fd = dir_->open_file(tmp, O_WRONLY | O_CREAT | O_EXCL);
  if (fd < 0) return "cannot keep the boot values in " + dir_->where(tmp) + ": " + std::strerror(errno);
  const std::string text = doc.dump(1) + "\n";
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  int err = errno;
  ::close(fd);
  if (!ok) return "cannot keep the boot values in " + dir_->where(tmp) + ": " + std::strerror(err);
  try {
    dir_->replace(tmp, name);
  } catch (const SystemError& ex) {
    return std::string("cannot keep the boot values: ") + ex.what();
  }
  return std::nullopt;
}

}  // namespace swapbench
