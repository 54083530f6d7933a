// floor_firsttouch: the first write to fresh anonymous pages, the floor under every fault. It
// borrows nothing, so it is also what an ordinary user can run. The smallest kind: copy it to
// start a new one (a kind is this one file; bench/kind.h documents every hook).
#include "bench/kinds/page_set.h"

namespace swapbench {
namespace {

class FirsttouchFloorSet : public PageSet {
  void prepare(SetRun& run) override {
    start(run);
    try {
      r_ = std::make_unique<Region>(run.sc.pages, run.plan.thp);
    } catch (const std::exception& e) {
      run.rec.error = std::string("setting up the region failed: ") + e.what();
    }
  }
  void time(SetRun& run, benchmark::State& st) override { time_faults(run, st, true, 0); }
  void prove(SetRun& run) override {
    run.verdict = prove_firsttouch_floor(run.sc.pages, run.delta.vmstat);
    run.sb["stamps"] = {{"checked", 0}, {"failed", 0}, {"note", "fresh pages carry no stamp"}};
  }
};

class FirsttouchFloor : public SetKind {
 public:
  FirsttouchFloor()
      : SetKind({.name = "floor_firsttouch",
                 .short_name = "floor-touch",
                 .description = "the floor under every fault: the first write to fresh anonymous pages",
                 .privileged = false,
                 .floor = true,
                 .fault_option = false}) {}  // it always writes

  void expand(Expander& x, const SetSite& at) const override {
    SetSite fresh = at;
    fresh.profile = ProfileSpec{ProfileKind::Zero, 2.0, ""};
    x.add(x.set(info.name, fresh, Pattern::Sequential));
  }
  std::unique_ptr<SetPhases> phases() const override { return std::make_unique<FirsttouchFloorSet>(); }
};

const KindRegistrar registrar(std::make_unique<FirsttouchFloor>());

}  // namespace
}  // namespace swapbench
