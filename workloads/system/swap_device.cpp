// The block-device half of the swap area (workloads/system/swap_area.h): whether a device given by
// --swap-device may get a swap header (in use, others' signatures, the suite's own), and setting it
// up; the swap-file half and the header itself are swap_area.cpp.
#include <blkid.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <vector>

#include "workloads/system/session.h"
#include "workloads/system/swap_area.h"
#include "workloads/system/swap_area_parts.h"

namespace swapbench {

using namespace swap_area_parts;

namespace {

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

}  // namespace swapbench
