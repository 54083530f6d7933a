#include "workloads/system/state_dir.h"

#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "workloads/system/sysroot.h"

namespace swapbench {

namespace {

std::string user(uid_t uid) {
  const passwd* p = getpwuid(uid);
  return p ? std::string(p->pw_name) + " (uid " + std::to_string(uid) + ")" : "uid " + std::to_string(uid);
}

std::string octal(unsigned mode) {
  char b[8];
  std::snprintf(b, sizeof b, "%04o", mode & 07777);
  return b;
}

std::string writable_by(mode_t mode) {
  const bool g = mode & S_IWGRP, o = mode & S_IWOTH;
  return std::string("writable by ") + (g && o ? "group and others" : g ? "its group" : "others") + " (mode " +
         octal(mode) + ")";
}

// The state folder itself: ours alone. Group and other bits that only read are repaired by the
// opener (below); anything that lets someone else put a file in it is refused.
std::optional<std::string> folder_problem(const struct stat& st, uid_t owner) {
  if (S_ISLNK(st.st_mode)) return std::string("is a symbolic link");
  if (!S_ISDIR(st.st_mode)) return std::string("is not a folder");
  if (st.st_uid != owner) return "belongs to " + user(st.st_uid) + ", not " + user(owner);
  if (st.st_mode & (S_IWGRP | S_IWOTH)) return "is " + writable_by(st.st_mode);
  return std::nullopt;
}

// A folder above it: whoever may rename entries there can swap the state folder for their own.
// Root's or ours, and writable by nobody else unless sticky (/tmp: others may add names there but
// not rename or remove ours; a name they took first fails the owner check of the folder itself).
std::optional<std::string> ancestor_problem(const struct stat& st, uid_t owner) {
  if (st.st_uid != 0 && st.st_uid != owner) return "belongs to " + user(st.st_uid);
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)) return "is " + writable_by(st.st_mode);
  return std::nullopt;
}

std::optional<std::string> file_problem(const struct stat& st, uid_t owner) {
  if (!S_ISREG(st.st_mode)) return std::string("is not a regular file");
  if (st.st_uid != owner) return "belongs to " + user(st.st_uid) + ", not " + user(owner);
  if (st.st_mode & (S_IWGRP | S_IWOTH)) return "is " + writable_by(st.st_mode);
  // Another name for the same file may be anywhere on the file system (a hard link to a file
  // someone wants read out or truncated by root).
  if (st.st_nlink != 1) return "has " + std::to_string(st.st_nlink) + " names (hard links)";
  return std::nullopt;
}

std::string without_trailing_slash(std::string d) {
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  return d;
}

// The folder holding `path`'s last component, reached from / one component at a time without
// following a link, each folder on the way checked. *problem/*fix say why not (fd -1).
struct Parent {
  int fd = -1;
  std::string name, problem, fix;
};

