// zram devices the suite makes for itself: created (zram-control/hot_add), given a compressor and a
// size, mkswap'd, swapped on and off, and taken back (swapoff, reset, hot_remove). A device is
// journalled the moment it exists, with its diskseq: device numbers are reused at once (the next
// hot_add after a hot_remove gets the same N), a diskseq never is, so a restore touches only the
// very device the suite created, never zram0 or anyone else's zramN that took the number since.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "workloads/measure/kstat.h"
#include "workloads/system/journal.h"

namespace swapbench {

extern const char* const kZramControl;  // "/sys/class/zram-control"

// Why the suite cannot make zram devices here, with the fix; nothing when it can.
std::optional<std::string> zram_problem(const SysOps& ops);

// comp_algorithm as the kernel shows it ("[lzo-rle] lzo lz4"): the names offered, in its order,
// and the selected one (in brackets).
struct ZramAlgorithms {
  std::vector<std::string> offered;
  std::string selected;
};
ZramAlgorithms parse_comp_algorithm(const std::string& text);

// The undo of a journal "zram_device" entry (path /dev/zramN, extra its diskseq): when the device
// is still the one the suite created, swapoff (if it is a swap area), reset, hot_remove. Returns
// what it did; SystemError when a step fails. zram_manual_undo: the same as shell commands.
std::string undo_zram_device(SysOps& ops, const std::string& dev, const std::string& diskseq);
std::string zram_manual_undo(const std::string& dev, const std::string& diskseq);

class ZramGuard {
 public:
  // A new device (hot_add), unconfigured, journalled before anything else is done to it.
  ZramGuard(Journal& j, SysOps& ops);
  ~ZramGuard();
  ZramGuard(const ZramGuard&) = delete;
  ZramGuard& operator=(const ZramGuard&) = delete;
  int id() const { return id_; }
  const std::string& device() const { return dev_; }  // /dev/zramN
  std::string sys() const;                            // /sys/block/zramN
  const std::string& diskseq() const { return diskseq_; }
  // What this device offers, read from its comp_algorithm (never assumed: a kernel's build decides).
  ZramAlgorithms algorithms() const;
  // The compressor (one it offers), the size, mkswap: once per device (zram refuses a new
  // compressor once it holds data). SystemError with the kernel's answer.
  void configure(const std::string& compressor, uint64_t disksize);
  const std::string& compressor() const { return compressor_; }
  uint64_t disksize() const { return disksize_; }
  // Swapped on at `priority` and off again; the device's journal entry covers both (its undo swaps
  // off first).
  void swapon(int priority);
  void swapoff();
  bool active() const { return active_; }
  Stats stats() const;

 private:
  void format_swap(uint64_t disksize);
  Journal& j_;
  SysOps& ops_;
  int id_ = -1, entry_ = 0;
  std::string dev_, diskseq_, compressor_;
  uint64_t disksize_ = 0;
  bool active_ = false;
};

}  // namespace swapbench
