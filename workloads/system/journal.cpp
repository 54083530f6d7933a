#include "workloads/system/journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

namespace swapbench {

Journal::Journal(std::string file, SysOps& ops) : file_(std::move(file)), ops_(ops) {
  // Continue numbering after any entries a dead run left, so ids stay unique within the file.
  std::ifstream f(file_);
  std::string line;
  while (std::getline(f, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("id")) next_id_ = std::max(next_id_, j["id"].get<int>() + 1);
  }
}

void Journal::append_locked(const std::string& line) {
  int fd = ::open(file_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) throw SystemError("cannot write the journal " + file_ + ": " + std::strerror(errno));
  bool fresh = lseek(fd, 0, SEEK_END) == 0;
  std::string text = fresh ? nlohmann::json{{"pid", getpid()}, {"boot_id", current_boot_id(ops_)}}.dump() + "\n" + line + "\n" : line + "\n";
  ssize_t n = ::write(fd, text.data(), text.size());
  // fsync: the entry must be on disk before the change it describes is made.
  int rc = fsync(fd);
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size()) || rc != 0)
    throw SystemError("cannot write the journal " + file_ + ": " + std::strerror(errno));
}

int Journal::record(const std::string& op, const std::string& path, const std::string& original,
                    const std::string& extra) {
  std::lock_guard<std::recursive_mutex> l(mu_);
  int id = next_id_++;
  append_locked(nlohmann::json{{"id", id}, {"op", op}, {"path", path}, {"original", original}, {"extra", extra}}.dump());
  return id;
}

int Journal::writer_pid() const {
  std::ifstream f(file_);
  std::string line;
  if (!std::getline(f, line)) return 0;
  auto j = nlohmann::json::parse(line, nullptr, false);
  return j.is_object() && j.contains("pid") ? j["pid"].get<int>() : 0;
}

std::string Journal::current_boot_id(const SysOps& ops) {
  try {
    return ops.read("/proc/sys/kernel/random/boot_id");
  } catch (const SystemError&) {
    return "";
  }
}

std::string Journal::writer_boot_id() const {
  std::ifstream f(file_);
  std::string line;
  if (!std::getline(f, line)) return "";
  auto j = nlohmann::json::parse(line, nullptr, false);
  return j.is_object() ? j.value("boot_id", "") : "";
}

std::vector<JournalEntry> Journal::pending_locked() const {
  std::ifstream f(file_);
  std::vector<JournalEntry> all;
  std::set<int> done;
  std::string line;
  while (std::getline(f, line)) {
    // A torn last line (crash during append) is skipped: its change was never made.
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object()) continue;
    if (j.contains("done")) done.insert(j["done"].get<int>());
    else if (j.contains("id"))
      all.push_back({j["id"].get<int>(), j.value("op", ""), j.value("path", ""), j.value("original", ""),
                     j.value("extra", "")});
  }
  std::vector<JournalEntry> out;
  for (auto& e : all)
    if (!done.count(e.id)) out.push_back(e);
  return out;
}

std::vector<JournalEntry> Journal::pending() const {
  std::lock_guard<std::recursive_mutex> l(mu_);
  return pending_locked();
}

std::string Journal::undo_locked(const JournalEntry& e) {
  if (e.op == "write") {
    ops_.write(e.path, e.original);
    return "restored " + e.path + " = " + e.original;
  }
  if (e.op == "create_file") {
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
  throw SystemError("journal entry " + std::to_string(e.id) + " has unknown op '" + e.op + "'");
}

std::string Journal::restore(int id) {
  std::lock_guard<std::recursive_mutex> l(mu_);
  for (const auto& e : pending_locked()) {
    if (e.id != id) continue;
    try {
      std::string what = undo_locked(e);
      append_locked(nlohmann::json{{"done", id}}.dump());
      return what;
    } catch (const std::exception& ex) {
      std::string msg = std::string("swapbench: could not restore (run `./swapbench restore`): ") + ex.what();
      std::cerr << msg << "\n";
      return msg;
    }
  }
  return {};
}

std::vector<std::string> Journal::restore_all() {
  std::lock_guard<std::recursive_mutex> l(mu_);
  std::vector<std::string> log;
  auto p = pending_locked();
  bool ok = true;
  bool rebooted = !writer_boot_id().empty() && writer_boot_id() != current_boot_id(ops_);
  for (auto it = p.rbegin(); it != p.rend(); ++it) {
    try {
      if (rebooted && it->op != "create_file") {
        log.push_back("skipped (machine rebooted since): " + it->op + " " + it->path);
        append_locked(nlohmann::json{{"done", it->id}}.dump());
        continue;
      }
      log.push_back(undo_locked(*it));
      append_locked(nlohmann::json{{"done", it->id}}.dump());
    } catch (const std::exception& ex) {
      ok = false;
      log.push_back(std::string("FAILED: ") + ex.what());
    }
  }
  if (ok) ::unlink(file_.c_str());
  return log;
}

}  // namespace swapbench
