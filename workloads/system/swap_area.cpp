#include "workloads/system/swap_area.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

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

namespace {

void run_mkswap(const std::string& file) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  std::vector<char*> argv = {const_cast<char*>("mkswap"), const_cast<char*>(file.c_str()), nullptr};
  pid_t pid;
  int rc = posix_spawnp(&pid, "mkswap", &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw SystemError(std::string("cannot run mkswap (apt-get install util-linux): ") + std::strerror(rc));
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw SystemError("mkswap " + file + " failed");
}

void write_zeros(int fd, uint64_t bytes) {
  std::vector<char> z(1 << 20, 0);
  for (uint64_t off = 0; off < bytes; off += z.size()) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(z.size(), bytes - off));
    if (pwrite(fd, z.data(), n, static_cast<off_t>(off)) != static_cast<ssize_t>(n))
      throw SystemError(std::string("cannot write the swap file: ") + std::strerror(errno));
  }
}

}  // namespace

SwapAreaGuard::SwapAreaGuard(Journal& j, SysOps& ops, std::string path, uint64_t bytes, int priority, Type type)
    : j_(j), path_(std::move(path)), bytes_(bytes), priority_(priority), type_(type) {
  j_.change([&] { type_ == Type::Device ? use_device(ops) : create(ops); });
}

void SwapAreaGuard::use_device(SysOps& ops) {
  std::string real = ops.at(path_);
  struct stat st {};
  if (::stat(real.c_str(), &st) != 0 || !S_ISBLK(st.st_mode))
    throw SystemError("--swap-device " + path_ + ": not a block device");
  for (const auto& a : read_swaps(ops))
    if (a.path == path_) throw SystemError("--swap-device " + path_ + ": already a swap area; the suite only uses one it sets up itself");
  int fd = ::open(real.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw SystemError("--swap-device " + path_ + ": " + std::strerror(errno));
  uint64_t size = 0;
  int rc = ioctl(fd, BLKGETSIZE64, &size);
  ::close(fd);
  if (rc != 0) throw SystemError("--swap-device " + path_ + ": cannot read its size: " + std::strerror(errno));
  if (size < bytes_)
    throw SystemError("--swap-device " + path_ + ": " + std::to_string(size >> 20) + " MiB, the run needs " +
                      std::to_string(bytes_ >> 20) + " MiB");
  bytes_ = size;
  run_mkswap(real);
  swapon_id_ = j_.record("swapon", path_);
  ops.swapon(path_, priority_);
}

void SwapAreaGuard::create(SysOps& ops) {
  file_id_ = j_.record("create_file", path_);
  std::string real = ops.at(path_);
  int fd = ::open(real.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw SystemError("cannot create the swap file " + real + ": " + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};  // closed on every path, the throwing ones included
  // fallocate is instant; where the file system cannot swap on preallocated extents, zeros are
  // written instead (below).
  bool preallocated = fallocate(fd, 0, 0, static_cast<off_t>(bytes_)) == 0;
  if (!preallocated) write_zeros(fd, bytes_);
  fsync(fd);
  run_mkswap(real);
  swapon_id_ = j_.record("swapon", path_);
  try {
    ops.swapon(path_, priority_);
  } catch (const SystemError&) {
    if (!preallocated) throw;
    write_zeros(fd, bytes_);
    fsync(fd);
    run_mkswap(real);
    ops.swapon(path_, priority_);
  }
}

SwapAreaGuard::~SwapAreaGuard() {
  j_.restore(swapon_id_);
  j_.restore(file_id_);
}

}  // namespace swapbench
