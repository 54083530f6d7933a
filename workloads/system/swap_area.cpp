#include "workloads/system/swap_area.h"

#include <blkid.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <vector>

#include "workloads/system/session.h"

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

std::string mib(uint64_t bytes) { return std::to_string((bytes + (1ull << 20) - 1) >> 20) + " MiB"; }

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::string parent_of(const std::string& p) {
  const auto slash = p.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : p.substr(0, slash);
}

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

void check_fsync(int fd, const std::string& path) {
  if (fsync(fd) != 0) throw SystemError("cannot write the swap area " + path + ": " + std::strerror(errno));
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

// --- block devices, as sysfs and /proc show them --------------------------------------------

std::string devno(dev_t d) { return std::to_string(major(d)) + ":" + std::to_string(minor(d)); }

std::string read_trimmed(const std::string& path) {
  std::ifstream f(path);
  std::string s;
  std::getline(f, s);
  return s;
}

std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') out.push_back(e->d_name);
    ::closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

dev_t parse_devno(const std::string& s) {
  unsigned ma = 0, mi = 0;
  return std::sscanf(s.c_str(), "%u:%u", &ma, &mi) == 2 ? makedev(ma, mi) : 0;
}

// Why block device `d` is in use, or "": a swap area, mounted, or something built on it (holders:
// device-mapper, LVM, md, bcache). Each of these means a swap header would destroy live data.
std::string in_use(dev_t d, const std::string& name) {
  for (const auto& a : read_swaps(SysOps())) {
    struct stat sa {};
    if (::stat(a.path.c_str(), &sa) == 0 && S_ISBLK(sa.st_mode) && sa.st_rdev == d)
      return name + " is a swap area in use (" + a.path + ")";
  }
  std::ifstream mi("/proc/self/mountinfo");
  std::string line;
  while (std::getline(mi, line)) {
    std::istringstream l(line);
    std::string id, parent, majmin, root, point;
    if (l >> id >> parent >> majmin >> root >> point && parse_devno(majmin) == d) return name + " is mounted at " + point;
  }
  std::string holders;
  for (const auto& h : entries("/sys/dev/block/" + devno(d) + "/holders")) holders += (holders.empty() ? "" : ", ") + h;
  if (!holders.empty()) return name + " is held by " + holders + " (device-mapper, LVM, md or bcache built on it)";
  return "";
}

// The device, and the disk it belongs to: a partition's whole disk and every partition of it, or a
// whole disk's partitions. A partition is refused while its disk is in use anywhere (the disk's
// partition table is shared), and a disk while any partition of it is.
std::string disk_in_use(dev_t d, const std::string& name) {
  if (auto why = in_use(d, name); !why.empty()) return why;
  int err = 0;
  const std::string sys = canonical("/sys/dev/block/" + devno(d), &err);
  if (sys.empty()) return "";
  const bool partition = ::access((sys + "/partition").c_str(), F_OK) == 0;
  const std::string disk = partition ? parent_of(sys) : sys;
  const std::string disk_name = disk.substr(disk.rfind('/') + 1);
  std::vector<std::pair<dev_t, std::string>> related;
  if (partition) related.push_back({parse_devno(read_trimmed(disk + "/dev")), "its disk /dev/" + disk_name});
  for (const auto& e : entries(disk))
    if (::access((disk + "/" + e + "/partition").c_str(), F_OK) == 0) {
      dev_t p = parse_devno(read_trimmed(disk + "/" + e + "/dev"));
      if (p != d) related.push_back({p, (partition ? "/dev/" : "its partition /dev/") + e});
    }
  for (const auto& [r, rname] : related)
    if (auto why = in_use(r, rname); !why.empty())
      return name + (partition ? " is a partition of /dev/" + disk_name + ", a disk in use: " : " has a partition in use: ") + why;
  return "";
}

// What libblkid found, in the words of a message and in the fields that tell the suite's own.
struct Found {
  std::string words, type, label, uuid;
};

// A libblkid low-level probe on an open fd, freed on every path.
struct Probe {
  blkid_probe pr;
  Probe(int fd, const std::string& name) : pr(blkid_new_probe()) {
    if (!pr) throw SystemError("libblkid cannot make a probe for " + name);
    if (blkid_probe_set_device(pr, fd, 0, 0) != 0) {
      blkid_free_probe(pr);
      throw SystemError("libblkid cannot read " + name);
    }
  }
  ~Probe() { blkid_free_probe(pr); }
  Probe(const Probe&) = delete;
  Probe& operator=(const Probe&) = delete;
};

Found probe(int fd, const std::string& name) {
  Probe probe(fd, name);
  blkid_probe pr = probe.pr;
  // Superblocks (file systems, swap, RAID, LVM, LUKS) and partition tables: the chains wipefs reads.
  blkid_probe_enable_superblocks(pr, 1);
  blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_USAGE | BLKID_SUBLKS_LABEL | BLKID_SUBLKS_UUID);
  blkid_probe_enable_partitions(pr, 1);
  const int rc = blkid_do_safeprobe(pr);
  Found f;
  if (rc == 1) return f;
  if (rc == -2) {
    f.words = "more than one signature (libblkid finds them ambivalent; `wipefs " + name + "` lists them)";
    return f;
  }
  if (rc < 0) throw SystemError("libblkid cannot probe " + name + ": " + std::strerror(errno));
  auto value = [&](const char* key) {
    const char* v = nullptr;
    return blkid_probe_lookup_value(pr, key, &v, nullptr) == 0 && v ? std::string(v) : std::string();
  };
  f.type = value("TYPE");
  f.label = value("LABEL");
  f.uuid = value("UUID");
  const std::string usage = value("USAGE"), table = value("PTTYPE");
  if (!table.empty()) f.words = "a " + table + " partition table";
  if (!f.type.empty()) {
    const std::string kind = f.type == "swap"         ? "a swap area"
                             : usage == "filesystem" ? "a file system"
                             : usage == "raid"       ? "a RAID or LVM member"
                             : usage == "crypto"     ? "an encrypted volume"
                                                     : "a signature";
    std::string details;
    if (!f.label.empty()) details += ", label " + f.label;
    if (!f.uuid.empty()) details += ", UUID " + f.uuid;
    f.words += (f.words.empty() ? "" : " and ") + f.type + " (" + kind + details + ")";
  }
  if (f.words.empty()) f.words = "a signature libblkid does not name";
  return f;
}

