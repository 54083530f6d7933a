#include "bench/environment.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>

namespace swapbench {
namespace {

std::string owner_name(uid_t uid) {
  const passwd* p = getpwuid(uid);
  return p ? p->pw_name : "uid " + std::to_string(uid);
}

// The path with its links resolved, the part that does not exist kept as given.
std::string resolved(const std::string& path) {
  std::string head = path, tail;
  while (!head.empty()) {
    char real[PATH_MAX];
    if (realpath(head.c_str(), real)) return std::string(real) + tail;
    if (errno != ENOENT) return path;
    const auto slash = head.rfind('/');
    if (slash == std::string::npos) {
      tail = "/" + head + tail;
      head = ".";
      continue;
    }
    tail = head.substr(slash) + tail;
    head = slash == 0 ? "/" : head.substr(0, slash);
  }
  return path;
}

bool from_command_line(const std::vector<std::string>& argv, const std::string& flag) {
  for (const auto& a : argv)
    if (a == flag || a.rfind(flag + "=", 0) == 0) return true;
  return false;
}

}  // namespace

std::string untrusted_reason(const std::string& path, PathKind kind) {
  const std::string real = resolved(path);
  std::vector<std::string> parts;
  for (size_t a = 0; a < real.size();) {
    size_t b = real.find('/', a);
    if (b == std::string::npos) b = real.size();
    if (b > a) parts.push_back(real.substr(a, b - a));
    a = b + 1;
  }
  int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return "/ cannot be opened";
  std::string cur = "/", why;
  struct stat st {};
  for (size_t i = 0; i <= parts.size() && why.empty(); ++i) {
    if (i) {
      const std::string next = cur + (cur == "/" ? "" : "/") + parts[i - 1];
      const int nfd = openat(fd, parts[i - 1].c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
      if (nfd < 0) {
        if (errno != ENOENT) why = next + ": cannot be opened";
        else if (st.st_mode & 022) why = next + " does not exist and others could create it first";
        break;  // nobody else can create the rest, inside folders only root can change
      }
      close(fd);
      fd = nfd;
      cur = next;
    }
    if (fstat(fd, &st) != 0) {
      why = cur + ": cannot be read";
      break;
    }
    const bool last = i == parts.size();
    if (S_ISLNK(st.st_mode)) {
      why = cur + " is a link that appeared while it was checked";
    } else if (st.st_uid != 0) {
      why = cur + " belongs to " + owner_name(st.st_uid) + ", not root";
    } else if ((st.st_mode & 022) && !(i + 1 < parts.size() && S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX))) {
      char mode[8];
      std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
      why = cur + " is writable by " + ((st.st_mode & 020) && (st.st_mode & 002) ? "group and others"
                                        : (st.st_mode & 020)                    ? "group"
                                                                                : "others") +
            " (mode " + mode + ")";
    } else if (last && kind == PathKind::program && !S_ISREG(st.st_mode)) {
      why = cur + " is not a regular file";
    } else if (last && kind == PathKind::folder && !S_ISDIR(st.st_mode)) {
      why = cur + " is not a folder";
    }
  }
  close(fd);
  return why;
}

std::string root_environment_problem(const std::vector<std::string>& argv) {
  struct Named {
    const char* var;
    const char* flag;  // the option it is the twin of, or nullptr
    bool parent;       // a file: its folder is what is written into
  };
  // Why each: results and the swap file are written by root, so a folder another user can change
  // would let that user put a link where root writes (or read what it wrote).
  for (const Named& n : {Named{"SWAPBENCH_RESULTS_DIR", nullptr, false}, Named{"SWAPBENCH_OUT", "--out", true},
                         Named{"SWAPBENCH_SWAP_DIR", "--swap-dir", false}}) {
    const char* v = std::getenv(n.var);
    if (!v || !*v || (n.flag && from_command_line(argv, n.flag))) continue;
    std::string path = v;
    if (n.parent) {
      const auto slash = path.rfind('/');
      path = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    }
    const std::string why = untrusted_reason(path, PathKind::folder);
    if (!why.empty())
      return std::string(n.var) + "=" + v + ": " + why +
             "; a run as root writes only into folders that root alone can change (owned by root, not writable by "
             "group or others, and every folder above the same): choose one"
             + (n.flag ? std::string(", give ") + n.flag + " on the command line," : std::string()) + " or unset " +
             n.var;
  }
  return "";
}

}  // namespace swapbench
