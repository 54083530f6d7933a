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
#include "workloads/system/zswap.h"

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

std::string dir_of(const std::string& file) {
  auto slash = file.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : file.substr(0, slash);
}

std::string base_of(const std::string& file) {
  auto slash = file.rfind('/');
  return slash == std::string::npos ? file : file.substr(slash + 1);
}

// The sysctls the suite borrows (bench/borrow.cpp); zswap's parameters are kGuardedZswapParams.
const char* const kJournalledSysctls[] = {"/proc/sys/vm/page-cluster", "/proc/sys/vm/swappiness"};
// DebugfsGuard's mount point: the one mount the suite makes.
constexpr const char* kDebugfsMount = "/sys/kernel/debug";

bool made_of(const std::string& s, const char* extra) {
  // c != 0: strchr finds every string's terminating NUL, and JSON text may hold a \u0000.
  return std::all_of(s.begin(), s.end(),
                     [&](unsigned char c) { return std::isalnum(c) || (c != 0 && std::strchr(extra, c)); });
}

// Absolute, every part a name: no "", "." or ".." part (which would reach outside a prefix that
// was checked), no control characters.
bool plain_path(const std::string& p) {
  if (p.size() < 2 || p[0] != '/' || p.size() > 4096) return false;
  if (!std::all_of(p.begin(), p.end(), [](unsigned char c) { return c >= 32 && c != 127; })) return false;
  for (size_t i = 1; i <= p.size();) {
    size_t j = std::min(p.find('/', i), p.size());
    const std::string part = p.substr(i, j - i);
    if (part.empty() || part == "." || part == "..") return false;
    i = j + 1;
  }
  return true;
}

bool swap_file_path(const std::string& p) {
  const std::string b = base_of(p), pre = "swapbench-", post = ".swap";
  return plain_path(p) && b.size() > pre.size() + post.size() && b.rfind(pre, 0) == 0 &&
         b.compare(b.size() - post.size(), post.size(), post) == 0 &&
         made_of(b.substr(pre.size(), b.size() - pre.size() - post.size()), "_-");
}

bool zram_device_path(const std::string& p) {
  const std::string pre = "/dev/zram";
  return p.rfind(pre, 0) == 0 && p.size() > pre.size() && p.size() <= pre.size() + 6 &&
         std::all_of(p.begin() + pre.size(), p.end(), [](unsigned char c) { return std::isdigit(c); });
}

bool value_path(const std::string& p) {
  for (const auto& q : kGuardedZswapParams)
    if (p == std::string(kZswapParams) + "/" + q) return true;
  for (const char* q : kJournalledSysctls)
    if (p == q) return true;
  return false;
}

// Mount points of cgroup hierarchies, as /proc/mounts spells them (detect_memcg reads the same).
std::vector<std::string> cgroup_mounts(const SysOps& ops) {
  std::vector<std::string> m;
  std::ifstream f(ops.at("/proc/mounts"));
  std::string dev, mp, type, rest;
  while (f >> dev >> mp >> type && std::getline(f, rest))
    if (type == "cgroup" || type == "cgroup2") m.push_back(mp);
  return m;
}

