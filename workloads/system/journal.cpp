#include "workloads/system/journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "workloads/system/swap_area.h"
#include "workloads/system/zram.h"

namespace swapbench {

using nlohmann::json;

namespace {

constexpr int kFormat = 2;

std::string shell_quote(const std::string& s) {
  bool plain = !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) || std::strchr("_./:=@%+,-", c);
  });
  if (plain) return s;
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// What an entry changed, in the words of its undo, for messages.
std::string describe(const JournalEntry& e) {
  if (e.op == "write") return "restore " + e.path + " = " + e.original;
  if (e.op == "create_file") return "remove " + e.path;
  if (e.op == "swapon") return "swapoff " + e.path;
  if (e.op == "mount") return "unmount " + e.path;
  if (e.op == "mkdir_cgroup") return "remove cgroup " + e.path;
  if (e.op == "zram_device") return "remove zram device " + e.path;
  if (e.op == "swap_signature") return "zero the swap header swapbench wrote on " + e.path;
  return "undo '" + e.op + "' on " + e.path;
}

std::string excerpt(const std::string& line) {
  std::string s;
  for (char c : line.substr(0, 80)) s += (c >= 32 && c < 127) ? c : '?';
  return "'" + s + (line.size() > 80 ? "...'" : "'");
}

std::string dir_of(const std::string& file) {
  auto slash = file.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : file.substr(0, slash);
}

bool is_swap_area(const SysOps& ops, const std::string& path) {
  try {
    for (const auto& a : read_swaps(ops))
      if (a.path == path) return true;
  } catch (const SystemError&) {  // no /proc/swaps (a fake root): nothing is swapped on there
  }
  return false;
}

// Only the types the journal itself writes are accepted; anything else is damage, reported by line
// (a raw library exception would stop the restore of every other entry).
std::optional<std::string> wrong_field(const json& j) {
  if (!j["id"].is_number_integer()) return std::string("'id' is not a whole number");
  for (const char* k : {"op", "path"})
    if (!j.contains(k) || !j[k].is_string()) return std::string("'") + k + "' is missing or not text";
  for (const char* k : {"original", "extra", "boot"})
    if (j.contains(k) && !j[k].is_string()) return std::string("'") + k + "' is not text";
  return std::nullopt;
}

}  // namespace

std::string file_identity(int dirfd, const std::string& path) {
  struct statx sx {};
  int flags = AT_SYMLINK_NOFOLLOW | (path.empty() ? AT_EMPTY_PATH : 0);
  if (statx(dirfd, path.c_str(), flags, STATX_INO | STATX_BTIME, &sx) != 0) return "";
  std::string id = std::to_string(sx.stx_dev_major) + ":" + std::to_string(sx.stx_dev_minor) + ":" +
                   std::to_string(sx.stx_ino);
  if (sx.stx_mask & STATX_BTIME)
    id += ":" + std::to_string(sx.stx_btime.tv_sec) + "." + std::to_string(sx.stx_btime.tv_nsec);
  return id;
}

std::string manual_undo(const JournalEntry& e) {
  const std::string p = shell_quote(e.path);
  if (e.op == "write") return "echo " + shell_quote(e.original) + " > " + p;
  if (e.op == "create_file") return "rm " + p + " (if it is still the swap file swapbench made)";
  if (e.op == "swapon") return "swapoff " + p;
  if (e.op == "mount") return "umount " + p;
  if (e.op == "mkdir_cgroup")
    return "for t in $(cat " + p + "/cgroup.procs); do echo $t > " + shell_quote(e.extra) + "; done; rmdir " + p;
  if (e.op == "zram_device") return zram_manual_undo(e.path, e.extra);
  if (e.op == "swap_signature")
    return "[ \"$(blkid -p -s UUID -o value " + p + ")\" = " + shell_quote(e.extra) + " ] && wipefs -a -t swap " + p;
  return "undo '" + e.op + "' on " + p + " by hand (this swapbench does not know that change)";
}

std::vector<std::string> RestoreResult::lines() const {
  std::vector<std::string> out = ok;
  for (const auto& f : failed) out.push_back("FAILED: " + f);
  for (const auto& w : warnings) out.push_back("warning: " + w);
  return out;
}

