// zram: a device the run makes per compressor, the only swap area on under its sets. Devices are
// made, journalled and taken back by workloads/system/zram.cpp; here is what a run does with them.
#include "bench/backends/zram.h"

#include <algorithm>

#include "bench/backend.h"
#include "bench/plan.h"
#include "workloads/pages/stamp.h"

namespace swapbench {

const ZramDevices* zram_devices(const Borrowed& b) {
  auto it = b.backend_state.find(Backend::Zram);
  return it == b.backend_state.end() ? nullptr : static_cast<const ZramDevices*>(it->second.get());
}

ZramOffer offer_of_zram(Journal& j, SysOps& ops) {
  ZramOffer o;
  if (auto why = zram_problem(ops)) {
    o.reason = *why;
    return o;
  }
  o.device = std::make_unique<ZramGuard>(j, ops);
  o.offered = o.device->algorithms().offered;
  return o;
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
                     .rank = 2,
                     .set_rank = 1,
                     .every_compressor = "(every offered)",
                     .missing_fix = "modprobe zram, or a kernel with CONFIG_ZRAM (./swapbench check)"}) {}

  // zram is a swap device: its pages count in pswpin/pswpout like a disk's; zswap is off.
  void expect_path(ProofRules& r, int64_t n, SwapDirection dir) const override {
    r.v.path = "zram";
    r.expect("pswp" + dir_name(dir), n);
    if (r.d.count("zswp" + dir_name(dir))) r.expect("zswp" + dir_name(dir), 0);
  }

  // The device's own account: exactly the pages' sectors read (in) or written (out), none failed.
  // A zero page never reaches it (6.12+: the swap core's zeromap), so zero sectors then.
  void expect_own(ProofRules& r, const Stats& own, int64_t n, SwapDirection dir) const override {
    const bool in = dir == SwapDirection::In;
    const int64_t sectors = r.v.path == "zero" ? 0 : n * static_cast<int64_t>(kPageSize / 512);
    const std::string where = "the zram device's counters (/sys/block/zramN/stat, io_stat)";
    r.expect_in(own, in ? "stat.read_sectors" : "stat.write_sectors", sectors, where);
    r.expect_in(own, in ? "io_stat.failed_reads" : "io_stat.failed_writes", 0, where);
    // Stored, every one (same-filled and incompressible pages count too). Not asked of swap-in: up
    // to 6.13 the swap slot cache frees slots (and so zram's copies) in batches, later.
    if (!in) r.expect_in(own, "mm_stat.orig_data_size", sectors * 512, "the zram device's mm_stat");
  }

  // zram compresses the page into the device before MADV_PAGEOUT returns.
  bool stores_synchronously() const override { return true; }

  void borrow(Borrowed& b, const Plan& p) const override {
    auto z = std::make_unique<ZramDevices>();
    ZramDevices& d = *z;
    b.backend_state[Backend::Zram] = std::move(z);
    Journal& j = b.session->journal();
    // The first device tells what zram offers; it then serves the first compressor used.
    ZramOffer o = offer_of_zram(j, b.ops);
    if (!o.reason.empty()) {
      d.reason = o.reason;
      return;
    }
    d.devices.push_back(std::move(o.device));
    d.offered = std::move(o.offered);
    bool first = true;
    for (const auto& c : p.compressors.empty() ? d.offered : p.compressors) {
      if (!std::count(d.offered.begin(), d.offered.end(), c)) continue;  // expand() says why
      if (!first) d.devices.push_back(std::make_unique<ZramGuard>(j, b.ops));
      d.devices.back()->configure(c, p.swap_bytes);
      first = false;
    }
    if (first) d.devices.clear();  // nothing asked for is offered: expand() refuses the run
  }

  void probe(const Borrowed& b, BackendCaps& c) const override {
    const ZramDevices* d = zram_devices(b);
    c.available = !d || d->reason.empty();
    c.reason = d ? d->reason : "";
    c.compressors = d ? d->offered : std::vector<std::string>{};
  }

  std::string refusal(const BackendCaps& c, const std::string& name) const override {
    return "zram here does not offer it; a zram device offers: " + comma_list(c.compressors) +
           " (its comp_algorithm; a kernel built with CONFIG_ZRAM_BACKEND_" + name + " or its crypto option offers more)";
  }
  std::string refusal_fix(const std::string&) const override { return "--compressor one it offers"; }

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