Parent open_parent(const std::string& path, uid_t owner) {
  Parent p;
  const std::string abs = without_trailing_slash(path);
  const auto slash = abs.rfind('/');
  if (abs.empty() || abs[0] != '/' || slash == std::string::npos || slash + 1 >= abs.size()) {
    p.problem = "is not an absolute path to a folder";
    p.fix = "give an absolute path";
    return p;
  }
  p.name = abs.substr(slash + 1);
  if (p.name == "." || p.name == "..") {
    p.problem = "ends in " + p.name;
    p.fix = "give the folder's own name";
    return p;
  }
  // Links above are resolved once, then the resolved path is walked with O_NOFOLLOW: whatever
  // changes in between, what is opened is a chain of folders each checked on its descriptor.
  const std::string above = slash == 0 ? "/" : abs.substr(0, slash);
  char real[PATH_MAX];
  if (!realpath(above.c_str(), real)) {
    p.problem = "cannot be reached: " + above + ": " + std::strerror(errno);
    p.fix = "create " + above + " (root's, not writable by others)";
    return p;
  }
  int fd = ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  std::string at = "/";
  std::string rest = real;
  size_t i = 1;
  while (fd >= 0) {
    struct stat st {};
    if (fstat(fd, &st) != 0) break;
    if (auto why = ancestor_problem(st, owner)) {
      ::close(fd);
      p.problem = "lies under " + at + ", which " + *why + ": whoever can write there can replace the state folder";
      p.fix = "chown root:root " + at + " && chmod go-w " + at;
      return p;
    }
    if (i >= rest.size()) {
      p.fd = fd;
      return p;
    }
    size_t j = rest.find('/', i);
    if (j == std::string::npos) j = rest.size();
    const std::string comp = rest.substr(i, j - i);
    i = j + 1;
    int next = ::openat(fd, comp.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    ::close(fd);
    fd = next;
    at = at == "/" ? "/" + comp : at + "/" + comp;
  }
  p.problem = "cannot be reached: " + at + ": " + std::strerror(errno);
  p.fix = "check " + at;
  return p;
}

std::string folder_fix(const std::string& path, const std::string& problem) {
  if (problem.rfind("is a symbolic link", 0) == 0)
    return "rm " + path + " (removes the link, not what it points to); the next root run creates the folder "
                          "root:root 0700";
  if (problem.rfind("is not a folder", 0) == 0)
    return "look at " + path + ", then move it away (mv " + path + " " + path + ".old); the next root run creates "
                                                                                   "the folder root:root 0700";
  return "chown root:root " + path + " && chmod 0700 " + path +
         " (files in it that are not root's, or are writable by others, are then refused one by one)";
}

}  // namespace

const std::vector<std::string> kStateFiles = {"lock", "journal", "journal.new", "boot-values.json",
                                              "boot-values.json.new", "retired.log"};

