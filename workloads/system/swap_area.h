// A swap area the suite creates for itself: a file (or a blank device given up for it) with a swap
// header the suite writes itself, swapped on at the highest priority (32767) so the suite's pages
// land there even where other swap areas exist; removed (the device's header zeroed) afterwards.
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
  uint64_t size_bytes = 0, used_bytes = 0;
  int priority = 0;
};
// /proc/swaps, parsed (fixture-testable through the root).
std::vector<SwapAreaInfo> read_swaps(const SysOps& ops);

// Room a swap file leaves free on its file system, on top of its own size: the journal, the result
// file and everyone else's writes on that file system (often /) must still fit while the run holds
// its swap file. Free space is counted as an ordinary user sees it (f_bavail), so the blocks ext4
// keeps for root are never eaten either.
constexpr uint64_t kSwapDirMargin = 256ull << 20;

// Where swap files go unless --swap-dir says otherwise: a folder of the machine state folder, made
// 0700 and the run's own, so no other user can take the file's name before the run (an ordinary
// user could fill /var/tmp with every name the run might pick) or swap the file for another between
// its creation and swapon (swapped-out pages would then land in a file that user can read).
constexpr const char* kDefaultSwapDir = "/var/lib/swapbench/swap";

// The label of every swap header the suite writes; with the header's UUID, journalled before the
// header is written, it tells the suite's own swap area from anyone else's.
constexpr const char* kSwapLabel = "swapbench";

// Pure, read-only prechecks for a plan made before anything changes. Each returns why `bytes` of
// swap cannot go there (naming the path and what would fix it), or nothing if it can.
// A folder for the swap file: missing (the default folder may be: it is made at the run), not a
// folder, not writable, a folder another user could change (owned by someone other than root, or
// writable by group or others without the sticky bit, it or a folder above it), a file system that
// cannot hold swap (tmpfs), or less free than bytes + kSwapDirMargin.
std::optional<std::string> swap_dir_problem(const std::string& dir, uint64_t bytes);
// A block device to turn into swap. Refused always: not a block device, a path another user could
// repoint, in use (a swap area, mounted, held by device-mapper/md/LVM, open exclusively), a partition
// of a disk in use or a whole disk with a partition in use, smaller than bytes. Refused unless
// `wipe` (--swap-device-wipe): anything libblkid finds on it (a file system, a partition table,
// RAID, LVM, LUKS, a swap area that is not one of the suite's journalled ones).
std::optional<std::string> swap_device_problem(const std::string& device, uint64_t bytes, bool wipe = false);

// What libblkid finds on a device or file (superblocks and partition tables), in words: "" for
// nothing, else e.g. "an ext4 file system (UUID ...)", "a dos partition table". fd stays open.
// SystemError when it cannot be read.
std::string device_signature(int fd, const std::string& name);

// The suite's own mkswap, written through an open fd (never by path, so nothing can be swapped in
// under the name between the checks and the write): the first page zeroed, then a version-1 swap
// header for `bytes` (the last page, label kSwapLabel, uuid) and its magic; fsync'd.
void write_swap_header(int fd, const std::string& name, uint64_t bytes, const std::string& uuid);
std::string new_swap_uuid();  // random, as 8-4-4-4-12 hex digits

// The undo of a journal "swap_signature" entry: the header the suite wrote on block device `dev`
// (its UUID `uuid`) is zeroed, so the device is as blank as the suite found it; left alone when the
// device holds anything else now. Returns what it did; SystemError when it cannot.
std::string erase_swap_signature(const SysOps& ops, const std::string& dev, const std::string& uuid);

class SwapAreaGuard {
 public:
  enum class Type { File, Device };
  // File: `path` is the folder (kDefaultSwapDir is made if missing); the file gets a random name
  // there (swapbench-<pid>-<random>.swap, O_EXCL: a file already there is never touched, and names
  // taken in advance cannot stop the run), a swap header, swapon, and is removed after.
  // Device: an existing block device the caller gives up (a guest's scratch disk): given a swap
  // header (journalled with its UUID, and zeroed again after, so the device is left blank) and
  // swapped on; swapped off after. A device holding anything is refused unless `wipe`, which
  // destroys what is there first. `bytes` is what the run needs; where it does not fit
  // (swap_dir_problem, swap_device_problem) nothing is changed and the SystemError says why.
  // exact (Device): the header covers only `bytes` of the device, not all of it.
  SwapAreaGuard(Journal& j, SysOps& ops, std::string path, uint64_t bytes, int priority = kSwapPriority,
                Type type = Type::File, bool exact = false, bool wipe = false);
  ~SwapAreaGuard();
  SwapAreaGuard(const SwapAreaGuard&) = delete;
  SwapAreaGuard& operator=(const SwapAreaGuard&) = delete;
  const std::string& path() const { return path_; }  // the swap file or the device
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
  bool exact_, wipe_;
  int file_id_ = 0, signature_id_ = 0, swapon_id_ = 0;
  bool active_ = true;
};

}  // namespace swapbench
