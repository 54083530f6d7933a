#include "bench/results.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <climits>
#include <cerrno>
#include <ctime>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace swapbench {

namespace {

[[noreturn]] void cannot_write(const std::string& path, int err, const std::string& how = "") {
  throw std::runtime_error("cannot write " + path + (how.empty() ? "" : " (" + how + ")") + ": " + std::strerror(err));
}

void write_all(int fd, const std::string& path, const std::string& text) {
  size_t done = 0;
  int waited = 0;  // seconds without progress
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      // A FIFO or terminal that is full: its reader is not reading. Waiting is right (a pager, a
      // slow consumer), waiting silently or for ever is not.
      pollfd pfd{fd, POLLOUT, 0};
      if (poll(&pfd, 1, kStreamNoticeSeconds * 1000) > 0) continue;
      waited += kStreamNoticeSeconds;
      if (waited == kStreamNoticeSeconds)
        std::cerr << "swapbench: waiting for the reader of " << path << " to take the result (" << done << " of "
                  << text.size() << " bytes written); giving up after " << kStreamPatienceSeconds << " s\n";
      if (waited < kStreamPatienceSeconds) continue;
      ::close(fd);
      throw std::runtime_error("cannot write " + path + ": its reader took nothing for " +
                               std::to_string(kStreamPatienceSeconds) + " s (" + std::to_string(done) + " of " +
                               std::to_string(text.size()) + " bytes written)");
    }
    if (n > 0) waited = 0;
    if (n <= 0) {
      int err = n < 0 ? errno : EIO;
      ::close(fd);
      cannot_write(path, err);
    }
    done += static_cast<size_t>(n);
  }
}

}  // namespace

std::optional<std::string> foreign_symlink_problem(const std::string& path) {
  if (geteuid() != 0) return std::nullopt;  // an ordinary user's write cannot reach what it could not write anyway
  std::string p = path;
  for (int hops = 0; hops < 40; ++hops) {  // 40: the kernel's own limit on links followed in one lookup
    struct stat st {};
    if (lstat(p.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return std::nullopt;
    if (st.st_uid != 0)
      return p + " is a symlink of uid " + std::to_string(st.st_uid) +
             "'s; a run as root does not follow another user's link (it could aim the result at any file): "
             "remove it or name its target";
    char buf[PATH_MAX];
    const ssize_t n = readlink(p.c_str(), buf, sizeof buf - 1);
    if (n <= 0) return std::nullopt;  // gone meanwhile: the write that follows finds out
    std::string next(buf, static_cast<size_t>(n));
    if (next[0] != '/') {
      auto slash = p.rfind('/');
      if (slash != std::string::npos) next = p.substr(0, slash + 1) + next;
    }
    p = next;
  }
  return path + ": more than 40 symlinks in a row";
}

void write_output_file(const std::string& path, const std::string& text) {
  if (path.empty()) throw std::runtime_error("cannot write a result: empty path");
  std::string target = path;
  // Checked again here, not only when the plan was made: the link can be put there during the run.
  if (auto why = foreign_symlink_problem(path)) throw std::runtime_error("cannot write " + path + ": " + *why);
  struct stat st {};
  if (stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) throw std::runtime_error("cannot write " + path + ": it is a folder");
    if (!S_ISREG(st.st_mode)) {
      // A device or FIFO: in place, never created, never truncated into a regular file.
      int fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
      if (fd < 0 && errno == ENXIO) throw std::runtime_error("cannot write " + path + ": a FIFO with no reader");
      if (fd < 0) cannot_write(path, errno);
      HeldOutput(fd).write_and_close(path, text);
      return;
    }
    char real[PATH_MAX];
    if (!realpath(path.c_str(), real)) cannot_write(path, errno, "resolving it");
    target = real;  // a symlink stays a symlink: its target is replaced
  } else if (lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
    throw std::runtime_error("cannot write " + path + ": a symlink to nothing (remove it or name its target)");
  }
  auto slash = target.rfind('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : target.substr(0, slash);
  struct stat dst {};
  if (stat(dir.c_str(), &dst) != 0 || !S_ISDIR(dst.st_mode))
    throw std::runtime_error("cannot write " + path + ": folder " + dir + " does not exist");
  std::string tmp = target + ".tmp." + std::to_string(getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) cannot_write(path, errno, "a temporary file beside it");
  try {
    write_all(fd, tmp, text);
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  const bool synced = fsync(fd) == 0;
  int err = errno;
  ::close(fd);
  if (!synced || rename(tmp.c_str(), target.c_str()) != 0) {
    if (synced) err = errno;
    ::unlink(tmp.c_str());
    cannot_write(path, err);
  }
}

HeldOutput::~HeldOutput() {
  if (fd_ >= 0) ::close(fd_);
}

void HeldOutput::write_and_close(const std::string& path, const std::string& text) {
  if (fd_ < 0) throw std::runtime_error("cannot write " + path + ": already written");
  const int fd = fd_;
  fd_ = -1;
  write_all(fd, path, text);  // closes fd when it throws
  if (::close(fd) != 0) cannot_write(path, errno);
}

void write_json_file(const std::string& path, const nlohmann::json& j) { write_output_file(path, j.dump(2) + "\n"); }

std::string utc_stamp(const char* fmt) {
  char buf[64];
  std::time_t t = std::time(nullptr);
  std::strftime(buf, sizeof buf, fmt, std::gmtime(&t));
  return buf;
}

std::string default_results_dir() {
  const char* e = std::getenv("SWAPBENCH_RESULTS_DIR");
  return e && *e ? e : "results";
}

std::string detect_accelerator() {
  if (const char* e = std::getenv("SWAPBENCH_ACCELERATOR"); e && *e) return e;
#if defined(__x86_64__) || defined(__i386__)
  unsigned a, b, c, d;
  __cpuid(1, a, b, c, d);
  if (!(c & (1u << 31))) return "native";  // no hypervisor bit
  __cpuid(0x40000000, a, b, c, d);
  char sig[13] = {0};
  std::memcpy(sig, &b, 4);
  std::memcpy(sig + 4, &c, 4);
  std::memcpy(sig + 8, &d, 4);
  std::string s(sig);
  if (s.rfind("KVMKVMKVM", 0) == 0) return "kvm";
  if (s.rfind("TCGTCGTCG", 0) == 0) return "tcg";
  if (s == "Microsoft Hv") return "hyperv";
  if (s == "VMwareVMware") return "vmware";
  return "vm (hypervisor '" + s + "')";
#else
  return "unknown (set SWAPBENCH_ACCELERATOR)";
#endif
}

std::string kernel_config_hash(std::string* source) {
  utsname u;
  uname(&u);
  for (std::string p : {std::string("/proc/config.gz"), "/boot/config-" + std::string(u.release)}) {
    std::ifstream f(p, std::ios::binary);
    if (!f) continue;
    uint64_t h = 0xcbf29ce484222325ull;
    char c;
    while (f.get(c)) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
    if (source) *source = p;
    std::ostringstream o;
    o << std::hex << h;
    return o.str();
  }
  if (source) *source = "not readable (no /proc/config.gz, no /boot/config-<release>)";
  return "";
}

nlohmann::json kernel_json() {
  utsname u;
  uname(&u);
  std::string src, cfg = kernel_config_hash(&src);
  return {{"release", u.release}, {"version", u.version}, {"machine", u.machine}, {"config_fnv1a64", cfg},
          {"config_source", src}};
}

}  // namespace swapbench