// The suite's own swap area: its label, and its UUID in the journal of a run that has not been
// given back yet (killed; the next start zeroes the header). A finished run zeroes its header, so
// a labelled area no journal holds is someone else's, or copied: refused like any other.
bool journalled_swap_area(const Found& f) {
  if (f.type != "swap" || f.label != kSwapLabel || f.uuid.empty()) return false;
  try {
    SysOps ops;
    Journal j(std::string(kMachineStateDir) + "/journal", ops);
    for (const auto& e : j.pending())
      if (e.op == "swap_signature" && e.extra == f.uuid) return true;
  } catch (const std::exception&) {  // unreadable: then it is not known to be ours
  }
  return false;
}

// Every signature on the device, as wipefs -a removes them (libblkid finds each magic and zeroes it).
std::string wipe_signatures(int fd, const std::string& name) {
  Probe probe(fd, name);
  blkid_probe pr = probe.pr;
  blkid_probe_enable_superblocks(pr, 1);
  blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_MAGIC | BLKID_SUBLKS_TYPE | BLKID_SUBLKS_BADCSUM);
  blkid_probe_enable_partitions(pr, 1);
  blkid_probe_set_partitions_flags(pr, BLKID_PARTS_MAGIC);
  std::string wiped;
  while (blkid_do_probe(pr) == 0) {
    const char* t = nullptr;
    if (blkid_probe_lookup_value(pr, "TYPE", &t, nullptr) != 0) blkid_probe_lookup_value(pr, "PTTYPE", &t, nullptr);
    const std::string what = t ? t : "a signature";
    if (blkid_do_wipe(pr, 0) != 0) throw SystemError("cannot wipe " + what + " on " + name + ": " + std::strerror(errno));
    wiped += (wiped.empty() ? "" : ", ") + what;
  }
  check_fsync(fd, name);
  return wiped;
}

// Opens the device for a swap header, or says why it must not get one whatever the user says: not a
// block device, a path others could repoint, in use (it or its disk), open exclusively elsewhere.
// O_EXCL is held while the caller reads and writes: the kernel refuses a mount or swapon meanwhile.
int open_device(const std::string& device, int flags, std::string* real, std::string* why) {
  const std::string always = " (refused even with --swap-device-wipe)";
  const std::string fix = " (fix: --swap-device a spare block device nobody uses, e.g. a guest's scratch disk)";
  struct stat st {};
  if (::stat(device.c_str(), &st) != 0) return *why = device + ": " + std::strerror(errno) + fix, -1;
  if (!S_ISBLK(st.st_mode)) return *why = device + " is not a block device" + fix, -1;
  int err = 0;
  *real = canonical(device, &err);
  if (real->empty()) return *why = device + ": " + std::strerror(err) + fix, -1;
  if (auto other = folder_others_control(parent_of(*real)))
    return *why = device + " (" + *real + "): " + *other + always, -1;
  if (auto busy = disk_in_use(st.st_rdev, device); !busy.empty()) return *why = busy + always, -1;
  const int fd = ::open(real->c_str(), flags | O_EXCL | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0 && errno == EBUSY)
    return *why = device + " is open exclusively by another program (a file system, device-mapper, md, or a "
                           "program such as a virtual machine)" + always, -1;
  if (fd < 0) return *why = device + ": " + std::strerror(errno) + fix, -1;
  struct stat now {};
  if (::fstat(fd, &now) != 0 || !S_ISBLK(now.st_mode) || now.st_rdev != st.st_rdev) {
    ::close(fd);
    return *why = device + " changed while it was checked" + always, -1;
  }
  return fd;
}

