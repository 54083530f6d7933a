// The swap area (workloads/system/swap_area.h): /proc/swaps, the swap header the suite writes, the
// folder a swap file may go in, and the swap file's set-up; a block device's vetting and set-up are
// swap_device.cpp.
#include "workloads/system/swap_area.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <vector>

#include "workloads/system/swap_area_parts.h"

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
      s.used_bytes = used * 1024;
      out.push_back(s);
    }
  }
  return out;
}

namespace swap_area_parts {

std::string mib(uint64_t bytes) { return std::to_string((bytes + (1ull << 20) - 1) >> 20) + " MiB"; }

std::string parent_of(const std::string& p) {
  const auto slash = p.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : p.substr(0, slash);
}

void check_fsync(int fd, const std::string& path) {
  if (fsync(fd) != 0) throw SystemError("cannot write the swap area " + path + ": " + std::strerror(errno));
}

// The folder and every folder above it: a user other than root (or this process's own user, in a
// fake root) who owns one, or may write one without the sticky bit, could rename the swap file's
// folder away and put their own in its place between creation and swapon.
std::optional<std::string> folder_others_control(const std::string& real_dir) {
  for (std::string cur = real_dir;; cur = parent_of(cur)) {
    struct stat st {};
    if (::lstat(cur.c_str(), &st) != 0) return cur + ": " + std::strerror(errno);
    if (st.st_uid != 0 && st.st_uid != geteuid())
      return cur + " belongs to uid " + std::to_string(st.st_uid) + ", who could replace what the run makes there";
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)) {
      char mode[8];
      std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
      return cur + " is writable by other users (mode " + mode + ") without the sticky bit, so they could replace "
             "what the run makes there";
    }
    if (cur == "/" || cur == ".") return std::nullopt;
  }
}

std::string canonical(const std::string& p, int* err) {
  char buf[PATH_MAX];
  if (!::realpath(p.c_str(), buf)) {
    *err = errno;
    return "";
  }
  return buf;
}

}  // namespace swap_area_parts

using namespace swap_area_parts;

