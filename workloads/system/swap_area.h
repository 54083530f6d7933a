// A swap area the suite creates for itself: a file, mkswap'd, swapped on at the highest priority
// (32767) so the suite's pages land there even where other swap areas exist; removed afterwards.
#pragma once
#include <cstdint>
#include <string>

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

class SwapAreaGuard {
 public:
  enum class Type { File, Device };
  // File: created, mkswap'd, swapped on, removed after. Device: an existing block device the caller
  // gives up (a guest's scratch disk): mkswap'd (its content is lost) and swapped on; swapped off
  // after. `bytes` is what the run needs; a smaller device is refused.
  SwapAreaGuard(Journal& j, SysOps& ops, std::string path, uint64_t bytes, int priority = kSwapPriority,
                Type type = Type::File);
  ~SwapAreaGuard();
  SwapAreaGuard(const SwapAreaGuard&) = delete;
  SwapAreaGuard& operator=(const SwapAreaGuard&) = delete;
  const std::string& path() const { return path_; }
  uint64_t bytes() const { return bytes_; }
  int priority() const { return priority_; }
  Type type() const { return type_; }

 private:
  void create(SysOps& ops);
  void use_device(SysOps& ops);
  Journal& j_;
  std::string path_;
  uint64_t bytes_;
  int priority_;
  Type type_;
  int file_id_ = 0, swapon_id_ = 0;
};

}  // namespace swapbench
