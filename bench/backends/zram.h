// What a run borrowed for zram, for the one reader outside bench/backends/zram.cpp that drives
// devices by hand (capacity's --validate).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "bench/borrow.h"
#include "workloads/system/zram.h"

namespace swapbench {

// One device per compressor (zram fixes it once a device holds data), made and configured when
// borrowing; what a device offers, or why there are none.
struct ZramDevices : BackendState {
  std::vector<std::unique_ptr<ZramGuard>> devices;
  std::vector<std::string> offered;
  std::string reason;
  ZramGuard* active = nullptr;  // the device the current set swaps to
};

// What zram offers here, asked as a run asks it: why it cannot be used, or a device the suite
// made (journalled, removed with its guard) and the compressors it offers. Throws SystemError.
struct ZramOffer {
  std::string reason;
  std::unique_ptr<ZramGuard> device;
  std::vector<std::string> offered;
};
ZramOffer offer_of_zram(Journal& j, SysOps& ops);

// Null when the run borrowed nothing for zram (its plan has no zram sets).
const ZramDevices* zram_devices(const Borrowed& b);

}  // namespace swapbench