StateDirReport inspect_state_dir(const std::string& path) {
  StateDirReport r;
  r.path = without_trailing_slash(path);
  Parent p = open_parent(r.path, 0);
  if (p.fd < 0) {
    r.problem = p.problem;
    r.fix = p.fix;
    return r;
  }
  struct stat st {};
  int rc = fstatat(p.fd, p.name.c_str(), &st, AT_SYMLINK_NOFOLLOW);
  int err = errno;
  ::close(p.fd);
  if (rc != 0) {
    r.safe = err == ENOENT;  // the first root run creates it as it must be
    if (!r.safe) r.problem = std::string("cannot be looked at: ") + std::strerror(err);
    return r;
  }
  r.exists = true;
  r.uid = st.st_uid;
  r.gid = st.st_gid;
  r.mode = st.st_mode & 07777;
  if (auto why = folder_problem(st, 0)) {
    r.problem = *why;
    r.fix = folder_fix(r.path, *why);
    return r;
  }
  r.safe = true;
  if (geteuid() != 0) return r;
  Parent again = open_parent(r.path, 0);
  int fd = again.fd < 0 ? -1 : ::openat(again.fd, again.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (again.fd >= 0) ::close(again.fd);
  if (fd < 0) return r;
  for (const auto& name : kStateFiles) {
    struct stat fs {};
    if (fstatat(fd, name.c_str(), &fs, AT_SYMLINK_NOFOLLOW) != 0) continue;
    auto why = S_ISLNK(fs.st_mode) ? std::optional<std::string>("is a symbolic link") : file_problem(fs, 0);
    r.files.push_back(name + (why ? " " + *why + ": refused (fix: look at it, then rm " + r.path + "/" + name + ")"
                                  : " " + octal(fs.st_mode) + ((fs.st_mode & 07777) != 0600 ? " (made 0600 at next use)" : "")));
  }
  ::close(fd);
  return r;
}

std::shared_ptr<StateDir> StateDir::open(const std::string& path, bool create) {
  const uid_t me = geteuid();
  const std::string clean = without_trailing_slash(path);
  Parent p = open_parent(clean, me);
  if (p.fd < 0) throw SystemError("the state folder " + clean + " " + p.problem + " (fix: " + p.fix + ")");
  if (create && mkdirat(p.fd, p.name.c_str(), 0700) != 0 && errno != EEXIST) {
    int err = errno;
    ::close(p.fd);
    throw SystemError("cannot create the state folder " + clean + ": " + std::strerror(err));
  }
  int fd = ::openat(p.fd, p.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  int err = errno;
  struct stat st {};
  std::optional<std::string> why;
  if (fd >= 0) {
    why = fstat(fd, &st) == 0 ? folder_problem(st, me) : std::string("cannot be looked at: ") + std::strerror(errno);
  } else if (err == ENOENT && !create) {
    ::close(p.fd);
    return nullptr;
  } else if (fstatat(p.fd, p.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !(why = folder_problem(st, me))) {
    // Why it did not open (a link, a file) is read from the name itself, never through it.
    why = std::string("cannot be opened: ") + std::strerror(err);
  }
  ::close(p.fd);
  if (why) {
    if (fd >= 0) ::close(fd);
    throw SystemError("the state folder " + clean + " " + *why + ": a root run does not use it (fix: " +
                      folder_fix(clean, *why) + ")");
  }
  // Repaired rather than refused: it is ours and nobody else could ever write into it, so all it
  // holds was put there by us; taking away others' read and search bits (an older swapbench made
  // it 0755) only stops them opening the lock to hold it, or reading the journal.
  if ((st.st_mode & 07777) != 0700 && fchmod(fd, 0700) != 0) {
    err = errno;
    ::close(fd);
    throw SystemError("cannot make the state folder " + clean + " 0700: " + std::strerror(err));
  }
  return std::shared_ptr<StateDir>(new StateDir(clean, fd));
}

StateDir::~StateDir() { ::close(fd_); }

int StateDir::open_file(const std::string& name, int flags) const {
  // O_NONBLOCK: a FIFO put here must not hang the open; it is refused just below.
  int fd = ::openat(fd_, name.c_str(), flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0600);
  const std::string file = where(name);
  const std::string fix = " (fix: look at it, then rm " + file +
                          "; rm removes a link, not what it points to)";
  if (fd < 0) {
    int err = errno;
    errno = err;
    if ((err == ENOENT && !(flags & O_CREAT)) || (err == EEXIST && (flags & O_EXCL))) return -1;
    if (err == ELOOP) throw SystemError(file + " is a symbolic link: refused, never followed" + fix);
    throw SystemError("cannot open " + file + ": " + std::strerror(err));
  }
  struct stat st {};
  std::optional<std::string> why;
  if (fstat(fd, &st) != 0) why = std::string("cannot be looked at: ") + std::strerror(errno);
  else why = file_problem(st, geteuid());
  if (why) {
    ::close(fd);
    throw SystemError(file + " " + *why + ": refused, neither read nor written" + fix);
  }
  // Files an older swapbench made 0644: nobody but us may have a reason to read them.
  if ((st.st_mode & 07777) != 0600 && fchmod(fd, 0600) != 0) {
    int err = errno;
    ::close(fd);
    throw SystemError("cannot make " + file + " 0600: " + std::strerror(err));
  }
  int fl = fcntl(fd, F_GETFL);
  if (fl >= 0) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
  return fd;
}

void StateDir::remove(const std::string& name) const {
  if (unlinkat(fd_, name.c_str(), 0) != 0 && errno != ENOENT)
    throw SystemError("cannot remove " + where(name) + ": " + std::strerror(errno));
}

bool StateDir::link(const std::string& from, const std::string& to) const {
  return linkat(fd_, from.c_str(), fd_, to.c_str(), 0) == 0;
}

void StateDir::replace(const std::string& from, const std::string& to) const {
  if (renameat(fd_, from.c_str(), fd_, to.c_str()) != 0)
    throw SystemError("cannot rename " + where(from) + " to " + to + ": " + std::strerror(errno));
}

void StateDir::sync() const { fsync(fd_); }

}  // namespace swapbench
