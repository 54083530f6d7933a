// The state folder (lock, journal, boot values, retired.log) and the only way into it. What is in
// it steers what a root process writes and says, so nobody else may have put anything there: the
// folder belongs to the running user (root on a real machine) alone, mode 0700, and is reached
// through folders nobody else can rename things in; each file is opened relative to the folder's
// descriptor without following a link, created 0600, and checked on the opened descriptor (owner,
// mode, a regular file with one name) before a byte of it is read or written.
#pragma once
#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace swapbench {

// What `check` shows of a state folder, read-only (nothing is created or repaired).
struct StateDirReport {
  std::string path;
  bool exists = false;
  bool safe = false;
  uid_t uid = 0;
  gid_t gid = 0;
  unsigned mode = 0;    // permission bits
  std::string problem;  // why it is not safe; "" when it is
  std::string fix;      // the commands that make it safe
  // Each state file present, as "name: what it is" (root only: nobody else may look inside).
  std::vector<std::string> files;
};
StateDirReport inspect_state_dir(const std::string& path);
// The files the suite keeps there, for that listing.
extern const std::vector<std::string> kStateFiles;

class StateDir {
 public:
  // Opens `path` as the state folder, creating it (0700, the running user's) when missing and
  // `create`. Throws SystemError with the fix when it is a link, not a folder, someone else's,
  // writable by group or others, or under a folder others may write to. Missing and !create: null.
  static std::shared_ptr<StateDir> open(const std::string& path, bool create);
  ~StateDir();
  StateDir(const StateDir&) = delete;
  StateDir& operator=(const StateDir&) = delete;
  const std::string& path() const { return path_; }
  std::string where(const std::string& name) const { return path_ + "/" + name; }  // for messages
  int fd() const { return fd_; }
  // A file in the folder: openat(fd, name, flags | O_NOFOLLOW | O_CLOEXEC), created 0600. -1 with
  // errno when it is absent (ENOENT, without O_CREAT) or exists (EEXIST, with O_EXCL). Throws
  // SystemError, after closing it, when it is a link, not a regular file, someone else's, writable
  // by group or others, or has another name too (a hard link). Never pass O_TRUNC: truncating
  // comes after the check. Extra read bits on a file of ours are taken away (0600).
  int open_file(const std::string& name, int flags) const;
  void remove(const std::string& name) const;  // ENOENT is success; SystemError otherwise
  // Gives `from` the name `to` (link, which refuses an existing `to`); false with errno on failure.
  bool link(const std::string& from, const std::string& to) const;
  // Replaces `to` with `from` (rename); SystemError on failure.
  void replace(const std::string& from, const std::string& to) const;
  void sync() const;  // fsync of the folder: a new name survives a crash as much as the data

 private:
  StateDir(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_;
};

}  // namespace swapbench
