// zswap: pages compressed into a RAM pool in front of the run's swap file. Its guard
// (workloads/system/zswap.h) is borrowed by every privileged run, since zswap must be off under
// the other backends' sets; what this file adds is its compressors and switching it on and off.
#include "bench/backend.h"
#include "bench/borrow.h"

namespace swapbench {
namespace {

class Zswap : public SwapBackend {
 public:
  Zswap()
      : SwapBackend({.id = Backend::Zswap,
                     .description = "zswap: pages compressed into a RAM pool in front of the swap file",
                     .compresses = true,
                     .swap_file = true,
                     .zpool = "zsmalloc (the only zpool; no zpool parameter)",
                     .rank = 0}) {}

  void borrow(Borrowed& b, const Plan& p) const override {
    if (b.zswap) b.compressors = b.zswap->probe_compressors(p.compressors.empty() ? kKnownCompressors : p.compressors);
  }

  void probe(const Borrowed& b, Capabilities& c) const override {
    c.zswap = b.zswap != nullptr;
    c.accepted = b.compressors.accepted;
    c.refused = b.compressors.refused;
  }

  // The other backends' sets too: an enabled zswap would store their pages before zram or the disk.
  void release(Borrowed& b) const override {
    if (b.zswap) b.zswap->set("enabled", "N");
  }

  void activate(Borrowed& b, const std::string& compressor, nlohmann::json&) const override {
    if (!b.zswap) return;
    if (b.zswap->get("compressor") != compressor) b.zswap->set("compressor", compressor);
    b.zswap->set("enabled", "Y");
  }
};

const BackendRegistrar registrar(std::make_unique<Zswap>());

}  // namespace
}  // namespace swapbench
