#include "workloads/system/swap_area.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <linux/magic.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>
#include <vector>

extern char** environ;

namespace swapbench {

std::vector<SwapAreaInfo> read_swaps(const SysOps& ops) {
  std::vector<SwapAreaInfo> out;
  std::istringstream in(ops.read("/proc/swaps"));
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream l(line);
    SwapAreaInfo s;
    uint64_t kib = 0, used = 0;
    if (l >> s.path >> s.type >> kib >> used >> s.priority) {
      s.size_bytes = kib * 1024;
      out.push_back(s);
    }
  }
  return out;
}

// bytes > 0: only that much of the file or device becomes swap (mkswap's size operand, in KiB,
// which util-linux and busybox both take).
void run_mkswap(const std::string& file, uint64_t bytes) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  std::string kib = std::to_string(bytes >> 10);
  std::vector<char*> argv = {const_cast<char*>("mkswap"), const_cast<char*>(file.c_str()), nullptr};
  if (bytes) argv.insert(argv.end() - 1, kib.data());
  // mkswap gets the ordinary signal state back: the session blocks terminating signals in this
  // thread and ignores SIGPIPE, and both would otherwise pass through exec.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, pipe;
  sigemptyset(&none);
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &pipe);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  // The system's own mkswap, never the first one on the caller's PATH: a run as root would start
  // whatever program of that name another user put in a folder listed earlier.
  std::string mkswap = "/usr/sbin/mkswap";
  for (const char* d : {"/usr/sbin/", "/sbin/", "/usr/bin/", "/bin/"})
    if (access((std::string(d) + "mkswap").c_str(), X_OK) == 0) {
      mkswap = std::string(d) + "mkswap";
      break;
    }
  pid_t pid;
  int rc = posix_spawn(&pid, mkswap.c_str(), &fa, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw SystemError(std::string("cannot run mkswap (apt-get install util-linux): ") + std::strerror(rc));
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw SystemError("mkswap " + file + " failed");
}

namespace {

std::string mib(uint64_t bytes) { return std::to_string((bytes + (1ull << 20) - 1) >> 20) + " MiB"; }

void write_zeros(int fd, const std::string& path, uint64_t bytes) {
  std::vector<char> z(1 << 20, 0);
  for (uint64_t off = 0; off < bytes; off += z.size()) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(z.size(), bytes - off));
    ssize_t w = pwrite(fd, z.data(), n, static_cast<off_t>(off));
    if (w != static_cast<ssize_t>(n))
      throw SystemError("cannot write the swap file " + path + " (" + mib(bytes) + ") at " + mib(off) + ": " +
                        std::strerror(w < 0 ? errno : ENOSPC));
  }
}

// Opened exclusively: the kernel refuses (EBUSY) a device that is mounted, swapped on or held by
// device-mapper/md, which is exactly what mkswap must never overwrite.
std::optional<uint64_t> exclusive_device_size(const std::string& dev, int* err) {
  int fd = ::open(dev.c_str(), O_RDONLY | O_EXCL | O_CLOEXEC);
  if (fd < 0) {
    *err = errno;
    return std::nullopt;
  }
  uint64_t size = 0;
  int rc = ioctl(fd, BLKGETSIZE64, &size);
  *err = errno;
  ::close(fd);
  if (rc != 0) return std::nullopt;
  return size;
}

void check_fsync(int fd, const std::string& path) {
  if (fsync(fd) != 0) throw SystemError("cannot write the swap file " + path + ": " + std::strerror(errno));
}

}  // namespace

std::optional<std::string> swap_dir_problem(const std::string& dir, uint64_t bytes) {
  const std::string fix = " (fix: --swap-dir a folder on a local disk file system, e.g. /var/tmp)";
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return dir + ": " + std::strerror(errno) + fix;
  if (!S_ISDIR(st.st_mode)) return dir + " is not a folder" + fix;
  if (access(dir.c_str(), W_OK | X_OK) != 0) return dir + " is not writable: " + std::strerror(errno) + fix;
  struct statfs sf {};
  struct statvfs sv {};
  if (statfs(dir.c_str(), &sf) != 0 || statvfs(dir.c_str(), &sv) != 0)
    return "cannot read the file system of " + dir + ": " + std::strerror(errno) + fix;
  // The kernel refuses swap files on these (swapon: EINVAL), found only after the file was made.
  if (sf.f_type == TMPFS_MAGIC || sf.f_type == RAMFS_MAGIC) return dir + " is on tmpfs/ramfs, which cannot hold a swap file" + fix;
  const uint64_t avail = static_cast<uint64_t>(sv.f_bavail) * sv.f_frsize;
  if (bytes > avail || avail - bytes < kSwapDirMargin)
    return dir + " has " + mib(avail) + " free; a " + mib(bytes) + " swap file needs that plus " + mib(kSwapDirMargin) +
           " left for everything else (fix: free space there, --swap-dir on a file system with more room, or fewer --pages)";
  return std::nullopt;
}

