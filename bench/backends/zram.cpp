// zram: a device the run makes per compressor, the only swap area on under its sets. Devices are
// made, journalled and taken back by workloads/system/zram.cpp; here is what a run does with them.
#include "bench/backends/zram.h"

#include <algorithm>

#include "bench/backend.h"
#include "bench/plan.h"

namespace swapbench {

const ZramDevices* zram_devices(const Borrowed& b) {
  auto it = b.backend_state.find(Backend::Zram);
  return it == b.backend_state.end() ? nullptr : static_cast<const ZramDevices*>(it->second.get());
}

namespace {

ZramDevices* devices_of(Borrowed& b) { return const_cast<ZramDevices*>(zram_devices(b)); }

class Zram : public SwapBackend {
 public:
  Zram()
      : SwapBackend({.id = Backend::Zram,
                     .description = "a zram device the run makes, one per compressor, as the only swap area on",
                     .compresses = true,
                     .swap_file = false,
                     .zpool = "zsmalloc (zram's only allocator)",
                     .rank = 2}) {}

  void borrow(Borrowed& b, const Plan& p) const override {
    auto z = std::make_unique<ZramDevices>();
    ZramDevices& d = *z;
    b.backend_state[Backend::Zram] = std::move(z);
    if (auto why = zram_problem(b.ops)) {
      d.reason = *why;
      return;
    }
    Journal& j = b.session->journal();
    // The first device tells what zram offers; it then serves the first compressor used.
    d.devices.push_back(std::make_unique<ZramGuard>(j, b.ops));
    d.offered = d.devices.front()->algorithms().offered;
    bool first = true;
    for (const auto& c : p.compressors.empty() ? d.offered : p.compressors) {
      if (!std::count(d.offered.begin(), d.offered.end(), c)) continue;  // expand() says why
      if (!first) d.devices.push_back(std::make_unique<ZramGuard>(j, b.ops));
      d.devices.back()->configure(c, p.swap_bytes);
      first = false;
    }
    if (first) d.devices.clear();  // nothing asked for is offered: expand() refuses the run
  }

  void probe(const Borrowed& b, Capabilities& c) const override {
    const ZramDevices* d = zram_devices(b);
    c.zram = !d || d->reason.empty();
    c.zram_reason = d ? d->reason : "";
    c.zram_offered = d ? d->offered : std::vector<std::string>{};
  }

  void release(Borrowed& b) const override {
    ZramDevices* d = devices_of(b);
    if (!d) return;
    for (const auto& z : d->devices) z->swapoff();
    d->active = nullptr;
  }

  void activate(Borrowed& b, const std::string& compressor, nlohmann::json& sb) const override {
    ZramDevices* d = devices_of(b);
    ZramGuard* mine = nullptr;
    if (d)
      for (const auto& z : d->devices)
        if (z->compressor() == compressor) mine = z.get();
    if (!mine) throw SystemError("no zram device was made for compressor " + compressor);
    // Off first, then on: two of the suite's areas are never on together.
    for (const auto& z : d->devices)
      if (z.get() != mine) z->swapoff();
    mine->swapon(kSwapPriority);
    d->active = mine;
    sb["zram"] = {{"device", mine->device()}, {"diskseq", mine->diskseq()}, {"comp_algorithm", mine->compressor()},
                  {"disksize_bytes", mine->disksize()}};
  }

  // pswpin counts every swap device: only the device's own counters show the pages came from it.
  Stats snapshot(const Borrowed& b) const override {
    const ZramDevices* d = zram_devices(b);
    return d && d->active ? d->active->stats() : Stats{};
  }

  void record(const Stats& pre, const Stats& stored, nlohmann::json& sb) const override {
    nlohmann::json& z = sb["zram"];
    const nlohmann::json footprint = zram_footprint(pre, stored);  // named: items() of a temporary would dangle
    for (const auto& [k, val] : footprint.items()) z[k] = val;
    nlohmann::json dev = nlohmann::json::object();
    for (const auto& [k, val] : stored)
      if (k.rfind("mm_stat.", 0) == 0) dev[k.substr(8)] = val;
    z["mm_stat_stored"] = dev;
  }

  void context(const Borrowed& b, nlohmann::json& ctx) const override {
    const ZramDevices* d = zram_devices(b);
    nlohmann::json devs = nlohmann::json::array();
    if (d)
      for (const auto& z : d->devices)
        devs.push_back({{"device", z->device()}, {"diskseq", z->diskseq()}, {"comp_algorithm", z->compressor()},
                        {"disksize_bytes", z->disksize()}, {"priority", kSwapPriority}});
    ctx["zram"] = {{"available", !d || d->reason.empty()}, {"reason", d ? d->reason : ""},
                   {"offered", d ? d->offered : std::vector<std::string>{}}, {"devices", devs},
                   {"note", "one swap area on at a time: a set's own (its zram device, or the swap file)"}};
  }
};

const BackendRegistrar registrar(std::make_unique<Zram>());

}  // namespace
}  // namespace swapbench
