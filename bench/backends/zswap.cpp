// zswap: pages compressed into a RAM pool in front of the run's swap file. Its guard
// (workloads/system/zswap.h) is borrowed by every privileged run, since zswap must be off under
// the other backends' sets; what this file adds is its compressors and switching it on and off.
#include "bench/backend.h"
#include "bench/borrow.h"
#include "bench/plan.h"

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
                     .rank = 0,
                     .set_rank = 0,
                     .every_compressor = "(every accepted)",
                     .missing_fix = "use a kernel with CONFIG_ZSWAP=y"}) {}

  void expect_path(ProofRules& r, int64_t n, SwapDirection dir) const override {
    r.v.path = "zswap";
    r.expect("zswp" + dir_name(dir), n);
    r.expect("pswp" + dir_name(dir), 0);
  }
  // zswap compresses the page before MADV_PAGEOUT returns.
  bool stores_synchronously() const override { return true; }

  void borrow(Borrowed& b, const Plan& p) const override {
    if (b.zswap) b.compressors = b.zswap->probe_compressors(p.compressors.empty() ? kKnownCompressors : p.compressors);
  }

  void probe(const Borrowed& b, BackendCaps& c) const override {
    c.available = b.zswap != nullptr;
    if (!c.available) c.reason = "zswap is not in this kernel (no /sys/module/zswap)";
    c.compressors = b.compressors.accepted;
    c.refused = b.compressors.refused;
  }

  std::string refusal(const BackendCaps& c, const std::string& name) const override {
    auto why = c.refused.find(name);
    return "this kernel refuses it" + (why != c.refused.end() ? " (" + why->second + ")" : "") +
           "; it accepts: " + comma_list(c.compressors) + " (load it with modprobe " + name +
           ", or use a kernel built with its CONFIG_CRYPTO_ option)";
  }
  std::string refusal_fix(const std::string& name) const override { return "modprobe " + name; }

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