std::optional<std::string> swap_device_problem(const std::string& device, uint64_t bytes) {
  const std::string fix = " (fix: --swap-device a spare block device nobody uses, e.g. a guest's scratch disk)";
  struct stat st {};
  if (::stat(device.c_str(), &st) != 0) return device + ": " + std::strerror(errno) + fix;
  if (!S_ISBLK(st.st_mode)) return device + " is not a block device" + fix;
  for (const auto& a : read_swaps(SysOps())) {
    struct stat sa {};
    if (::stat(a.path.c_str(), &sa) == 0 && S_ISBLK(sa.st_mode) && sa.st_rdev == st.st_rdev)
      return device + " is already a swap area (" + a.path + "); the suite only uses one it sets up itself" + fix;
  }
  int err = 0;
  auto size = exclusive_device_size(device, &err);
  if (!size && err == EBUSY)
    return device + " is in use (mounted, or held by device-mapper or md); mkswap would destroy it" + fix;
  if (!size) return device + ": cannot read its size: " + std::strerror(err) + fix;
  if (*size < bytes)
    return device + " holds " + mib(*size) + ", the run needs " + mib(bytes) + " (fix: a larger device, or fewer --pages)";
  return std::nullopt;
}

SwapAreaGuard::SwapAreaGuard(Journal& j, SysOps& ops, std::string path, uint64_t bytes, int priority, Type type,
                             bool exact)
    : j_(j), ops_(ops), path_(std::move(path)), bytes_(bytes), priority_(priority), type_(type), exact_(exact) {
  j_.change([&] { type_ == Type::Device ? use_device(ops) : create(ops); });
}

void SwapAreaGuard::use_device(SysOps& ops) {
  std::string real = ops.at(path_);
  if (auto why = swap_device_problem(real, bytes_)) throw SystemError("--swap-device " + *why);
  int err = 0;
  auto size = exclusive_device_size(real, &err);
  if (!size) throw SystemError("--swap-device " + path_ + ": cannot read its size: " + std::strerror(err));
  if (!exact_) bytes_ = *size;
  run_mkswap(real, exact_ ? bytes_ : 0);
  swapon_id_ = j_.record("swapon", path_);
  ops.swapon(path_, priority_);
}

void SwapAreaGuard::create(SysOps& ops) {
  const std::string real = ops.at(path_);
  const auto slash = real.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : real.substr(0, slash);
  if (auto why = swap_dir_problem(dir, bytes_)) throw SystemError("--swap-dir " + *why);
  int fd = ::open(real.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    int err = errno;
    throw SystemError("cannot create the swap file " + real + ": " + std::strerror(err) +
                      (err == EEXIST ? " (a file swapbench did not create: left alone; remove it if it is spare, "
                                       "or --swap-dir elsewhere)"
                                     : ""));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};  // closed on every path, the throwing ones included
  // Journalled only once O_EXCL proved the file is ours, with its inode, so no restore can remove a
  // file that was there before (or took the name later). A SIGKILL between the open and the record
  // leaves an empty file behind: far better than deleting someone's file.
  try {
    const std::string identity = file_identity(fd, "");
    if (identity.empty()) throw SystemError("cannot stat the swap file " + real + ": " + std::strerror(errno));
    file_id_ = j_.record("create_file", path_, "", identity);
  } catch (const SystemError&) {
    ::unlink(real.c_str());  // ours (O_EXCL, still open), but unrecorded: taken back now
    throw;
  }
  // fallocate is instant. Zeros are written only where the file system cannot preallocate
  // (EOPNOTSUPP) or swapon refuses preallocated extents (below); any other failure (ENOSPC above
  // all) is an error, never a loop writing zeros until the disk is full.
  bool preallocated = true;
  if (fallocate(fd, 0, 0, static_cast<off_t>(bytes_)) != 0) {
    int err = errno;
    if (err != EOPNOTSUPP && err != ENOSYS)
      throw SystemError("cannot allocate the swap file " + real + " (" + mib(bytes_) + "): " + std::strerror(err) +
                        (err == ENOSPC ? " (the file system filled up after the free-space check: free room there, or "
                                         "--swap-dir elsewhere)"
                                       : ""));
    preallocated = false;
    write_zeros(fd, real, bytes_);
  }
  check_fsync(fd, real);
  run_mkswap(real);
  swapon_id_ = j_.record("swapon", path_);
  try {
    ops.swapon(path_, priority_);
  } catch (const SystemError&) {
    if (!preallocated) throw;
    write_zeros(fd, real, bytes_);
    check_fsync(fd, real);
    run_mkswap(real);
    ops.swapon(path_, priority_);
  }
}

void SwapAreaGuard::pause() {
  if (!active_) return;
  j_.change([&] { ops_.swapoff(path_); });
  active_ = false;
}

void SwapAreaGuard::resume() {
  if (active_) return;
  j_.change([&] { ops_.swapon(path_, priority_); });
  active_ = true;
}

SwapAreaGuard::~SwapAreaGuard() {
  j_.restore(swapon_id_);
  j_.restore(file_id_);
}

}  // namespace swapbench
