#include "workloads/system/journal_entry.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "workloads/system/zram.h"
#include "workloads/system/zswap.h"

namespace swapbench {

using nlohmann::json;

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

bool made_of(const std::string& s, const char* extra) {
  // c != 0: strchr finds every string's terminating NUL, and JSON text may hold a \u0000.
  return std::all_of(s.begin(), s.end(),
                     [&](unsigned char c) { return std::isalnum(c) || (c != 0 && std::strchr(extra, c)); });
}

namespace {

// The sysctls the suite borrows (bench/borrow.cpp); zswap's parameters are kGuardedZswapParams.
const char* const kJournalledSysctls[] = {"/proc/sys/vm/page-cluster", "/proc/sys/vm/swappiness"};
// DebugfsGuard's mount point: the one mount the suite makes.
constexpr const char* kDebugfsMount = "/sys/kernel/debug";

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

namespace {

// A line that is not one of the suite's entries: its number, why, and whether it starts like an
// object (a cut-short line does).
struct Bad {
  int n;
  std::string why;
  bool starts_like_object;
};

}  // namespace

JournalLines read_journal_lines(const std::string& text, const SysOps& ops) {
  JournalLines c;
  c.empty = text.empty();
  std::vector<JournalEntry> all;
  std::set<int> done;
  std::string boot;  // of the header the lines below stand under
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
        why = not_replayable(e, ops);
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

}  // namespace swapbench