std::optional<std::string> not_our_cgroup(const JournalEntry& e, const SysOps& ops) {
  const std::string b = base_of(e.path), pre = "swapbench-";
  if (!plain_path(e.path) || b.size() <= pre.size() || b.rfind(pre, 0) != 0 || !made_of(b.substr(pre.size()), ""))
    return std::string("a cgroup not named as swapbench names its own");
  const std::string procs = "/cgroup.procs";
  for (const auto& m : cgroup_mounts(ops)) {
    if (dir_of(e.path) != m) continue;
    const bool procs_ok = plain_path(e.extra) && e.extra.size() > procs.size() &&
                          e.extra.compare(e.extra.size() - procs.size(), procs.size(), procs) == 0 &&
                          (e.extra == m + procs || e.extra.rfind(m + "/", 0) == 0);
    if (!procs_ok) return std::string("tasks sent back to something other than a cgroup.procs of its hierarchy");
    return std::nullopt;
  }
  return std::string("a cgroup outside every cgroup mount's top level");
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

std::optional<std::string> not_replayable(const JournalEntry& e, const SysOps& ops) {
  if (e.op == "write") {
    if (!value_path(e.path)) return std::string("a write to a path swapbench never changes");
    if (e.original.empty() || e.original.size() > 64 || !made_of(e.original, "._-"))
      return std::string("a value unlike any swapbench reads from a parameter");
    if (!e.extra.empty()) return std::string("a write with an extra field");
    return std::nullopt;
  }
  if (e.op == "create_file") {
    if (!swap_file_path(e.path)) return std::string("a file not named as swapbench names its swap files");
    if (!made_of(e.extra, ":.")) return std::string("a file identity unlike the one swapbench keeps");
    return std::nullopt;
  }
  if (e.op == "swapon") {
    if (swap_file_path(e.path) || zram_device_path(e.path)) return std::nullopt;
    if (plain_path(e.path) && e.path.rfind("/dev/", 0) == 0 && made_of(e.path, "/._:+@-")) return std::nullopt;
    return std::string("a swap area that is neither a swapbench swap file nor a device");
  }
  if (e.op == "mount") {
    if (e.path == kDebugfsMount) return std::nullopt;
    return std::string("a mount point other than swapbench's debugfs");
  }
  if (e.op == "mkdir_cgroup") return not_our_cgroup(e, ops);
  if (e.op == "swap_signature") {  // the swap header the suite writes on a --swap-device
    if (!plain_path(e.path) || e.path.rfind("/dev/", 0) != 0 || !made_of(e.path, "/._:+@-"))
      return std::string("a swap header on something that is not a device");
    if (e.extra.empty() || e.extra.size() > 64 || !made_of(e.extra, "-")) return std::string("a UUID that is not one");
    return std::nullopt;
  }
  if (e.op == "zram_device") {
    if (!zram_device_path(e.path)) return std::string("a device that is not a zram device");
    if (!made_of(e.extra, "")) return std::string("a diskseq that is not a number");
    return std::nullopt;
  }
  return std::string("an operation swapbench does not make");
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
  std::vector<std::string> damaged;  // "line N is not a swapbench entry (why)"
  int torn = 0;                      // the line number of a cut-short last line; 0 if none
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
  c.empty = text.empty();
  std::vector<JournalEntry> all;
  std::set<int> done;
  std::string boot;  // of the header the lines below stand under
  struct Bad {
    int n;
    std::string why;
    bool starts_like_object;
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
      if (!why) {
        JournalEntry e{j["id"].get<int>(), j["op"].get<std::string>(), j["path"].get<std::string>(),
                       j.value("original", ""), j.value("extra", ""), j.value("boot", boot), n};
        why = not_replayable(e, ops_);
        if (!why) all.push_back(e);
      }
    } else if (j.contains("pid") || j.contains("swapbench_journal")) {
      boot = j.contains("boot_id") && j["boot_id"].is_string() ? j["boot_id"].get<std::string>() : "";
      if (c.pid == 0 && c.boot_id.empty()) {
        c.pid = j.contains("pid") && j["pid"].is_number_integer() ? j["pid"].get<int>() : 0;
        c.boot_id = boot;
      }
    } else {
      why = "neither a change, a header nor a done marker";
    }
    if (why) bad.push_back({n, *why, line[0] == '{'});
    else if (!j.contains("done")) last_record = n;
  }
  // A writer killed inside write() leaves its last line cut short, and that change was never made
  // (the entry is fsync'd before the change). Such a line starts like an object and has no change
  // after it (restorers only append done markers). Any other unreadable line is damage.
  if (!bad.empty() && bad.back().n > last_record && bad.back().starts_like_object && bad.back().why == "not a JSON object") {
    c.torn = bad.back().n;
    bad.pop_back();
  }
  // Named by number and reason only: a line that is not one of ours may hold anything (a planted
  // secret), and messages end up on a terminal and in retired.log.
  for (const auto& b : bad)
    c.damaged.push_back("line " + std::to_string(b.n) + " is not a swapbench entry (" + b.why + ")");
  for (auto& e : all)
    if (!done.count(e.id)) c.pending.push_back(e);
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
