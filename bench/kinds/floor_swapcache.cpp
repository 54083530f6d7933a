// floor_swapcache: disk pages pushed out but left in the swap cache, then faulted back in: a minor
// fault that finds the page in the swap cache, the floor under every disk swap-in.
#include "bench/kinds/page_set.h"

namespace swapbench {
namespace {

class SwapcacheFloorSet : public PageSet {
  void prepare(SetRun& run) override {
    if (!start_filled(run)) return;
    push_out(run);
    run.resident_before = r_->resident();
  }
  void time(SetRun& run, benchmark::State& st) override {
    time_faults(run, st, run.sc.write_faults, prof_->first_byte());
  }
  void prove(SetRun& run) override {
    run.verdict = prove_swapcache_floor(run.sc.pages, run.resident_before, run.delta.vmstat);
    check_pages(run);
  }
};

class SwapcacheFloor : public SetKind {
 public:
  SwapcacheFloor()
      : SetKind({.name = "floor_swapcache",
                 .short_name = "floor-cache",
                 .description = "the floor under disk swap-in: faults on pages still in the swap cache",
                 .floor = true,
                 .backends = {Backend::Disk}}) {}

  void expand(Expander& x, const SetSite& at) const override {
    if (!x.plan.has(Backend::Disk)) return;
    SetSite disk = at;
    disk.backend = Backend::Disk;
    x.add(x.set(info.name, disk, x.plan.patterns.front()));
  }
  std::unique_ptr<SetPhases> phases() const override { return std::make_unique<SwapcacheFloorSet>(); }
};

const KindRegistrar registrar(std::make_unique<SwapcacheFloor>());

}  // namespace
}  // namespace swapbench
