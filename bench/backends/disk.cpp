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
                     .rank = 1,
                     .set_rank = 2}) {}

  void expect_path(ProofRules& r, int64_t n, SwapDirection dir) const override {
    r.v.path = "disk";
    r.expect("pswp" + dir_name(dir), n);
    if (r.d.count("zswp" + dir_name(dir))) r.expect("zswp" + dir_name(dir), 0);
  }
};

const BackendRegistrar registrar(std::make_unique<Disk>());

}  // namespace
}  // namespace swapbench