struct Journal::Contents {
  bool exists = false, empty = false;
  int pid = 0;
  std::string boot_id;               // the first header's
  std::vector<JournalEntry> pending;  // in file order
  std::vector<std::string> damaged;  // "line N: why: 'text'"
  std::string torn;                  // the cut-short last line, described; "" if none
};

Journal::Journal(std::string file, SysOps& ops) : file_(std::move(file)), ops_(ops) {}

Journal::Contents Journal::read_locked() const {
  Contents c;
  std::ifstream f(file_, std::ios::binary);
  if (!f) {
    if (errno != ENOENT) {
      c.exists = true;
      c.damaged.push_back("cannot be read (" + std::string(std::strerror(errno)) + ")");
    }
    return c;
  }
  c.exists = true;
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string text = ss.str();
  c.empty = text.empty();
  std::vector<JournalEntry> all;
  std::set<int> done;
  std::string boot;  // of the header the lines below stand under
  struct Bad {
    int n;
    std::string why, text;
  };
  std::vector<Bad> bad;
  int last_record = 0;  // the line of the last change or header
  std::istringstream in(text);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    auto j = json::parse(line, nullptr, false);
    std::optional<std::string> why;
    if (!j.is_object()) {
      why = "not a JSON object";
    } else if (j.contains("done")) {
      if (j["done"].is_number_integer()) done.insert(j["done"].get<int>());
      else why = "'done' is not a whole number";
    } else if (j.contains("id")) {
      why = wrong_field(j);
      if (!why)
        all.push_back({j["id"].get<int>(), j["op"].get<std::string>(), j["path"].get<std::string>(),
                       j.value("original", ""), j.value("extra", ""), j.value("boot", boot), n});
    } else if (j.contains("pid") || j.contains("swapbench_journal")) {
      boot = j.contains("boot_id") && j["boot_id"].is_string() ? j["boot_id"].get<std::string>() : "";
      if (c.pid == 0 && c.boot_id.empty()) {
        c.pid = j.contains("pid") && j["pid"].is_number_integer() ? j["pid"].get<int>() : 0;
        c.boot_id = boot;
      }
    } else {
      why = "neither a change, a header nor a done marker";
    }
    if (why) bad.push_back({n, *why, line});
    else if (!j.contains("done")) last_record = n;
  }
  // A writer killed inside write() leaves its last line cut short, and that change was never made
  // (the entry is fsync'd before the change). Such a line starts like an object and has no change
  // after it (restorers only append done markers). Any other unreadable line is damage.
  if (!bad.empty() && bad.back().n > last_record && bad.back().text[0] == '{' && bad.back().why == "not a JSON object") {
    c.torn = "line " + std::to_string(bad.back().n) + " " + excerpt(bad.back().text);
    bad.pop_back();
  }
  for (const auto& b : bad) c.damaged.push_back("line " + std::to_string(b.n) + ": " + b.why + ": " + excerpt(b.text));
  for (auto& e : all)
    if (!done.count(e.id)) c.pending.push_back(e);
  return c;
}

