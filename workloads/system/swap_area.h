// A swap area the suite creates for itself: a file, mkswap'd, swapped on at the highest priority
// (32767) so the suite's pages land there even where other swap areas exist; removed afterwards.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "workloads/system/journal.h"

namespace swapbench {

constexpr int kSwapPriority = 32767;

struct SwapAreaInfo {
  std::string path, type;
  uint64_t size_bytes = 0;
  int priority = 0;
};
// /proc/swaps, parsed (fixture-testable through the root).
std::vector<SwapAreaInfo> read_swaps(const SysOps& ops);

// Room a swap file leaves free on its file system, on top of its own size: the journal, the result
// file and everyone else's writes on that file system (often /) must still fit while the run holds
// its swap file. Free space is counted as an ordinary user sees it (f_bavail), so the blocks ext4
// keeps for root are never eaten either.
constexpr uint64_t kSwapDirMargin = 256ull << 20;

// Pure, read-only prechecks for a plan made before anything changes. Each returns why `bytes` of
// swap cannot go there (naming the path and what would fix it), or nothing if it can.
// A folder for the swap file: missing, not a folder, not writable, a file system that cannot hold
// swap (tmpfs), or less free than bytes + kSwapDirMargin.
std::optional<std::string> swap_dir_problem(const std::string& dir, uint64_t bytes);
// A block device to mkswap: not a block device, already a swap area, in use (mounted, held by
// device-mapper/md), or smaller than bytes.
std::optional<std::string> swap_device_problem(const std::string& device, uint64_t bytes);

// mkswap on a file or block device (its output discarded); SystemError when it fails.
void run_mkswap(const std::string& path, uint64_t bytes = 0);  // bytes > 0: only that much becomes swap

class SwapAreaGuard {
 public:
  enum class Type { File, Device };
  // File: created, mkswap'd, swapped on, removed after; a file that already has the name is never
  // touched (refused). Device: an existing block device the caller gives up (a guest's scratch disk):
  // mkswap'd (its content is lost) and swapped on; swapped off after. `bytes` is what the run needs;
  // where it does not fit (swap_dir_problem, swap_device_problem) nothing is changed and the
  // SystemError says why.
  // exact (Device): mkswap uses only `bytes` of the device, not all of it.
  SwapAreaGuard(Journal& j, SysOps& ops, std::string path, uint64_t bytes, int priority = kSwapPriority,
                Type type = Type::File, bool exact = false);
  ~SwapAreaGuard();
  SwapAreaGuard(const SwapAreaGuard&) = delete;
  SwapAreaGuard& operator=(const SwapAreaGuard&) = delete;
  const std::string& path() const { return path_; }
  uint64_t bytes() const { return bytes_; }
  int priority() const { return priority_; }
  Type type() const { return type_; }
  // Swapped off and on again around sets of another backend (zram), so that only one of the
  // suite's swap areas is on while a set runs and its pages cannot land on another. The journal's
  // swapon entry covers the area either way (its undo, swapoff, accepts an area already off).
  void pause();
  void resume();
  bool active() const { return active_; }

 private:
  void create(SysOps& ops);
  void use_device(SysOps& ops);
  Journal& j_;
  SysOps& ops_;
  std::string path_;
  uint64_t bytes_;
  int priority_;
  Type type_;
  bool exact_;
  int file_id_ = 0, swapon_id_ = 0;
  bool active_ = true;
};

}  // namespace swapbench