namespace {

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

void random_bytes(unsigned char* buf, size_t n) {
  for (size_t got = 0; got < n;) {
    ssize_t r = getrandom(buf + got, n - got, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw SystemError(std::string("getrandom: ") + std::strerror(errno));
    got += static_cast<size_t>(r);
  }
}

std::string hex(const unsigned char* b, size_t n) {
  std::string s;
  char two[3];
  for (size_t i = 0; i < n; ++i) {
    std::snprintf(two, sizeof two, "%02x", b[i]);
    s += two;
  }
  return s;
}

}  // namespace

std::string new_swap_uuid() {
  unsigned char b[16];
  random_bytes(b, sizeof b);
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4 (random), as RFC 4122 marks it
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  const std::string h = hex(b, sizeof b);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

void write_swap_header(int fd, const std::string& name, uint64_t bytes, const std::string& uuid) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const uint64_t pages = bytes / page;
  if (pages < 10) throw SystemError(name + ": " + std::to_string(bytes) + " bytes is too small for a swap area");
  if (pages - 1 > UINT32_MAX) throw SystemError(name + ": " + mib(bytes) + " is more than a swap header can describe");
  // Linux's union swap_header (include/linux/swap.h): 1024 bytes left for a boot loader, then in the
  // CPU's byte order version (1), last_page (the highest page index swap may use), nr_badpages,
  // the 16-byte UUID, a 16-byte label; the page ends in the magic "SWAPSPACE2".
  std::vector<unsigned char> h(page, 0);
  const uint32_t version = 1, last_page = static_cast<uint32_t>(pages - 1), bad = 0;
  std::memcpy(&h[1024], &version, 4);
  std::memcpy(&h[1028], &last_page, 4);
  std::memcpy(&h[1032], &bad, 4);
  std::string digits;
  for (char c : uuid)
    if (c != '-') digits += c;
  if (digits.size() != 32) throw SystemError("not a UUID: " + uuid);
  for (size_t i = 0; i < 16; ++i) h[1036 + i] = static_cast<unsigned char>(std::stoul(digits.substr(2 * i, 2), nullptr, 16));
  std::memcpy(&h[1052], kSwapLabel, std::min<size_t>(std::strlen(kSwapLabel), 16));
  std::memcpy(&h[page - 10], "SWAPSPACE2", 10);
  if (pwrite(fd, h.data(), page, 0) != static_cast<ssize_t>(page))
    throw SystemError("cannot write the swap header on " + name + ": " + std::strerror(errno));
  check_fsync(fd, name);
}

std::optional<std::string> swap_dir_problem(const std::string& dir, uint64_t bytes) {
  // Only a root run makes a swap file; an ordinary user cannot even look into root's folder.
  const std::string fix = geteuid() != 0 ? " (fix: run as root; only a root run makes a swap file)"
                                         : std::string(" (fix: --swap-dir a folder of root's on a local disk file "
                                                       "system; by default swap files go to ") + kDefaultSwapDir + ")";
  // The default folder is made at the run: until then its nearest existing parent is what is checked.
  std::string look = dir;
  struct stat st {};
  if (dir == kDefaultSwapDir)
    while (::stat(look.c_str(), &st) != 0 && errno == ENOENT && look != "/") look = parent_of(look);
  if (::stat(look.c_str(), &st) != 0) return dir + ": " + std::strerror(errno) + fix;
  if (!S_ISDIR(st.st_mode)) return dir + " is not a folder" + fix;
  if (access(look.c_str(), W_OK | X_OK) != 0) return dir + " is not writable: " + std::strerror(errno) + fix;
  int err = 0;
  const std::string real = canonical(look, &err);
  if (real.empty()) return dir + ": " + std::strerror(err) + fix;
  if (auto why = folder_others_control(real)) return dir + ": " + *why + fix;
  struct statfs sf {};
  struct statvfs sv {};
  if (statfs(look.c_str(), &sf) != 0 || statvfs(look.c_str(), &sv) != 0)
    return "cannot read the file system of " + dir + ": " + std::strerror(errno) + fix;
  // The kernel refuses swap files on these (swapon: EINVAL), found only after the file was made.
  if (sf.f_type == TMPFS_MAGIC || sf.f_type == RAMFS_MAGIC) return dir + " is on tmpfs/ramfs, which cannot hold a swap file" + fix;
  const uint64_t avail = static_cast<uint64_t>(sv.f_bavail) * sv.f_frsize;
  if (bytes > avail || avail - bytes < kSwapDirMargin)
    return dir + " has " + mib(avail) + " free; a " + mib(bytes) + " swap file needs that plus " + mib(kSwapDirMargin) +
           " left for everything else (fix: free space there, --swap-dir on a file system with more room, or fewer --pages)";
  return std::nullopt;
}

SwapAreaGuard::SwapAreaGuard(Journal& j, SysOps& ops, std::string path, uint64_t bytes, int priority, Type type,
                             bool exact, bool wipe)
    : j_(j), ops_(ops), path_(std::move(path)), bytes_(bytes), priority_(priority), type_(type), exact_(exact),
      wipe_(wipe) {
  j_.change([&] { type_ == Type::Device ? use_device(ops) : create(ops); });
}

void SwapAreaGuard::create(SysOps& ops) {
  const std::string dir = path_, real_dir = ops.at(dir);
  if (dir == kDefaultSwapDir) {
    // Made 0700 where missing; the state folder above may be made by the session a moment later
    // with its own mode, which is checked below like any other folder.
    ::mkdir(parent_of(real_dir).c_str(), 0700);
    ::mkdir(real_dir.c_str(), 0700);
  }
  if (auto why = swap_dir_problem(real_dir, bytes_)) throw SystemError("--swap-dir " + *why);
  Fd d{::open(real_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)};
  if (d.fd < 0) throw SystemError("cannot open the swap folder " + dir + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(d.fd, &st) != 0) throw SystemError("cannot stat the swap folder " + dir + ": " + std::strerror(errno));
  if (st.st_uid != 0 && st.st_uid != geteuid())
    throw SystemError("the swap folder " + dir + " belongs to uid " + std::to_string(st.st_uid) + " (left alone)");
  if (dir == kDefaultSwapDir && (st.st_mode & 077) && fchmod(d.fd, 0700) != 0)
    throw SystemError("cannot make the swap folder " + dir + " private (0700): " + std::strerror(errno));
  if (dir != kDefaultSwapDir && (st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX))
    throw SystemError("--swap-dir " + dir + " is writable by other users without the sticky bit (left alone)");
  // A random name, created exclusively: a file already there is never touched, and no user can
  // take every name the run might pick.
  std::string name;
  int fd = -1;
  for (int tries = 0; fd < 0; ++tries) {
    unsigned char r[8];
    random_bytes(r, sizeof r);
    name = "swapbench-" + std::to_string(getpid()) + "-" + hex(r, sizeof r) + ".swap";
    fd = ::openat(d.fd, name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && (errno != EEXIST || tries == 16))
      throw SystemError("cannot create a swap file in " + dir + ": " + std::strerror(errno) +
                        (errno == EEXIST ? " (17 random names were all taken: someone is making files there; they "
                                           "are left alone)"
                                         : ""));
  }
  Fd closer{fd};  // closed on every path, the throwing ones included
  path_ = (dir == "/" ? "" : dir) + "/" + name;
  const std::string real = real_dir + "/" + name;
  // Journalled only once O_EXCL proved the file is ours, with its inode, so no restore can remove a
  // file that was there before (or took the name later). A SIGKILL between the open and the record
  // leaves an empty file behind in the run's own folder: far better than deleting someone's file.
  try {
    const std::string identity = file_identity(fd, "");
    if (identity.empty()) throw SystemError("cannot stat the swap file " + real + ": " + std::strerror(errno));
    file_id_ = j_.record("create_file", path_, "", identity);
  } catch (const SystemError&) {
    ::unlinkat(d.fd, name.c_str(), 0);  // ours (O_EXCL, still open), but unrecorded: taken back now
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
  write_swap_header(fd, real, bytes_, new_swap_uuid());
  swapon_id_ = j_.record("swapon", path_);
  try {
    ops.swapon(path_, priority_);
  } catch (const SystemError&) {
    if (!preallocated) throw;
    write_zeros(fd, real, bytes_);
    check_fsync(fd, real);
    write_swap_header(fd, real, bytes_, new_swap_uuid());
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
  j_.restore(signature_id_);
  j_.restore(file_id_);
}

}  // namespace swapbench
