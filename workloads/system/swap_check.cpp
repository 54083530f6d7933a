#include "workloads/system/swap_check.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "workloads/system/swap_area.h"
#include "workloads/system/sysroot.h"

namespace swapbench {

namespace {
// Free space a swap file must leave behind: filling a file system to the last block breaks
// whatever else writes there (logs, the journal of this very run).
constexpr uint64_t kFreeMargin = 256ull << 20;
std::string mib(uint64_t b) { return std::to_string(b >> 20) + " MiB"; }
}  // namespace

std::optional<std::string> swap_dir_problem(const std::string& dir, uint64_t bytes) {
  struct stat st {};
  if (stat(dir.c_str(), &st) != 0) return "cannot use it: " + std::string(std::strerror(errno)) + " (give an existing folder)";
  if (!S_ISDIR(st.st_mode)) return "not a folder (give the folder the swap file is created in)";
  if (access(dir.c_str(), W_OK) != 0) return "not writable: " + std::string(std::strerror(errno));
  struct statvfs v {};
  if (statvfs(dir.c_str(), &v) != 0) return "cannot read its free space: " + std::string(std::strerror(errno));
  const uint64_t free_bytes = static_cast<uint64_t>(v.f_bavail) * v.f_frsize;
  if (free_bytes < bytes + kFreeMargin)
    return mib(free_bytes) + " free; the swap file needs " + mib(bytes) + " and " + mib(kFreeMargin) +
           " must stay free (use a folder on a file system with more room, or fewer --pages)";
  return std::nullopt;
}

std::optional<std::string> swap_device_problem(const std::string& dev, uint64_t bytes) {
  struct stat st {};
  if (stat(dev.c_str(), &st) != 0) return "cannot use it: " + std::string(std::strerror(errno));
  if (!S_ISBLK(st.st_mode)) return "not a block device (give a whole device such as /dev/vdb; for a file use --swap-dir)";
  SysOps ops;
  for (const auto& a : read_swaps(ops))
    if (a.path == dev) return "already a swap area; the suite only uses one it sets up itself";
  int fd = ::open(dev.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "cannot open it: " + std::string(std::strerror(errno));
  uint64_t size = 0;
  int rc = ioctl(fd, BLKGETSIZE64, &size);
  ::close(fd);
  if (rc != 0) return "cannot read its size: " + std::string(std::strerror(errno));
  if (size < bytes) return mib(size) + "; the run needs " + mib(bytes);
  return std::nullopt;
}

}  // namespace swapbench