void Journal::create_locked() {
  // Written under a temporary name and linked into place: the journal a restorer finds always
  // has its header, and link() refuses to replace a file another run left (no append onto it).
  const std::string tmp = file_ + ".new";
  ::unlink(tmp.c_str());  // a start killed before its link: only a header, nothing recorded
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw SystemError("cannot create the journal " + tmp + ": " + std::strerror(errno));
  std::string head = json{{"swapbench_journal", kFormat}, {"pid", getpid()}, {"boot_id", current_boot_id(ops_)}}.dump() + "\n";
  bool ok = ::write(fd, head.data(), head.size()) == static_cast<ssize_t>(head.size()) && fsync(fd) == 0;
  int err = errno;
  ::close(fd);
  if (ok && ::link(tmp.c_str(), file_.c_str()) != 0) {
    ok = false;
    err = errno;
  }
  ::unlink(tmp.c_str());
  if (!ok && err == EEXIST)
    throw SystemError("the journal " + file_ + " holds the record of another run (PID " + std::to_string(writer_pid()) +
                      "): it is restored, never appended to (run ./swapbench restore)");
  if (!ok) throw SystemError("cannot create the journal " + file_ + ": " + std::strerror(err));
  // The new name must survive a crash as much as the entries in it.
  int dfd = ::open(dir_of(file_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    ::close(dfd);
  }
  owned_ = true;
  next_id_ = 1;
}

void Journal::append_locked(const std::string& line) {
  int fd = ::open(file_.c_str(), O_RDWR | O_APPEND | O_CLOEXEC);
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
  if (!owned_) create_locked();
  int id = next_id_++;
  append_locked(json{{"id", id}, {"op", op}, {"path", path}, {"original", original}, {"extra", extra},
                     {"boot", current_boot_id(ops_)}}
                    .dump());
  return id;
}

int Journal::writer_pid() const {
  std::lock_guard<std::recursive_mutex> l(mu_);
  return read_locked().pid;
}

std::string Journal::writer_boot_id() const {
  std::lock_guard<std::recursive_mutex> l(mu_);
  return read_locked().boot_id;
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
    r.failed.push_back("cannot read the journal " + file_ + ": " + ex.what());
    return r;
  }
  if (!c.exists) return r;
  const std::string check = "; what it recorded, if anything, is not undone: compare the machine with "
                            "`./swapbench check` and /proc/swaps, and undo what swapbench left by hand";
  if (c.empty) r.failed.push_back("the journal " + file_ + " is empty (the file was cut)" + check);
  for (const auto& d : c.damaged) r.failed.push_back("the journal " + file_ + ", " + d + check);
  if (!c.torn.empty())
    r.warnings.push_back("the journal " + file_ + " ends in a cut-short " + c.torn +
                         ": a run killed while writing it never made that change; if the file was cut "
                         "instead, later changes are lost: compare the machine with `./swapbench check`");
  const std::string now = current_boot_id(ops_);
  for (auto it = c.pending.rbegin(); it != c.pending.rend(); ++it) {
    const JournalEntry& e = *it;
    try {
      if (!e.boot_id.empty() && !now.empty() && e.boot_id != now && e.op != "create_file" &&
          e.op != "swap_signature")
        r.ok.push_back("skipped (the machine rebooted since; the kernel is back to its boot state): " + e.op + " " + e.path);
      else
        r.ok.push_back(undo_locked(e));
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
    ::unlink(file_.c_str());
    owned_ = false;
  }
  return r;
}

std::optional<std::string> Journal::check_original(const std::string& path, const std::string& value) {
  std::lock_guard<std::recursive_mutex> l(mu_);
  const std::string file = dir_of(file_) + "/boot-values.json";
  const std::string boot = current_boot_id(ops_);
  std::ifstream in(file);
  json doc = in ? json::parse(in, nullptr, false) : json();
  // A different boot, or a damaged file: the values as found now are the first seen this boot.
  if (!doc.is_object() || !doc.contains("boot_id") || doc["boot_id"] != boot || !doc.contains("values") ||
      !doc["values"].is_object())
    doc = json{{"boot_id", boot}, {"values", json::object()}};
  json& v = doc["values"];
  if (v.contains(path) && v[path].is_string()) {
    const std::string first = v[path].get<std::string>();
    if (first == value) return std::nullopt;
    return path + " is " + value + ", but was " + first +
           " when swapbench first saw it this boot: something changed it since (a killed run whose restore "
           "failed, or someone else); " + value + " is taken as the value to give back (to return to the boot "
           "value afterwards: echo " + shell_quote(first) + " > " + path + ")";
  }
  v[path] = value;
  const std::string tmp = file + ".new";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << doc.dump(1) << "\n";
    if (!out.flush()) return "cannot keep the boot values in " + tmp + ": " + std::strerror(errno);
  }
  if (std::rename(tmp.c_str(), file.c_str()) != 0)
    return "cannot keep the boot values in " + file + ": " + std::strerror(errno);
  return std::nullopt;
}

}  // namespace swapbench
