#include "workloads/system/zram.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <sstream>

#include "workloads/system/swap_area.h"

namespace swapbench {

const char* const kZramControl = "/sys/class/zram-control";

namespace {

std::string sys_of(int id) { return "/sys/block/zram" + std::to_string(id); }

// N of /dev/zramN; -1 for any other path (a damaged entry is never read as some device number).
int id_of(const std::string& dev) {
  const std::string prefix = "/dev/zram";
  if (dev.rfind(prefix, 0) != 0 || dev.size() == prefix.size() || dev.size() > prefix.size() + 6) return -1;
  for (size_t i = prefix.size(); i < dev.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(dev[i]))) return -1;
  return std::stoi(dev.substr(prefix.size()));
}

bool is_swapped_on(const SysOps& ops, const std::string& dev) {
  try {
    for (const auto& a : read_swaps(ops))
      if (a.path == dev) return true;
  } catch (const SystemError&) {  // no /proc/swaps (a fake root): nothing is swapped on
  }
  return false;
}

}  // namespace

std::optional<std::string> zram_problem(const SysOps& ops) {
  if (!ops.exists(std::string(kZramControl) + "/hot_add")) {
    if (ops.exists("/sys/module/zram"))
      return std::string("zram is loaded but has no ") + kZramControl + "/hot_add (a kernel older than 4.2)";
    return std::string("zram is not loaded: no ") + kZramControl +
           " (fix: modprobe zram, or a kernel with CONFIG_ZRAM)";
  }
  return std::nullopt;
}

ZramAlgorithms parse_comp_algorithm(const std::string& text) {
  ZramAlgorithms a;
  std::istringstream in(text);
  std::string w;
  while (in >> w) {
    if (w.size() > 2 && w.front() == '[' && w.back() == ']') {
      w = w.substr(1, w.size() - 2);
      a.selected = w;
    }
    a.offered.push_back(w);
  }
  return a;
}

std::string zram_manual_undo(const std::string& dev, const std::string& diskseq) {
  const int id = id_of(dev);
  if (id < 0) return "nothing to undo by hand: '" + dev + "' is not a zram device path (a damaged journal entry)";
  const std::string sys = sys_of(id);
  return "if [ \"$(cat " + sys + "/diskseq)\" = " + (diskseq.empty() ? "?" : diskseq) + " ]; then swapoff " + dev +
         "; echo 1 > " + sys + "/reset; echo " + std::to_string(id) + " > " + kZramControl + "/hot_remove; fi";
}

std::string undo_zram_device(SysOps& ops, const std::string& dev, const std::string& diskseq) {
  const int id = id_of(dev);
  if (id < 0) throw SystemError("'" + dev + "' is not a zram device path; nothing was touched");
  const std::string sys = sys_of(id);
  if (!ops.exists(sys + "/diskseq")) return "already gone: " + dev;
  if (diskseq.empty()) throw SystemError("not removed: no diskseq was recorded for " + dev + ", so it may not be swapbench's");
  const std::string now = ops.read(sys + "/diskseq");
  if (now != diskseq)
    return "left alone: " + dev + " is no longer the zram device swapbench created (diskseq " + now + ", created as " +
           diskseq + ")";
  if (is_swapped_on(ops, dev)) ops.swapoff(dev);
  // reset frees its memory (and refuses, EBUSY, while the device is open); hot_remove deletes it.
  ops.write(sys + "/reset", "1");
  ops.write(std::string(kZramControl) + "/hot_remove", std::to_string(id));
  return "removed zram device " + dev;
}

ZramGuard::ZramGuard(Journal& j, SysOps& ops) : j_(j), ops_(ops) {
  if (auto why = zram_problem(ops_)) throw SystemError(*why);
  // Created first, recorded after (the number is known only once it exists); a SIGKILL between the
  // two leaves one empty, unconfigured device behind, never a record that could remove another's.
  j_.change([&] {
    const std::string n = ops_.read(std::string(kZramControl) + "/hot_add");
    id_ = id_of("/dev/zram" + n);
    if (id_ < 0) throw SystemError(std::string(kZramControl) + "/hot_add answered '" + n + "', not a device number");
    dev_ = "/dev/zram" + n;
    auto take_back = [&] {
      try {
        ops_.write(std::string(kZramControl) + "/hot_remove", std::to_string(id_));
      } catch (const SystemError&) {
      }
    };
    try {
      diskseq_ = ops_.read(sys() + "/diskseq");
    } catch (const SystemError&) {
      take_back();  // just made and still empty: ours to take back
      throw SystemError(dev_ + " has no diskseq (a kernel older than 5.15): without it a restore could not tell the "
                               "suite's device from another that took its number, so zram is not used here");
    }
    try {
      entry_ = j_.record("zram_device", dev_, "", diskseq_);
    } catch (const SystemError&) {
      take_back();
      throw;
    }
  });
}

ZramGuard::~ZramGuard() { j_.restore(entry_); }

// The header goes only on the device this run made: opened exclusively, still of the diskseq
// hot_add gave it (asked of the open device, so a number reused since cannot pass), and blank, as
// a device made a moment ago is. Anything else is someone else's, and left alone.
void ZramGuard::format_swap(uint64_t disksize) {
  const std::string node = ops_.at(dev_);
  const int fd = ::open(node.c_str(), O_RDWR | O_EXCL | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) throw SystemError("cannot open " + dev_ + " to write its swap header: " + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw SystemError("cannot stat " + dev_ + ": " + std::strerror(errno));
  std::string seq;
  if (S_ISBLK(st.st_mode)) {
    uint64_t n = 0;
    if (ioctl(fd, BLKGETDISKSEQ, &n) != 0)
      throw SystemError("cannot read the diskseq of " + dev_ + ": " + std::strerror(errno) + " (left alone)");
    seq = std::to_string(n);
  } else if (ops_.root() == "/") {
    throw SystemError(dev_ + " is not a block device (left alone)");
  } else {
    seq = ops_.read(sys() + "/diskseq");  // a fake root: a file stands in for the device
  }
  if (seq != diskseq_)
    throw SystemError(dev_ + " is not the zram device this run made (diskseq " + seq + ", made as " + diskseq_ +
                      "): left alone");
  const std::string found = device_signature(fd, dev_);
  if (!found.empty())
    throw SystemError(dev_ + " holds " + found + ", not the blank device this run made: left alone");
  write_swap_header(fd, dev_, disksize, new_swap_uuid());
}

std::string ZramGuard::sys() const { return sys_of(id_); }

ZramAlgorithms ZramGuard::algorithms() const { return parse_comp_algorithm(ops_.read(sys() + "/comp_algorithm")); }

void ZramGuard::configure(const std::string& compressor, uint64_t disksize) {
  j_.change([&] {
    // The compressor before the size: zram takes a new one only while the device holds nothing.
    ops_.write(sys() + "/comp_algorithm", compressor);
    const std::string now = algorithms().selected;
    if (now != compressor) throw SystemError(dev_ + " kept compressor " + now + " when given " + compressor);
    ops_.write(sys() + "/disksize", std::to_string(disksize));
    format_swap(disksize);
  });
  compressor_ = compressor;
  disksize_ = disksize;
}

void ZramGuard::swapon(int priority) {
  if (active_) return;
  j_.change([&] { ops_.swapon(dev_, priority); });
  active_ = true;
}

void ZramGuard::swapoff() {
  if (!active_) return;
  j_.change([&] { ops_.swapoff(dev_); });
  active_ = false;
}

Stats ZramGuard::stats() const { return read_zram_stats(ops_.at(sys())); }

}  // namespace swapbench
