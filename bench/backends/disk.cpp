// disk: the run's swap file (or --swap-device) alone, zswap off. The swap area's guard
// (workloads/system/swap_area.h) is shared with zswap's sets, so it is borrowed and switched by
// bench/borrow.cpp and switch_to(); a disk set adds nothing of its own.
#include "bench/backend.h"

namespace swapbench {
namespace {

class Disk : public SwapBackend {
 public:
  Disk()
      : SwapBackend({.id = Backend::Disk,
                     .description = "the swap file (or --swap-device) alone, zswap off",
                     .compresses = false,
                     .swap_file = true,
                     .zpool = "none",
                     .rank = 1}) {}
};

const BackendRegistrar registrar(std::make_unique<Disk>());

}  // namespace
}  // namespace swapbench