std::optional<uint64_t> device_size(int fd) {
  uint64_t size = 0;
  if (ioctl(fd, BLKGETSIZE64, &size) != 0) return std::nullopt;
  return size;
}

std::string holds_message(const std::string& device, const std::string& words) {
  return device + " holds " + words + "; the suite writes a swap header only on a blank device (fix: a blank " +
         "device, or --swap-device-wipe to destroy what is on it)";
}

}  // namespace

std::string device_signature(int fd, const std::string& name) { return probe(fd, name).words; }

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

std::string erase_swap_signature(const SysOps& ops, const std::string& dev, const std::string& uuid) {
  const std::string node = ops.at(dev);
  Fd f{::open(node.c_str(), O_RDWR | O_EXCL | O_CLOEXEC | O_NOFOLLOW)};
  if (f.fd < 0 && (errno == ENOENT || errno == ENXIO)) return "already gone: " + dev;
  if (f.fd < 0 && errno == EBUSY) throw SystemError(dev + " is in use (swapped on or mounted): its swap header is left");
  if (f.fd < 0) throw SystemError("cannot open " + dev + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) throw SystemError("cannot stat " + dev + ": " + std::strerror(errno));
  // A fake root (unit tests) stands a file in for the device.
  if (!S_ISBLK(st.st_mode) && !(ops.root() != "/" && S_ISREG(st.st_mode)))
    return "left alone: " + dev + " is no longer a block device";
  const Found found = probe(f.fd, dev);
  if (found.type != "swap" || found.uuid != uuid)
    return "left alone: " + dev + " no longer holds the swap area swapbench made (UUID " + uuid + "; it holds " +
           (found.words.empty() ? std::string("nothing") : found.words) + ")";
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  std::vector<char> zeros(page, 0);
  if (pwrite(f.fd, zeros.data(), page, 0) != static_cast<ssize_t>(page))
    throw SystemError("cannot zero the swap header on " + dev + ": " + std::strerror(errno));
  check_fsync(f.fd, dev);
  return "zeroed the swap header swapbench wrote on " + dev;
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

std::optional<std::string> swap_device_problem(const std::string& device, uint64_t bytes, bool wipe) {
  std::string real, why;
  Fd f{open_device(device, O_RDONLY, &real, &why)};
  if (f.fd < 0) return why;
  auto size = device_size(f.fd);
  if (!size) return device + ": cannot read its size: " + std::strerror(errno);
  if (*size < bytes)
    return device + " holds " + mib(*size) + ", the run needs " + mib(bytes) + " (fix: a larger device, or fewer --pages)";
  Found found;
  try {
    found = probe(f.fd, device);
  } catch (const SystemError& e) {
    return std::string(e.what()) + " (refused: what is on it cannot be told)";
  }
  if (!found.words.empty() && !wipe && !journalled_swap_area(found)) return holds_message(device, found.words);
  return std::nullopt;
}

SwapAreaGuard::SwapAreaGuard(Journal& j, SysOps& ops, std::string path, uint64_t bytes, int priority, Type type,
                             bool exact, bool wipe)
    : j_(j), ops_(ops), path_(std::move(path)), bytes_(bytes), priority_(priority), type_(type), exact_(exact),
      wipe_(wipe) {
  j_.change([&] { type_ == Type::Device ? use_device(ops) : create(ops); });
}

void SwapAreaGuard::use_device(SysOps& ops) {
  std::string real, why;
  Fd f{open_device(ops.at(path_), O_RDWR, &real, &why)};
  if (f.fd < 0) throw SystemError("--swap-device " + why);
  auto size = device_size(f.fd);
  if (!size) throw SystemError("--swap-device " + path_ + ": cannot read its size: " + std::strerror(errno));
  if (*size < bytes_) throw SystemError("--swap-device " + path_ + " holds " + mib(*size) + ", the run needs " + mib(bytes_));
  // A swap area of the suite's that a killed run left was zeroed by the session's restore before
  // this point: whatever is found now is someone else's.
  const std::string found = probe(f.fd, path_).words;
  if (!found.empty() && !wipe_) throw SystemError("--swap-device " + holds_message(path_, found));
  if (!found.empty())
    std::cerr << "swapbench: --swap-device-wipe: destroying " << found << " on " << path_
              << " (wiped: " << wipe_signatures(f.fd, path_) << ")\n";
  if (!exact_) bytes_ = *size;
  // The node as resolved (in a folder only root can change) is what swapon and the restore use.
  path_ = real;
  const std::string uuid = new_swap_uuid();
  signature_id_ = j_.record("swap_signature", path_, "", uuid);
  write_swap_header(f.fd, path_, bytes_, uuid);
  ::close(f.fd);  // swapon claims the device exclusively: our O_EXCL must be gone first
  f.fd = -1;
  swapon_id_ = j_.record("swapon", path_);
  ops.swapon(path_, priority_);
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
